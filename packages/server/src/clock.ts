/**
 * The only place that reads the time. Test mode moves it (docs/time-and-faults.md); expiry, capture
 * deadlines, token expiry, webhook retry schedules and rate-limit windows all follow it.
 *
 * A sales unit's time is real time plus three offsets, none ever negative:
 * - `advance()`: this process only, synchronous — what the tests use to move time without a request;
 * - the shared global offset, and
 * - the sales unit's own offset on top of it; both set by POST /kassa/v1/clock, kept in the database
 *   and applied here by control/clockOffsets.ts in every process (`applyShared`).
 * Everything that acts for one sales unit asks for that unit's time: `now(msn)`; `now()` is global time.
 */
export interface SharedOffsets {
  /** Bumped by every change; an older state never replaces a newer one. */
  version: number;
  globalMs: number;
  /** Per sales unit: how far it runs ahead of global time. */
  units: ReadonlyMap<string, number>;
}

export class Clock {
  #localMs = 0;
  #shared: SharedOffsets = { version: 0, globalMs: 0, units: new Map() };

  now(msn?: string): Date {
    return new Date(this.nowMs(msn));
  }

  nowMs(msn?: string): number {
    const unitMs = msn === undefined ? 0 : (this.#shared.units.get(msn) ?? 0);
    return Date.now() + this.#localMs + this.#shared.globalMs + unitMs;
  }

  /** The latest time among `msns` (global time when none runs ahead): the time of a key set's tokens. */
  latestMs(msns: readonly string[]): number {
    if (this.#shared.units.size === 0) return this.nowMs();
    let aheadMs = 0;
    for (const msn of msns) aheadMs = Math.max(aheadMs, this.#shared.units.get(msn) ?? 0);
    return this.nowMs() + aheadMs;
  }

  /** Real time, for figures that must not follow a moved clock (delivery lag, request-log retention). */
  wallNowMs(): number {
    return Date.now();
  }

  /** Moves this process's clock forward (tests). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.#localMs += ms;
  }

  /** How far global time runs ahead of real time in this process. */
  get offsetMs(): number {
    return this.#localMs + this.#shared.globalMs;
  }

  /** Sales units that run ahead of global time, and by how much (for queries over many units). */
  unitOffsets(): ReadonlyMap<string, number> {
    return this.#shared.units;
  }

  get sharedOffsets(): SharedOffsets {
    return this.#shared;
  }

  /** Takes the shared offsets read from the database or a notification, unless they are older than what it has. */
  applyShared(offsets: SharedOffsets): boolean {
    if (offsets.version <= this.#shared.version) return false;
    this.#shared = { version: offsets.version, globalMs: offsets.globalMs, units: new Map(offsets.units) };
    return true;
  }
}
