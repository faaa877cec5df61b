/**
 * The shop's orders: what was bought, what the payment platform says about the payment, what was
 * shipped and refunded, and the history customer support reads. Pure functions; orderStore.ts keeps them.
 */
import type { State } from '@kassa/sdk';
import type { Cart } from './cart.ts';
import { CURRENCY, productBySku } from './catalog.ts';

export interface OrderLine {
  sku: string;
  name: string;
  /** Minor units. */
  unitPrice: number;
  quantity: number;
  shipped: number;
}

export interface Amounts {
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
}

export interface HistoryEntry {
  /** ISO time. */
  at: string;
  /** `payment` (state changes), `event` (platform events by webhook), `action` (staff or keeper), `error`. */
  kind: 'payment' | 'event' | 'action' | 'error';
  text: string;
  /** Who saw or did it: `webhook`, `poll`, `return page`, `staff`, `reservation keeper`, `shop`. */
  source: string;
}

/** A capture or refund the shop asked for, with the key that makes a repeat of it harmless. */
export interface Operation {
  kind: 'capture' | 'refund' | 'cancel';
  amount: number;
  idempotencyKey: string;
  at: string;
  done: boolean;
  /** For a capture: the quantities shipped with it, by SKU (given back if the capture is refused). */
  shipped?: Record<string, number>;
}

export interface Order {
  reference: string;
  number: number;
  createdAt: string;
  lines: OrderLine[];
  currency: string;
  total: number;
  /** The platform's payment state; `NEW` before the payment was created. */
  paymentState: State | 'NEW';
  authorizedAt?: string;
  redirectUrl?: string;
  amounts: Amounts;
  operations: Operation[];
  /** No more shipping: whatever is still reserved is to be released. */
  closed: boolean;
  closeReason?: string;
  history: HistoryEntry[];
  /** Deduplication keys of the webhook events already recorded (platform-guidelines §4.3). */
  seenEvents: string[];
}

export const ZERO: Amounts = { authorized: 0, captured: 0, cancelled: 0, refunded: 0 };

export function orderFromCart(cart: Cart, number: number, reference: string, now: Date): Order {
  const lines: OrderLine[] = [];
  for (const [sku, quantity] of cart) {
    const product = productBySku(sku);
    if (product) lines.push({ sku, name: product.name, unitPrice: product.price, quantity, shipped: 0 });
  }
  return {
    reference,
    number,
    createdAt: now.toISOString(),
    lines,
    currency: CURRENCY,
    total: lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0),
    paymentState: 'NEW',
    amounts: { ...ZERO },
    operations: [],
    closed: false,
    history: [],
    seenEvents: [],
  };
}

/** Value of the goods shipped so far. */
export function shippedValue(order: Order): number {
  return order.lines.reduce((sum, line) => sum + line.unitPrice * line.shipped, 0);
}

/** Still reserved on the payment: authorized − captured − cancelled (epayment-api §8). */
export function reserved(order: Order): number {
  const a = order.amounts;
  return a.authorized - a.captured - a.cancelled;
}

export function refundable(order: Order): number {
  return order.amounts.captured - order.amounts.refunded;
}

/** The status a customer or a support agent reads, derived from the payment and the shipments. */
export function statusOf(order: Order): string {
  switch (order.paymentState) {
    case 'NEW':
    case 'CREATED':
      return 'Awaiting payment';
    case 'ABORTED':
      return 'Payment cancelled by the customer';
    case 'EXPIRED':
      return 'Payment not completed in time';
    case 'TERMINATED':
      return 'Cancelled';
  }
  const a = order.amounts;
  const refunded = a.refunded > 0 ? (a.refunded === a.captured ? ', refunded' : ', partly refunded') : '';
  if (a.captured === 0 && a.cancelled > 0) return `Cancelled${order.closeReason ? ` (${order.closeReason})` : ''}`;
  if (a.captured > 0 && a.captured + a.cancelled >= a.authorized) {
    return `${a.cancelled > 0 ? 'Partly shipped, rest cancelled' : 'Shipped'}${refunded}`;
  }
  if (a.captured > 0) return `Partly shipped${refunded}`;
  return 'Paid — ready to ship';
}

export function record(order: Order, kind: HistoryEntry['kind'], text: string, source: string, now: Date): void {
  order.history.push({ at: now.toISOString(), kind, text, source });
}
