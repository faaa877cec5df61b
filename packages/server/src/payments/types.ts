/** The payment aggregate as the domain sees it: no SQL, no HTTP. */

export type State = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED';
export type EventName = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'CANCELLED' | 'CAPTURED' | 'REFUNDED' | 'TERMINATED';
export type Currency = 'NOK' | 'DKK' | 'EUR' | 'SEK' | 'USD' | 'GBP';
export type Market = 'NO' | 'DK' | 'FI';
export type UserFlow = 'PUSH_MESSAGE' | 'NATIVE_REDIRECT' | 'WEB_REDIRECT' | 'QR';
export type PaymentMethodType = 'WALLET' | 'CARD' | 'CARD_PASSTHROUGH';

export const finalStates: ReadonlySet<State> = new Set(['AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED']);

export interface Amounts {
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
}

export interface Payment {
  id: number;
  msn: string;
  reference: string;
  pspReference: string;
  state: State;
  currency: Currency;
  /** Minor units; for Express after authorization it includes the chosen shipping cost. */
  amount: number;
  aggregate: Amounts;
  userFlow: UserFlow;
  paymentMethodType: PaymentMethodType;
  cardBin: string | null;
  redirectToken: string | null;
  /** The accepted create request (customer, receipt, metadata, profile, shipping, ...). */
  request: Record<string, unknown>;
  customerPhone: string | null;
  createdAt: Date;
  expiresAt: Date;
  authorizedAt: Date | null;
  captureDeadline: Date | null;
  captureGuaranteedUntil: Date | null;
  profileSub: string | null;
  userDetails: Record<string, unknown> | null;
  shippingDetails: Record<string, unknown> | null;
  processingUntil: Date | null;
}

/** An event the domain decided on; the store gives it its own pspReference. */
export interface NewEvent {
  name: EventName;
  amount: number;
  idempotencyKey: string | null;
  success: boolean;
  /** Extra webhook payload of this event (authorized: userDetails, sub, captureGuaranteedUntil, ...). */
  extra?: Record<string, unknown>;
}

export interface PaymentEvent extends NewEvent {
  msn: string;
  reference: string;
  pspReference: string;
  currency: Currency;
  occurredAt: Date;
}

/** A state change: the payment after it and the events it produced, written in one transaction. */
export interface Transition {
  payment: Payment;
  events: NewEvent[];
}
