/**
 * A request whose body fails its schema, refused under its Idempotency-Key like every deterministic 4xx
 * (spec §12.1 "a 4xx stays 4xx for that key"; open question 4 leaves out only 5xx, 6160, 6260 and 6280;
 * platform-guidelines §3.3 "use a new key after fixing the request"). The refusal is stored against a
 * fresh key, so the same request under it is refused again and a corrected one is the operation's
 * conflict; a key that already holds another request's outcome makes this request that conflict.
 */
import { DomainError, type ErrorName } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { claimIdempotencyKey, storeIdempotentResponse } from '../store/paymentsStore.ts';

export interface Refusal {
  msn: string;
  operation: 'create' | 'capture' | 'refund' | 'cancel';
  key: string;
  fingerprint: string;
  now: Date;
  conflict: ErrorName;
  /** The 400 Problem to store. */
  problem: unknown;
}

export async function refuseUnderKey(db: Database, r: Refusal): Promise<void> {
  await db.transaction(async (tx) => {
    const existing = await claimIdempotencyKey(tx, r.msn, r.operation, r.key, r.fingerprint, r.now);
    if (!existing) await storeIdempotentResponse(tx, r.msn, r.operation, r.key, 400, r.problem);
    else if (existing.fingerprint !== r.fingerprint) {
      throw new DomainError(r.conflict, `The Idempotency-Key "${r.key}" was already used for another request.`);
    }
  });
}
