/**
 * The payment state machine and aggregate arithmetic of spec §8, §9 and §11 — pure functions from a
 * payment and a request to a Transition, or a DomainError naming the rule that refused it.
 *
 * The invariants every function keeps (§11.2): a final state never changes; `captured + cancelled ≤
 * authorized` and `refunded ≤ captured` while AUTHORIZED (TERMINATED has authorized 0, cancelled =
 * amount; ABORTED/EXPIRED all zero, open question 11); and each aggregate figure is the sum of its
 * events (authorized = AUTHORIZED, captured = CAPTURED, refunded = REFUNDED, cancelled = CANCELLED +
 * TERMINATED). A refusal changes nothing and yields no event (§11.5, open question 12).
 */
import { DomainError } from '../errors.ts';
import { captureWindowMs, REFUND_WINDOW_MS, type SalesUnit } from './salesUnits.ts';
import type { Payment, Transition } from './types.ts';

const terminalUnauthorized = new Set(['ABORTED', 'EXPIRED', 'TERMINATED']);

/** What can still be captured (§8): the uncaptured, uncancelled part of a reservation; nothing unless AUTHORIZED. */
export function capturable(payment: Payment): number {
  if (payment.state !== 'AUTHORIZED') return 0;
  const { authorized, captured, cancelled } = payment.aggregate;
  return authorized - captured - cancelled;
}

/** What can still be refunded (§9.1): captured and not yet refunded. */
export function refundable(payment: Payment): number {
  return payment.aggregate.captured - payment.aggregate.refunded;
}

function withAggregate(payment: Payment, change: Partial<Payment['aggregate']>, extra: Partial<Payment> = {}): Payment {
  return { ...payment, ...extra, aggregate: { ...payment.aggregate, ...change } };
}

/** The capture deadline is an instant: from it on, capture (6100) and cancel (6030) are over (§11.6). */
function deadlinePassed(payment: Payment, now: Date): boolean {
  return payment.captureDeadline !== null && now.getTime() >= payment.captureDeadline.getTime();
}

/** Capture (spec §8), checked in the order of its rule table; nothing is applied partially. */
export function capturePayment(payment: Payment, unit: SalesUnit, value: number, idempotencyKey: string, now: Date): Transition {
  if (payment.state === 'CREATED') throw new DomainError('captureBeforeReservation', 'The payment is not yet reserved (state CREATED).');
  if (terminalUnauthorized.has(payment.state)) {
    throw new DomainError('cannotBeCaptured', `The payment cannot be captured in state ${payment.state}.`);
  }
  if (deadlinePassed(payment, now)) {
    throw new DomainError('capturePeriodExpired', `The capture period ended at ${payment.captureDeadline?.toISOString()}.`);
  }
  const { authorized, captured, cancelled } = payment.aggregate;
  if (cancelled > 0) throw new DomainError('cannotCaptureCancelled', 'The remaining reservation has been cancelled.');
  if (captured >= authorized) throw new DomainError('alreadyCaptured', 'The full authorized amount has already been captured.');
  if (value > capturable(payment)) {
    throw new DomainError(
      'captureAmountTooHigh',
      `Total captured amount would exceed the authorized amount: ${capturable(payment)} can still be captured.`,
    );
  }
  if (unit.settings.fullCaptureOnly && value !== authorized) {
    throw new DomainError('mustCaptureFullAmount', `This sales unit must capture the full amount (${authorized}).`);
  }
  return {
    payment: withAggregate(payment, { captured: captured + value }),
    events: [{ name: 'CAPTURED', amount: value, idempotencyKey, success: true }],
  };
}

/** Refund magic amounts of the test environment (spec §16). */
const refundMagic: Record<number, 'refundNotPossible' | 'refundPeriodExpired'> = { 123: 'refundNotPossible', 124: 'refundPeriodExpired' };

export function refundPayment(
  payment: Payment,
  unit: SalesUnit,
  value: number,
  idempotencyKey: string,
  now: Date,
  testMode: boolean,
): Transition {
  if (payment.state === 'CREATED') throw new DomainError('refundBeforeReservation', 'The payment is not yet reserved (state CREATED).');
  if (terminalUnauthorized.has(payment.state)) {
    throw new DomainError('cannotBeRefunded', `The payment cannot be refunded in state ${payment.state}.`);
  }
  if (!unit.settings.refundAllowed) throw new DomainError('refundNotPossible', 'Refunds are disabled for this sales unit.');
  // 365 days counted from the reservation, not from the capture (open question 13); the capture
  // deadline does not end refunds.
  const refundEnd = (payment.authorizedAt?.getTime() ?? 0) + REFUND_WINDOW_MS;
  if (now.getTime() >= refundEnd) {
    throw new DomainError(
      'refundPeriodExpired',
      `Refunds were possible for 365 days after the reservation, until ${new Date(refundEnd).toISOString()}.`,
    );
  }
  const { captured, refunded } = payment.aggregate;
  if (captured > 0 && refunded >= captured) throw new DomainError('alreadyRefunded', 'Everything captured has already been refunded.');
  if (value > refundable(payment)) {
    throw new DomainError('notEnoughRefundable', `Only ${refundable(payment)} can be refunded.`);
  }
  const magic = testMode ? refundMagic[value] : undefined;
  if (magic === 'refundNotPossible') throw new DomainError(magic, 'Test amount 123: the user cannot receive refunds.');
  if (magic === 'refundPeriodExpired') throw new DomainError(magic, 'Test amount 124: the refund period has expired.');
  return {
    payment: withAggregate(payment, { refunded: refunded + value }),
    events: [{ name: 'REFUNDED', amount: value, idempotencyKey, success: true }],
  };
}

/**
 * Cancel (spec §9.2): always the whole uncaptured remainder. Before authorization it terminates the
 * payment whatever `cancelTransactionOnly` says; after it, `cancelTransactionOnly` refuses (6060) so a
 * point of sale never releases a reservation the user approved a moment ago. Open question 23: 6190
 * for TERMINATED and for AUTHORIZED with nothing left, 6050 for ABORTED/EXPIRED.
 */
export function cancelPayment(payment: Payment, cancelTransactionOnly: boolean, idempotencyKey: string | null, now: Date): Transition {
  switch (payment.state) {
    case 'CREATED':
      // The user is inside authorization (card callback, 3-D Secure, an issuer yet to answer): 409/6250, retry later (§9.2).
      if (authorizationPending(payment, now)) {
        throw new DomainError('cannotCancelProcessing', 'The user is authorizing the payment right now; try again shortly.');
      }
      return {
        payment: withAggregate(payment, { cancelled: payment.amount, authorized: 0 }, { state: 'TERMINATED' }),
        events: [{ name: 'TERMINATED', amount: payment.amount, idempotencyKey, success: true }],
      };
    case 'ABORTED':
    case 'EXPIRED':
      throw new DomainError('cannotCancelNonReserved', `The payment is not reserved (state ${payment.state}).`);
    case 'TERMINATED':
      throw new DomainError('cannotBeCancelled', 'The payment has already been cancelled.');
    case 'AUTHORIZED': {
      // After the deadline the remainder is already gone (cancelled automatically): 6030 either way.
      if (deadlinePassed(payment, now)) {
        throw new DomainError('cancelPeriodExpired', `The cancel period ended at ${payment.captureDeadline?.toISOString()}.`);
      }
      if (cancelTransactionOnly) {
        throw new DomainError('cannotCancelAuthorized', 'The payment is authorized and cancelTransactionOnly is true.');
      }
      const { authorized, captured, cancelled } = payment.aggregate;
      if (captured >= authorized) throw new DomainError('cannotCancelCaptured', 'The payment is fully captured; refund instead.');
      if (cancelled > 0) throw new DomainError('cannotBeCancelled', 'The remaining reservation has already been cancelled.');
      const remaining = capturable(payment);
      return {
        payment: withAggregate(payment, { cancelled: cancelled + remaining }),
        events: [{ name: 'CANCELLED', amount: remaining, idempotencyKey, success: true }],
      };
    }
  }
}

export interface Authorization {
  /** Amount approved; Express adds the chosen shipping cost to the requested amount. */
  amount: number;
  idempotencyKey: string | null;
  cardBin: string | null;
  captureGuaranteedDays: number;
  profileSub: string | null;
  userDetails: Record<string, unknown> | null;
  shippingDetails: Record<string, unknown> | null;
  customerPhone: string | null;
}

/**
 * The user approved (app, force approve, or a PSP's RESERVE). The capture deadline follows the market
 * (§11.6); `captureGuaranteedUntil` is the card network's guarantee, never later than that deadline.
 */
export function authorizePayment(payment: Payment, unit: SalesUnit, authorization: Authorization, now: Date): Transition {
  if (payment.state === 'AUTHORIZED') throw new DomainError('alreadyReserved', 'The payment is already reserved.');
  if (payment.state !== 'CREATED') throw new DomainError('approveFailed', `The payment cannot be approved in state ${payment.state}.`);
  if (now.getTime() >= payment.expiresAt.getTime()) throw new DomainError('approveFailed', 'The payment has expired.');
  const captureDeadline = new Date(now.getTime() + captureWindowMs(unit));
  const guaranteed = new Date(now.getTime() + authorization.captureGuaranteedDays * 24 * 60 * 60 * 1000);
  const captureGuaranteedUntil = guaranteed < captureDeadline ? guaranteed : captureDeadline;
  const extra: Record<string, unknown> = { captureGuaranteedUntil: captureGuaranteedUntil.toISOString() };
  if (authorization.profileSub) extra.sub = authorization.profileSub;
  if (authorization.userDetails) extra.userDetails = authorization.userDetails;
  if (authorization.shippingDetails) extra.shippingDetails = authorization.shippingDetails;
  return {
    payment: withAggregate(
      payment,
      { authorized: authorization.amount },
      {
        state: 'AUTHORIZED',
        amount: authorization.amount,
        cardBin: authorization.cardBin,
        authorizedAt: now,
        captureDeadline,
        captureGuaranteedUntil,
        profileSub: authorization.profileSub,
        userDetails: authorization.userDetails,
        shippingDetails: authorization.shippingDetails,
        customerPhone: authorization.customerPhone ?? payment.customerPhone,
        processingUntil: null,
      },
    ),
    events: [{ name: 'AUTHORIZED', amount: authorization.amount, idempotencyKey: authorization.idempotencyKey, success: true, extra }],
  };
}

/**
 * A CREATED payment whose authorization has started and not ended: a PSP's card callback or 3-D Secure
 * page, or an issuer that has not answered yet (test amount 201). The merchant cannot cancel it meanwhile.
 */
export function authorizationPending(payment: Pick<Payment, 'state' | 'processingUntil'>, now: Date): boolean {
  return payment.state === 'CREATED' && payment.processingUntil !== null && payment.processingUntil.getTime() > now.getTime();
}

/**
 * The user approved and the issuer has not answered (the test environment's amount 201, "result unknown
 * for 1 hour"). Spec §16 recommends keeping the payment pending about an hour: it stays CREATED, cannot
 * be answered or cancelled (6250) for `pendingMs`, and expires at its end unless it would expire later
 * anyway — no authorization ever arrives. No event: nothing happened that the merchant could act on.
 */
export function awaitIssuer(payment: Payment, pendingMs: number, now: Date): Payment {
  const until = new Date(now.getTime() + pendingMs);
  return { ...payment, processingUntil: until, expiresAt: until > payment.expiresAt ? until : payment.expiresAt };
}

/** The user rejected in the app, refused consent, or backed out of the landing page. */
export function abortPayment(payment: Payment, now: Date): Transition {
  if (payment.state !== 'CREATED' || now.getTime() >= payment.expiresAt.getTime()) {
    throw new DomainError('approveFailed', `The payment cannot be rejected in state ${payment.state}.`);
  }
  return {
    payment: { ...payment, state: 'ABORTED', processingUntil: null },
    events: [{ name: 'ABORTED', amount: payment.amount, idempotencyKey: null, success: true }],
  };
}

/**
 * What time alone does to a payment (spec §11.3, §11.6): a CREATED payment expires at `expiresAt`;
 * an AUTHORIZED one has its uncaptured remainder cancelled at the capture deadline.
 */
export function transitionDueAt(payment: Payment, now: Date): Transition | null {
  if (payment.state === 'CREATED' && now.getTime() >= payment.expiresAt.getTime()) {
    return {
      payment: { ...payment, state: 'EXPIRED', processingUntil: null },
      events: [{ name: 'EXPIRED', amount: payment.amount, idempotencyKey: null, success: true }],
    };
  }
  if (payment.state === 'AUTHORIZED' && deadlinePassed(payment, now) && capturable(payment) > 0) {
    const remaining = capturable(payment);
    return {
      payment: withAggregate(payment, { cancelled: payment.aggregate.cancelled + remaining }),
      events: [{ name: 'CANCELLED', amount: remaining, idempotencyKey: null, success: true }],
    };
  }
  return null;
}
