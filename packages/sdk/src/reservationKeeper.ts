/**
 * Keeps reservations from lapsing. An authorized payment must be captured or cancelled before its
 * capture deadline — 180 days after authorization in Norway, 14 in Denmark and Finland — after which the
 * platform cancels the rest by itself (epayment-api §11.6, platform-guidelines §14). Money that will not
 * be captured should be released as soon as that is known (§14 "Release funds").
 *
 * The API cannot list payments, so the merchant's own store says which references to look at. For each,
 * the keeper reads the payment, works out the deadline and asks the merchant's rule what to do: capture
 * (all or part), cancel, or wait. A rule that still says "wait" when the deadline is near is overruled by
 * `atDeadline` (default: cancel). After a partial capture the uncaptured remainder is cancelled, since
 * the rule's capture is the order's final one.
 *
 * The keeper captures at most once per reservation, under an Idempotency-Key derived from the reference
 * alone (§3.3): a pass that crashed half-way, or whose cancel of the rest failed, and runs again repeats
 * that key, and a later pass that finds the keeper's capture in the event log only cancels the rest —
 * it never asks the rule for a second capture.
 */
import { createHash } from 'node:crypto';
import type { EPaymentApi } from './epayment.ts';
import type { GetPaymentResponse, PaymentEvent } from './generated/types.ts';
import { type Logger, silentLogger } from './logging.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Capture deadline by currency = market (§14): NOK 180 days; DKK and EUR 14 days (late capture needs approval). */
export function captureDeadlineDays(payment: Pick<GetPaymentResponse, 'amount'>): number {
  return payment.amount.currency === 'NOK' ? 180 : 14;
}

export interface ReservationStore {
  /** References the merchant holds as authorized with money possibly still reserved. */
  authorizedReferences(): Promise<Iterable<string>> | Iterable<string> | AsyncIterable<string>;
  /** Told once a reference needs no more keeping (captured, cancelled, or not authorized at all). */
  settled?(reference: string, report: ReservationReport): Promise<void> | void;
}

export type ReservationDecision =
  /** Capture `amount` (default: all that is left); a partial capture is followed by cancelling the rest. */
  | { action: 'capture'; amount?: number }
  /** Release everything that is not captured. */
  | { action: 'cancel' }
  | { action: 'wait' };

export interface ReservationContext {
  reference: string;
  payment: GetPaymentResponse;
  /** Still capturable: authorized − captured − cancelled (epayment-api §8). */
  remaining: number;
  authorizedAt: Date;
  captureDeadline: Date;
  /** When a capture stops being guaranteed (card network), if the platform says (§11.6). */
  captureGuaranteedUntil: Date | undefined;
  timeLeftMs: number;
  /** Inside the safety margin: a "wait" now will be overruled by `atDeadline`. */
  deadlineNear: boolean;
}

export type ReservationRule = (context: ReservationContext) => ReservationDecision | Promise<ReservationDecision>;

export type ReservationAction =
  | 'captured'
  | 'cancelled'
  | 'captured-and-cancelled-rest'
  /** An earlier pass captured; this one released the rest that pass could not. */
  | 'cancelled-rest'
  | 'waiting'
  | 'nothing-reserved'
  | 'not-authorized'
  | 'failed';

export interface ReservationReport {
  reference: string;
  action: ReservationAction;
  capturedAmount?: number;
  cancelledAmount?: number;
  captureDeadline?: string;
  /** The rule was overruled because the deadline was near. */
  forcedByDeadline?: boolean;
  error?: string;
}

export interface ReservationKeeperOptions {
  epayment: Pick<EPaymentApi, 'getPayment' | 'getPaymentEvents' | 'capturePayment' | 'cancelPayment'>;
  store: ReservationStore;
  rule: ReservationRule;
  /** Days from authorization to the capture deadline; default `captureDeadlineDays` (by currency). */
  deadlineDays?: (payment: GetPaymentResponse) => number;
  /** Act when less than this is left before the deadline. Default 2 days. */
  safetyMarginMs?: number;
  /** What a "wait" becomes inside the safety margin. Default `cancel`. */
  atDeadline?: 'cancel' | 'capture';
  scheduler?: Scheduler;
  logger?: Logger;
}

export interface ReservationKeeper {
  /** One pass over the store's references; reports one line per reference. */
  runOnce(): Promise<ReservationReport[]>;
  /** Runs a pass now and then every `intervalMs` until `stop()`. */
  start(intervalMs: number): void;
  stop(): void;
}

export function createReservationKeeper(options: ReservationKeeperOptions): ReservationKeeper {
  const scheduler = options.scheduler ?? systemScheduler;
  const log = options.logger ?? silentLogger;
  const marginMs = options.safetyMarginMs ?? 2 * DAY_MS;
  const deadlineDays = options.deadlineDays ?? captureDeadlineDays;
  let timer: unknown;
  let running: Promise<ReservationReport[]> | undefined;

  async function keep(reference: string): Promise<ReservationReport> {
    const payment = await options.epayment.getPayment(reference);
    if (payment.state !== 'AUTHORIZED') return { reference, action: 'not-authorized' };
    const a = payment.aggregate;
    const remaining = a.authorizedAmount.value - a.capturedAmount.value - a.cancelledAmount.value;
    if (remaining <= 0) return { reference, action: 'nothing-reserved' };

    const cancelRest = () => options.epayment.cancelPayment(reference, {}, { idempotencyKey: keyFor(reference, 'cancel') });
    const events: PaymentEvent[] = await options.epayment.getPaymentEvents(reference);
    if (events.some((e) => e.name === 'CAPTURED' && e.success && e.idempotencyKey === keyFor(reference, 'capture'))) {
      await cancelRest();
      return { reference, action: 'cancelled-rest', cancelledAmount: remaining };
    }
    const authorizedAt = authorizationTime(reference, payment, events);
    const captureDeadline = new Date(authorizedAt.getTime() + deadlineDays(payment) * DAY_MS);
    const timeLeftMs = captureDeadline.getTime() - scheduler.now();
    const deadlineNear = timeLeftMs <= marginMs;
    const context: ReservationContext = {
      reference,
      payment,
      remaining,
      authorizedAt,
      captureDeadline,
      captureGuaranteedUntil: payment.captureGuaranteedUntil ? new Date(payment.captureGuaranteedUntil) : undefined,
      timeLeftMs,
      deadlineNear,
    };
    let decision = await options.rule(context);
    const forcedByDeadline = decision.action === 'wait' && deadlineNear;
    if (forcedByDeadline) decision = { action: options.atDeadline ?? 'cancel' };
    const base = { reference, captureDeadline: captureDeadline.toISOString(), ...(forcedByDeadline ? { forcedByDeadline } : {}) };

    if (decision.action === 'wait') return { ...base, action: 'waiting' };
    if (decision.action === 'cancel') {
      await cancelRest();
      return { ...base, action: 'cancelled', cancelledAmount: remaining };
    }
    const amount = decision.amount ?? remaining;
    if (!Number.isInteger(amount) || amount <= 0 || amount > remaining) {
      throw new Error(`the rule asked to capture ${amount} of ${reference}, but 1–${remaining} can be captured`);
    }
    await options.epayment.capturePayment(
      reference,
      { modificationAmount: { currency: payment.amount.currency, value: amount } },
      { idempotencyKey: keyFor(reference, 'capture') },
    );
    if (amount === remaining) return { ...base, action: 'captured', capturedAmount: amount };
    // The rule's capture was the last for this order: release the rest now rather than at the deadline.
    const rest = remaining - amount;
    await cancelRest();
    return { ...base, action: 'captured-and-cancelled-rest', capturedAmount: amount, cancelledAmount: rest };
  }

  /** The AUTHORIZED event's time from the event log (GET payment has no authorization time). */
  function authorizationTime(reference: string, payment: GetPaymentResponse, events: PaymentEvent[]): Date {
    const authorized = events.find((event) => event.name === 'AUTHORIZED' && event.success);
    if (!authorized) throw new Error(`${reference} is ${payment.state} but its event log has no AUTHORIZED event`);
    return new Date(authorized.timestamp);
  }

  async function runOnce(): Promise<ReservationReport[]> {
    const reports: ReservationReport[] = [];
    for await (const reference of await options.store.authorizedReferences()) {
      let report: ReservationReport;
      try {
        report = await keep(reference);
      } catch (error) {
        report = { reference, action: 'failed', error: (error as Error).message };
      }
      reports.push(report);
      log({
        level: report.action === 'failed' ? 'error' : report.action === 'waiting' ? 'debug' : 'info',
        event: `reservation.${report.action}`,
        message: `${reference}: ${report.action}${report.error ? ` (${report.error})` : ''}`,
        ...report,
      });
      if (report.action !== 'waiting' && report.action !== 'failed') await options.store.settled?.(reference, report);
    }
    return reports;
  }

  const keeper: ReservationKeeper = {
    runOnce: () => {
      // Overlapping passes would ask the rule twice about the same payment; share the running one.
      running ??= runOnce().finally(() => {
        running = undefined;
      });
      return running;
    },
    start(intervalMs: number) {
      const tick = () => {
        void keeper
          .runOnce()
          .catch((error: Error) => log({ level: 'error', event: 'reservation.run_failed', message: error.message }))
          .finally(() => {
            if (timer !== undefined) timer = scheduler.setTimeout(tick, intervalMs);
          });
      };
      timer = scheduler.setTimeout(tick, 0);
    },
    stop() {
      scheduler.clearTimeout(timer);
      timer = undefined;
    },
  };
  return keeper;
}

/** The Idempotency-Key (≤ 50 characters) of the keeper's one capture, or cancel, of a reservation. */
function keyFor(reference: string, action: 'capture' | 'cancel'): string {
  const digest = createHash('sha256').update(`${reference}|${action}`).digest('base64url');
  return `keeper-${action}-${digest.slice(0, 32)}`;
}
