/**
 * A group commit for plain creates: the creates that arrive in one turn of the event loop go to the
 * database as one statement (insertPaymentsClaimingKeys), so under load many share a round trip, a
 * commit and a WAL flush, and a lone create pays nothing but a setImmediate. When the shared statement
 * fails (one key claimed twice, by two creates of the batch or by a concurrent request), every create
 * of the batch runs again on its own, so one create's conflict is never another's.
 */
import type { Payment } from '../payments/types.ts';
import type { Queryable } from '../store/database.ts';
import { type ClaimedCreate, insertPaymentsClaimingKeys } from '../store/paymentsStore.ts';

/** Rows per statement: large enough to gather a loaded turn, small enough to keep the statement quick. */
const MAX_BATCH = 64;

interface Waiting {
  create: ClaimedCreate;
  resolve: (payment: Payment | null) => void;
  reject: (error: unknown) => void;
}

export class CreateBatch {
  readonly #db: Queryable;
  #waiting: Waiting[] = [];

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** The payment written, or null when the key was used before or the reference exists. */
  insert(create: ClaimedCreate): Promise<Payment | null> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ create, resolve, reject }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let i = 0; i < waiting.length; i += MAX_BATCH) void this.#write(waiting.slice(i, i + MAX_BATCH));
  }

  async #write(batch: Waiting[]): Promise<void> {
    try {
      const payments = await insertPaymentsClaimingKeys(
        this.#db,
        batch.map((w) => w.create),
      );
      const written = new Map(payments.map((p) => [p.pspReference, p]));
      for (const w of batch) w.resolve(written.get(w.create.payment.pspReference) ?? null);
    } catch (error) {
      // Nothing was written; alone, each create meets its own outcome.
      if (batch.length === 1) batch[0]?.reject(error);
      else await Promise.all(batch.map((w) => this.#write([w])));
    }
  }
}
