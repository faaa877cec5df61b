/**
 * Everything the shop does with the payment platform, on @kassa/sdk:
 *
 * - checkout: one order, one `WEB_REDIRECT` payment whose `returnUrl` carries the order reference, so the
 *   return page works in any browser and needs no session (platform-guidelines §10.2);
 * - payment state from webhooks *and* polling together (the tracker, §5), each change recorded once;
 * - ship → capture of exactly what was shipped (§14: capture only on delivery), partial refunds, and
 *   closing an order, which releases what is still reserved;
 * - the reservation keeper for abandoned orders: paid but not shipped within `abandonAfterMs`, or closed,
 *   or near the capture deadline → the reservation is cancelled;
 * - one Idempotency-Key per operation, derived from the order and stored before the call, so a repeat
 *   after a crash or a lost answer cannot act twice (§3.3).
 */
import {
  ApiError,
  type Client,
  createPaymentTracker,
  createReservationKeeper,
  eventKey,
  type GetPaymentResponse,
  type LogEntry,
  type PaymentTracker,
  type ReservationContext,
  type ReservationDecision,
  type ReservationKeeper,
  type ReservationReport,
  type Scheduler,
  type State,
  type WebhookPayload,
} from '@kassa/sdk';
import type { Cart } from './cart.ts';
import { formatMoney } from './money.ts';
import type { OrderStore } from './orderStore.ts';
import { type Operation, type Order, orderFromCart, record, refundable, reserved, shippedValue } from './orders.ts';

export type ShopLogger = (entry: LogEntry) => void;

export interface ShopPaymentsOptions {
  client: Client;
  store: OrderStore;
  /** Where customers reach the shop, e.g. `https://shop.example` (the returnUrl is built from it). */
  publicUrl: string;
  merchantSerialNumber: string;
  log: ShopLogger;
  scheduler: Scheduler;
  /** Paid orders not shipped within this long are abandoned: their reservation is cancelled. */
  abandonAfterMs: number;
}

/** A staff action refused by the shop itself (nothing was sent to the platform). */
export class ShopError extends Error {}

export class ShopPayments {
  readonly tracker: PaymentTracker;
  readonly keeper: ReservationKeeper;
  readonly #o: ShopPaymentsOptions;
  /** Why the keeper's rule decided to cancel, for the order's history. */
  readonly #keeperReasons = new Map<string, string>();

  constructor(options: ShopPaymentsOptions) {
    this.#o = options;
    this.tracker = createPaymentTracker({
      epayment: options.client.epayment,
      scheduler: options.scheduler,
      logger: options.log,
      onChange: (change) => this.applyState(change.reference, change.state, change.source, change.payment),
    });
    this.keeper = createReservationKeeper({
      epayment: options.client.epayment,
      store: {
        authorizedReferences: () => options.store.withReservation(),
        settled: (reference, report) => this.#keeperSettled(reference, report),
      },
      rule: (context) => this.#keeperRule(context),
      atDeadline: 'cancel',
      scheduler: options.scheduler,
      logger: options.log,
    });
  }

  #now(): Date {
    return new Date(this.#o.scheduler.now());
  }

  /** Creates the order and its payment; returns the order with the URL to send the customer to. */
  async checkout(cart: Cart): Promise<Order> {
    const { store, client } = this.#o;
    const number = store.nextNumber();
    // Readable, unique, ≤ 64 characters (§7): shop name, order number, a random part against guessing.
    const reference = `kassashop-${number}-${Math.random().toString(36).slice(2, 8)}`;
    const order = orderFromCart(cart, number, reference, this.#now());
    if (order.lines.length === 0) throw new ShopError('The cart is empty.');
    record(order, 'action', `Order placed: ${formatMoney(order.total, order.currency)}`, 'shop', this.#now());
    store.add(order);
    this.#log('info', 'order.created', `order ${number} placed`, { reference, total: order.total });

    const created = await client.epayment.createPayment(
      {
        amount: { currency: 'NOK', value: order.total },
        paymentMethod: { type: 'WALLET' },
        reference,
        userFlow: 'WEB_REDIRECT',
        returnUrl: `${this.#o.publicUrl}/return?reference=${encodeURIComponent(reference)}`,
        paymentDescription: `Order ${number} from Kassa Shop`,
        receipt: {
          orderLines: order.lines.map((line) => ({
            name: line.name,
            id: line.sku,
            totalAmount: line.unitPrice * line.quantity,
            totalAmountExcludingTax: Math.round((line.unitPrice * line.quantity) / 1.25),
            totalTaxAmount: line.unitPrice * line.quantity - Math.round((line.unitPrice * line.quantity) / 1.25),
            taxRate: 2500,
            unitInfo: { unitPrice: line.unitPrice, quantity: String(line.quantity) },
          })),
          bottomLine: { currency: 'NOK', receiptNumber: String(number) },
        },
      },
      { idempotencyKey: `create-${reference}` },
    );
    await store.update(reference, (o) => {
      o.paymentState = 'CREATED';
      if (created.redirectUrl) o.redirectUrl = created.redirectUrl;
      record(o, 'payment', 'Payment created, customer sent to Vipps MobilePay', 'shop', this.#now());
    });
    this.tracker.track(reference, { msn: this.#o.merchantSerialNumber });
    return store.get(reference) as Order;
  }

  /** A state change from any channel; the same state twice is recorded once. */
  async applyState(reference: string, state: State, source: string, payment?: GetPaymentResponse): Promise<void> {
    const changed = await this.#o.store.update(reference, (order) => {
      if (payment) order.amounts = laterAmounts(order.amounts, payment.aggregate);
      if (order.paymentState === state) return false;
      // Final states never change (epayment-api §11.1); a late CREATED must not undo one.
      if (order.paymentState !== 'NEW' && order.paymentState !== 'CREATED') return false;
      order.paymentState = state;
      if (state === 'AUTHORIZED') order.authorizedAt ??= this.#now().toISOString();
      record(order, 'payment', `Payment ${state}`, source, this.#now());
      return true;
    });
    if (!changed) return;
    this.#log('info', 'payment.state_changed', `${reference}: ${state} (seen by ${source})`, { reference, state, source });
    // The amounts come from the API, the truth for money (§4.3).
    if (state === 'AUTHORIZED' && !payment) await this.refresh(reference, source).catch(() => {});
  }

  /** Reads the payment and takes its state and amounts (return page, staff "refresh", after webhooks). */
  async refresh(reference: string, source: string): Promise<Order | undefined> {
    if (!this.#o.store.get(reference)) return undefined;
    const payment = await this.#o.client.epayment.getPayment(reference);
    await this.applyState(reference, payment.state, source, payment);
    return this.#o.store.get(reference);
  }

  /** A verified webhook: recorded in the order's history (once), handed to the tracker, amounts refreshed. */
  async handleWebhook(payload: WebhookPayload): Promise<void> {
    if (payload.kind !== 'epayment') {
      this.#log('info', 'webhook.ignored', `webhook of kind ${payload.kind} ignored`, {});
      return;
    }
    const event = payload.data;
    const order = this.#o.store.get(event.reference);
    if (!order || event.msn !== this.#o.merchantSerialNumber) {
      this.#log('warn', 'webhook.unknown_order', `webhook for unknown order ${event.reference}`, {
        reference: event.reference,
        name: event.name,
      });
      return;
    }
    const key = eventKey(event);
    const isNew = await this.#o.store.update(event.reference, (o) => {
      if (o.seenEvents.includes(key)) return false;
      o.seenEvents.push(key);
      const outcome = event.success ? '' : ' — FAILED';
      record(o, 'event', `${event.name} ${formatMoney(event.amount.value, event.amount.currency)}${outcome}`, 'webhook', this.#now());
      return true;
    });
    if (!isNew) {
      this.#log('debug', 'webhook.duplicate', `duplicate ${event.name} for ${event.reference}`, { reference: event.reference });
      return;
    }
    this.#log('info', 'webhook.received', `${event.name} for ${event.reference}`, {
      reference: event.reference,
      name: event.name,
      success: event.success,
    });
    this.tracker.handleWebhook(payload);
    if (['CAPTURED', 'REFUNDED', 'CANCELLED'].includes(event.name)) await this.refresh(event.reference, 'webhook');
  }

  /** Staff shipped `quantities` of the order's lines: capture exactly their value. */
  async ship(reference: string, quantities: Record<string, number>): Promise<Order> {
    const operation = await this.#o.store.update(reference, (order) => {
      if (order.paymentState !== 'AUTHORIZED') throw new ShopError('Only a paid order can be shipped.');
      if (order.closed) throw new ShopError('The order is closed.');
      if (order.operations.some((op) => !op.done))
        throw new ShopError('A payment operation of this order is still unconfirmed; retry it first.');
      let amount = 0;
      const shipped: Record<string, number> = {};
      for (const line of order.lines) {
        const n = Math.min(Math.max(0, Math.floor(quantities[line.sku] ?? 0)), line.quantity - line.shipped);
        if (n > 0) shipped[line.sku] = n;
        amount += n * line.unitPrice;
      }
      if (amount === 0) throw new ShopError('Nothing selected to ship.');
      if (amount > reserved(order)) throw new ShopError('The shipment is worth more than is still reserved.');
      for (const line of order.lines) line.shipped += shipped[line.sku] ?? 0;
      const op = this.#newOperation(order, 'capture', amount);
      op.shipped = shipped;
      record(order, 'action', `Shipped goods worth ${formatMoney(amount, order.currency)}; capturing`, 'staff', this.#now());
      return op;
    });
    return this.#perform(reference, operation);
  }

  async refund(reference: string, amount: number): Promise<Order> {
    const operation = await this.#o.store.update(reference, (order) => {
      if (!Number.isInteger(amount) || amount <= 0) throw new ShopError('Give the amount to refund.');
      if (amount > refundable(order)) throw new ShopError(`At most ${formatMoney(refundable(order), order.currency)} can be refunded.`);
      if (order.operations.some((op) => !op.done))
        throw new ShopError('A payment operation of this order is still unconfirmed; retry it first.');
      const op = this.#newOperation(order, 'refund', amount);
      record(order, 'action', `Refund of ${formatMoney(amount, order.currency)} requested`, 'staff', this.#now());
      return op;
    });
    return this.#perform(reference, operation);
  }

  /**
   * Closes the order: nothing more will ship. Before payment the payment is cancelled (TERMINATED);
   * after it whatever is still reserved is released at once (§14 "Release funds").
   */
  async close(reference: string, reason: string, source = 'staff'): Promise<Order> {
    const operation = await this.#o.store.update(reference, (order) => {
      if (order.closed) throw new ShopError('The order is already closed.');
      if (!['CREATED', 'AUTHORIZED'].includes(order.paymentState)) throw new ShopError('There is no payment to cancel.');
      order.closed = true;
      order.closeReason = reason;
      record(order, 'action', `Order closed: ${reason}`, source, this.#now());
      if (order.paymentState === 'AUTHORIZED' && reserved(order) === 0) return undefined;
      return this.#newOperation(order, 'cancel', order.paymentState === 'AUTHORIZED' ? reserved(order) : order.total);
    });
    if (operation) return this.#perform(reference, operation);
    return this.#o.store.get(reference) as Order;
  }

  /** Repeats unconfirmed operations with their own keys (after a crash or a lost answer). */
  async retryPending(reference: string): Promise<Order> {
    const pending = this.#o.store.get(reference)?.operations.filter((op) => !op.done) ?? [];
    for (const op of pending) await this.#perform(reference, op);
    return this.#o.store.get(reference) as Order;
  }

  /** On start: follow payments that may still change, read the others once. */
  async resume(): Promise<void> {
    const now = this.#o.scheduler.now();
    for (const order of this.#o.store.all()) {
      if (order.paymentState !== 'CREATED') continue;
      const createdAt = Date.parse(order.createdAt);
      if (now - createdAt < 11 * 60 * 1000) this.tracker.track(order.reference, { msn: this.#o.merchantSerialNumber, createdAt });
      else await this.refresh(order.reference, 'poll').catch(() => {});
    }
  }

  #newOperation(order: Order, kind: Operation['kind'], amount: number): Operation {
    const n = order.operations.filter((op) => op.kind === kind).length + 1;
    const op: Operation = { kind, amount, idempotencyKey: `${kind}-${order.reference}-${n}`, at: this.#now().toISOString(), done: false };
    order.operations.push(op);
    return op;
  }

  /**
   * Sends an operation that is already stored with its key. A definite refusal (4xx) is undone and
   * reported; an unknown outcome (no answer after the SDK's retries) stays pending for `retryPending`.
   */
  async #perform(reference: string, op: Operation): Promise<Order> {
    const { client, store } = this.#o;
    const order = store.get(reference) as Order;
    const money = { modificationAmount: { currency: 'NOK' as const, value: op.amount } };
    try {
      const result =
        op.kind === 'capture'
          ? await client.epayment.capturePayment(reference, money, { idempotencyKey: op.idempotencyKey })
          : op.kind === 'refund'
            ? await client.epayment.refundPayment(reference, money, { idempotencyKey: op.idempotencyKey })
            : await client.epayment.cancelPayment(reference, {}, { idempotencyKey: op.idempotencyKey });
      await store.update(reference, (o) => {
        const stored = o.operations.find((x) => x.idempotencyKey === op.idempotencyKey);
        if (stored) stored.done = true;
        o.amounts = laterAmounts(o.amounts, result.aggregate);
        if (result.state !== o.paymentState && o.paymentState === 'CREATED') o.paymentState = result.state;
        record(o, 'action', `${verb(op.kind)} ${formatMoney(op.amount, o.currency)} confirmed`, 'staff', this.#now());
      });
      this.#log('info', `order.${PAST[op.kind]}`, `${reference}: ${op.kind} ${op.amount} confirmed`, {
        reference,
        amount: op.amount,
        idempotencyKey: op.idempotencyKey,
      });
    } catch (error) {
      const definite =
        error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 423;
      await store.update(reference, (o) => {
        if (definite) {
          o.operations = o.operations.filter((x) => x.idempotencyKey !== op.idempotencyKey);
          for (const line of o.lines) line.shipped -= op.shipped?.[line.sku] ?? 0;
          if (op.kind === 'cancel') o.closed = false;
        }
        const what = definite ? 'refused' : 'outcome unknown — will be retried with the same key';
        record(
          o,
          'error',
          `${verb(op.kind)} ${formatMoney(op.amount, o.currency)} ${what}: ${(error as Error).message}`,
          'shop',
          this.#now(),
        );
      });
      this.#log('error', `order.${op.kind}_failed`, (error as Error).message, {
        reference,
        idempotencyKey: op.idempotencyKey,
        definite,
        ...(error instanceof ApiError ? { status: error.status, errorCode: error.errorCode, traceId: error.traceId } : {}),
      });
      throw error;
    }
    return store.get(reference) ?? order;
  }

  #keeperRule(context: ReservationContext): ReservationDecision {
    const order = this.#o.store.get(context.reference);
    if (!order || order.operations.some((op) => !op.done)) return { action: 'wait' };
    if (order.closed) {
      this.#keeperReasons.set(context.reference, order.closeReason ?? 'order closed');
      return { action: 'cancel' };
    }
    const paidAt = Date.parse(order.authorizedAt ?? context.authorizedAt.toISOString());
    if (shippedValue(order) === 0 && this.#o.scheduler.now() - paidAt > this.#o.abandonAfterMs) {
      this.#keeperReasons.set(context.reference, `not shipped within ${Math.round(this.#o.abandonAfterMs / 86_400_000)} days`);
      return { action: 'cancel' };
    }
    if (context.deadlineNear) this.#keeperReasons.set(context.reference, 'capture deadline near');
    return { action: 'wait' };
  }

  async #keeperSettled(reference: string, report: ReservationReport): Promise<void> {
    const reason = this.#keeperReasons.get(reference) ?? 'nothing left to keep';
    this.#keeperReasons.delete(reference);
    await this.#o.store.update(reference, (order) => {
      if (report.action === 'cancelled' || report.action === 'captured-and-cancelled-rest') {
        order.closed = true;
        order.closeReason ??= reason;
        record(
          order,
          'action',
          `Reservation of ${formatMoney(report.cancelledAmount ?? 0, order.currency)} cancelled: ${reason}`,
          'reservation keeper',
          this.#now(),
        );
      }
    });
    await this.refresh(reference, 'reservation keeper').catch(() => {});
  }

  #log(level: LogEntry['level'], event: string, message: string, fields: Record<string, unknown>): void {
    this.#o.log({ level, event, message, ...fields });
  }
}

/**
 * The order's amounts after reading an aggregate. Readings arrive out of order — a GET sent before a
 * cancel may be answered after the cancel's own answer — and every figure of an aggregate only grows
 * (it is the sum of its events, epayment-api §11.2), so a reading never takes a figure back.
 */
function laterAmounts(known: Order['amounts'], aggregate: GetPaymentResponse['aggregate']): Order['amounts'] {
  return {
    authorized: Math.max(known.authorized, aggregate.authorizedAmount.value),
    captured: Math.max(known.captured, aggregate.capturedAmount.value),
    cancelled: Math.max(known.cancelled, aggregate.cancelledAmount.value),
    refunded: Math.max(known.refunded, aggregate.refundedAmount.value),
  };
}

const PAST: Record<Operation['kind'], string> = { capture: 'captured', refund: 'refunded', cancel: 'cancelled' };

function verb(kind: Operation['kind']): string {
  return kind === 'capture' ? 'Capture of' : kind === 'refund' ? 'Refund of' : 'Cancellation of';
}
