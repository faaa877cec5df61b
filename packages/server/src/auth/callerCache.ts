/**
 * Short-lived in-process cache of key sets and sales units: every API call needs them, they change
 * rarely, and a miss reads the database, so a unit created by `kassa merchants create` in another
 * process is seen at once. Correctness never depends on it (entries live a few seconds).
 */
import type { SalesUnit } from '../payments/salesUnits.ts';
import type { Queryable } from '../store/database.ts';
import { findKeySetBySubscriptionKeyHash, findSalesUnit, type KeySet } from '../store/merchantsStore.ts';

const TTL_MS = 5000;

class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  async get(key: string, load: () => Promise<V>): Promise<V> {
    // Wall time on purpose, not clock.ts: staleness is about how long ago the database was read,
    // which moving the test clock does not change (a regenerated key must stop working within seconds).
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (value !== null) this.#entries.set(key, { value, until: now + TTL_MS });
    if (this.#entries.size > 10000) this.#entries.clear();
    return value;
  }
  clear(): void {
    this.#entries.clear();
  }
}

export class CallerCache {
  readonly #keySets = new TtlCache<KeySet | null>();
  readonly #salesUnits = new TtlCache<SalesUnit | null>();
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }
  keySetBySubscriptionKeyHash(hash: string): Promise<KeySet | null> {
    return this.#keySets.get(hash, () => findKeySetBySubscriptionKeyHash(this.#db, hash));
  }
  salesUnit(msn: string): Promise<SalesUnit | null> {
    return this.#salesUnits.get(msn, () => findSalesUnit(this.#db, msn));
  }
  /** After settings change in this process, so the next request sees them. */
  clear(): void {
    this.#keySets.clear();
    this.#salesUnits.clear();
  }
}
