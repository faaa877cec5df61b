/** Writes a state change: the payment row and its events, inside the caller's transaction. */

import type { PaymentEvent, Transition } from '../payments/types.ts';
import type { Queryable, QueryOptions } from '../store/database.ts';
import { type IdempotentOutcome, writeTransition } from '../store/paymentsStore.ts';

/**
 * `outcome`: the response to store against the call's idempotency key, written with the change.
 * `options.commit`: the change is the transaction's last write, so its COMMIT may travel with it.
 */
export async function applyTransition(
  tx: Queryable,
  transition: Transition,
  now: Date,
  outcome?: IdempotentOutcome,
  options?: QueryOptions,
): Promise<PaymentEvent[]> {
  return writeTransition(tx, transition, now, outcome, options);
}
