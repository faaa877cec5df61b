/**
 * Capture, refund and cancel (spec §8, §9) under the payment's row lock, with idempotency (§12.1):
 * - same key and same request → the stored outcome again, status and body, with no new event (a
 *   deterministic 4xx stays 4xx for that key);
 * - same key and a different request → the operation's conflict code (4010 capture, 4150 refund,
 *   4020 cancel);
 * - a refusal, coded or a validation error, is stored: a corrected request needs a new key
 *   (platform-guidelines §3.3); retryable outcomes (6160, 6260, 6280, 5xx) are not, so the client's
 *   retry with the same key runs again (open question 4). A body that fails its schema is refused under
 *   the key by the route (operations/refuseUnderKey.ts).
 * An accepted operation that fails downstream (a capture the acquirer fails: 6260, 6280 — in test mode by
 * fault injection) is recorded as its event with `success: false` and leaves the aggregate as it was
 * (spec §11.5); its key is released like any retryable outcome's.
 * Keys are scoped per sales unit and operation; the fingerprint holds method, path (so the reference)
 * and canonical body. The claim, the effect and the stored response commit in one transaction, and
 * the row lock is taken first, so identical concurrent requests produce exactly one effect.
 */
import { DomainError, type ErrorName, isDeterministicRefusal, type ValidationError } from '../errors.ts';
import type { Payment, PaymentEvent, Transition } from '../payments/types.ts';
import type { Database, Queryable } from '../store/database.ts';
import { claimIdempotencyKey, releaseIdempotencyKey, storeIdempotentResponse } from '../store/paymentsStore.ts';
import { applyTransition } from './applyTransition.ts';
import type { StoredOutcome } from './idempotency.ts';
import { withLockedPayment } from './lockedPayment.ts';

export interface Modification {
  msn: string;
  reference: string;
  operation: 'capture' | 'refund' | 'cancel';
  /** Required for capture and refund; optional for cancel (open question 5). */
  idempotencyKey: string | null;
  fingerprint: string;
  conflict: ErrorName;
  now: () => Date;
  decide: (payment: Payment, now: Date) => Transition;
  respond: (payment: Payment) => unknown;
  /** The Problem body of a refusal, as it will be stored and replayed. */
  problem: (error: DomainError | ValidationError) => unknown;
  /** The operation, once accepted, fails downstream with this error. */
  downstreamFailure?: DomainError;
}

export interface ModificationResult extends StoredOutcome {
  /** Events this call wrote (none for a replay or a refusal). */
  events: PaymentEvent[];
}

export async function modifyPayment(db: Database, m: Modification): Promise<ModificationResult> {
  const key = m.idempotencyKey;
  const claim = key === null ? undefined : { operation: m.operation, key, fingerprint: m.fingerprint, now: m.now() };
  const work = async (tx: Queryable, payment: Payment, claimed?: boolean): Promise<ModificationResult> => {
    if (key !== null && !claimed) {
      // Held by an earlier call (or, if that call's claim was released meanwhile, claimed now).
      const existing = await claimIdempotencyKey(tx, m.msn, m.operation, key, m.fingerprint, m.now());
      if (existing) {
        if (existing.fingerprint !== m.fingerprint) {
          throw new DomainError(m.conflict, `The Idempotency-Key "${key}" was already used for another request.`);
        }
        return { status: existing.status ?? 200, body: existing.body, events: [] };
      }
    }
    let transition: Transition;
    try {
      transition = m.decide(payment, m.now());
    } catch (error) {
      if (key === null || !isDeterministicRefusal(error)) throw error; // rolls the claim back with the work
      const body = m.problem(error);
      await storeIdempotentResponse(tx, m.msn, m.operation, key, error.status, body);
      return { status: error.status, body, events: [] };
    }
    if (m.downstreamFailure) {
      if (key !== null) await releaseIdempotencyKey(tx, m.msn, m.operation, key);
      const failed = { payment, events: transition.events.map((event) => ({ ...event, success: false })) };
      const events = await applyTransition(tx, failed, m.now(), undefined, { commit: true });
      return { status: m.downstreamFailure.status, body: m.problem(m.downstreamFailure), events };
    }
    const body = m.respond(transition.payment);
    const outcome = key === null ? undefined : { msn: m.msn, operation: m.operation, key, status: 200, body };
    const events = await applyTransition(tx, transition, m.now(), outcome, { commit: true });
    return { status: 200, body, events };
  };
  // The key is claimed with the row lock, in one round trip.
  return withLockedPayment(db, m.msn, m.reference, m.now, work, claim);
}
