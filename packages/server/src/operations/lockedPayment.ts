/**
 * Runs work on one payment under its row lock, after applying what time has done to it (expiry,
 * capture deadline — spec §11.3, §11.6), so a request never acts on a state the sweeper merely has
 * not reached yet. Concurrent modifications of one payment serialize on the lock; one that cannot get
 * it within LOCK_WAIT gets 423 / 6160 (spec §13.4, open question 3).
 */
import { DomainError } from '../errors.ts';
import { transitionDueAt } from '../payments/stateMachine.ts';
import type { Payment } from '../payments/types.ts';
import { type Database, PgError, pgErrorCode, type Queryable } from '../store/database.ts';
import { type KeyClaim, lockPayment, lockPaymentClaimingKey, releaseIdempotencyKey } from '../store/paymentsStore.ts';
import { applyTransition } from './applyTransition.ts';

/**
 * How long a request waits for a payment another request is modifying. Transactions on one payment
 * take milliseconds, so ordinary contention is absorbed by waiting (the losers then see the winner's
 * aggregate); a lock held this long is a stuck caller, and the client is told to retry (423).
 * PGlite has a single connection, so there transactions simply queue.
 */
const LOCK_WAIT = '2s';

/**
 * `claim`: an idempotency key to claim with the lock, in the same round trip; `work` learns whether it
 * was claimed (false: an earlier call holds it).
 */
export async function withLockedPayment<T>(
  db: Database,
  msn: string,
  reference: string,
  now: () => Date,
  work: (tx: Queryable, payment: Payment, claimed?: boolean) => Promise<T>,
  claim?: KeyClaim,
): Promise<T> {
  let refusal: { error: unknown } | null = null;
  let result: T;
  try {
    result = await db.transaction(
      async (tx) => {
        const locked = claim
          ? await lockPaymentClaimingKey(tx, msn, reference, claim)
          : await lockPayment(tx, msn, reference).then((payment) => payment && { payment, claimed: undefined });
        if (!locked) throw new DomainError('referenceNotFound', `No payment with reference "${reference}" for this sales unit.`);
        const { payment, claimed } = locked;
        const due = transitionDueAt(payment, now());
        if (!due) return work(tx, payment, claimed);
        await applyTransition(tx, due, now());
        // What time did is a fact whatever becomes of this request: a refused capture after the deadline
        // still leaves the automatic CANCELLED event behind. Only the work is rolled back — and the key
        // this call claimed, so that a retry with it runs again.
        await tx.query('savepoint locked_payment_work');
        // The work's last write must not commit: a failure in it rolls back to the savepoint only.
        const withinSavepoint: Queryable = { query: (sql, params) => tx.query(sql, params), exec: (sql) => tx.exec(sql) };
        try {
          return await work(withinSavepoint, due.payment, claimed);
        } catch (error) {
          await tx.query('rollback to savepoint locked_payment_work');
          if (claim && claimed) await releaseIdempotencyKey(tx, msn, claim.operation, claim.key);
          refusal = { error };
          return undefined as T;
        }
      },
      { lockTimeout: LOCK_WAIT },
    );
  } catch (error) {
    throw asOrderProcessing(error);
  }
  if (refusal) throw asOrderProcessing((refusal as { error: unknown }).error);
  return result;
}

/** Waiting too long for a lock (the payment row, or an idempotency key in use) is the platform's 6160. */
function asOrderProcessing(error: unknown): unknown {
  const code = pgErrorCode(error);
  if (code === PgError.lockNotAvailable || code === PgError.deadlockDetected || code === PgError.serializationFailure) {
    return new DomainError('orderProcessing', 'Order locked and is already processing.');
  }
  return error;
}
