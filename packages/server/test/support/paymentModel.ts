/**
 * Drives the pure state machine (src/payments/stateMachine.ts) with the commands a payment can meet —
 * the user approving or rejecting, the merchant capturing, refunding, cancelling, and time passing —
 * the way the server does: what time has done is applied before every command (lockedPayment.ts).
 * The property tests use it on its own, and as the model the HTTP server must agree with.
 */
import fc from 'fast-check';
import { DomainError } from '../../src/errors.ts';
import { defaultSettings, type SalesUnit } from '../../src/payments/salesUnits.ts';
import {
  abortPayment,
  authorizePayment,
  cancelPayment,
  capturePayment,
  refundPayment,
  transitionDueAt,
} from '../../src/payments/stateMachine.ts';
import type { Market, NewEvent, Payment, Transition } from '../../src/payments/types.ts';

export const MINUTE = 60 * 1000;
export const DAY = 24 * 60 * MINUTE;

export type Command =
  | { kind: 'approve' }
  | { kind: 'reject' }
  | { kind: 'capture'; value: number }
  | { kind: 'refund'; value: number }
  | { kind: 'cancel'; cancelTransactionOnly: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' }
  /** The user enters authorization (card callback, 3-D Secure) for a while. */
  | { kind: 'processing'; ms: number };

/** A refusal's platform code, or null for success. */
export type Outcome = number | null;

export interface Model {
  unit: SalesUnit;
  payment: Payment;
  events: NewEvent[];
  now: Date;
}

export function newModel(unit: SalesUnit, amount: number, now: Date): Model {
  const payment: Payment = {
    id: 1,
    msn: unit.msn,
    reference: 'model-payment',
    pspReference: 'model',
    state: 'CREATED',
    currency: unit.currency,
    amount,
    aggregate: { authorized: 0, captured: 0, cancelled: 0, refunded: 0 },
    userFlow: 'WEB_REDIRECT',
    paymentMethodType: 'WALLET',
    cardBin: null,
    redirectToken: 'token',
    request: {},
    customerPhone: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 10 * MINUTE),
    authorizedAt: null,
    captureDeadline: null,
    captureGuaranteedUntil: null,
    profileSub: null,
    userDetails: null,
    shippingDetails: null,
    processingUntil: null,
  };
  return { unit, payment, events: [{ name: 'CREATED', amount, idempotencyKey: 'create', success: true }], now };
}

export function salesUnit(market: Market, settings: Partial<SalesUnit['settings']> = {}): SalesUnit {
  const currency = market === 'NO' ? 'NOK' : market === 'DK' ? 'DKK' : 'EUR';
  return { msn: '123456', name: 'Model unit', market, currency, settings: { ...defaultSettings(market), ...settings } };
}

function apply(model: Model, transition: Transition): void {
  model.payment = transition.payment;
  model.events.push(...transition.events);
}

/** Runs one command as the server would; returns the refusal code, or null when it succeeded. */
export function step(model: Model, command: Command, key: string): Outcome {
  if (command.kind === 'advance') {
    model.now = new Date(model.now.getTime() + command.ms);
    return null;
  }
  const due = transitionDueAt(model.payment, model.now);
  if (due) apply(model, due);
  try {
    const { payment, unit, now } = model;
    switch (command.kind) {
      case 'sweep':
        return null;
      case 'processing':
        if (payment.state === 'CREATED') model.payment = { ...payment, processingUntil: new Date(now.getTime() + command.ms) };
        return null;
      case 'approve':
        // Force approve refuses anything but CREATED with 10010 (spec §10).
        if (payment.state !== 'CREATED') return 10010;
        apply(
          model,
          authorizePayment(
            payment,
            unit,
            {
              amount: payment.amount,
              idempotencyKey: 'create',
              cardBin: '479694',
              captureGuaranteedDays: 7,
              profileSub: null,
              userDetails: null,
              shippingDetails: null,
              customerPhone: null,
            },
            now,
          ),
        );
        return null;
      case 'reject':
        apply(model, abortPayment(payment, now));
        return null;
      case 'capture':
        apply(model, capturePayment(payment, unit, command.value, key, now));
        return null;
      case 'refund':
        apply(model, refundPayment(payment, unit, command.value, key, now, true));
        return null;
      case 'cancel':
        apply(model, cancelPayment(payment, command.cancelTransactionOnly, key, now));
        return null;
    }
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

/** Sums of the event log per aggregate figure (spec §11.2). */
export function totalsOfEvents(events: readonly Pick<NewEvent, 'name' | 'amount' | 'success'>[]) {
  const sum = (...names: string[]) => events.filter((e) => e.success && names.includes(e.name)).reduce((t, e) => t + e.amount, 0);
  return { authorized: sum('AUTHORIZED'), captured: sum('CAPTURED'), cancelled: sum('CANCELLED', 'TERMINATED'), refunded: sum('REFUNDED') };
}

/**
 * Time steps chosen so that no short sequence of them lands within a few milliseconds of a limit
 * (10 minutes, 14/180 days, 365 days): a model and a server whose clocks differ by the milliseconds a
 * request takes then always agree which side of a limit they are on.
 */
export const coarseSteps = [9 * MINUTE, 11 * MINUTE, 13 * DAY, 15 * DAY, 179 * DAY, 181 * DAY, 364 * DAY, 366 * DAY];

/** Commands for a payment of `amount`; amounts around the interesting limits, time in `steps`. */
export function commandArbitrary(amount: number, advance: fc.Arbitrary<number>): fc.Arbitrary<Command> {
  const value = fc.oneof(
    fc.integer({ min: 1, max: Math.ceil(amount * 1.2) }),
    fc.constant(amount),
    fc.integer({ min: 1, max: Math.max(1, Math.floor(amount / 4)) }),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Command>({ kind: 'approve' }) },
    { weight: 1, arbitrary: fc.constant<Command>({ kind: 'reject' }) },
    { weight: 5, arbitrary: value.map((v): Command => ({ kind: 'capture', value: v })) },
    {
      weight: 4,
      arbitrary: fc.oneof(value, fc.constantFrom(123, 124)).map((v): Command => ({ kind: 'refund', value: v })),
    },
    { weight: 2, arbitrary: fc.boolean().map((cto): Command => ({ kind: 'cancel', cancelTransactionOnly: cto })) },
    { weight: 2, arbitrary: advance.map((ms): Command => ({ kind: 'advance', ms })) },
    { weight: 1, arbitrary: fc.constant<Command>({ kind: 'sweep' }) },
  );
}
