/**
 * The platform's per-reference rate limits (spec §13.6): 5 calls per minute per reference + MSN for
 * each of create, capture, cancel and refund, 120 per minute per reference + subscription key for each
 * of GET payment and GET events, with `Retry-After`. Each operation counts on its own, as the platform's
 * table has a row per operation and its docs say "5 Create calls … the same goes for Capture". Sliding one-minute
 * window on the clock of the caller's sales unit (time control moves it). With `--workers N` one
 * limiter in the primary process counts for all of them (sharedRateLimits.ts).
 */
import { HttpProblem } from '../errors.ts';

const WINDOW_MS = 60_000;

export const limits = { write: 5, read: 120 } as const;

/** Counts a call: null when allowed, else the seconds until the key may call again (the refused call is not counted). */
export type RateCheck = (key: string, limit: number, nowMs: number) => number | null | Promise<number | null>;

export class RateLimiter {
  /** Per key: its hits on its own clock, and the real time of the latest (for the sweep). */
  readonly #keys = new Map<string, { hits: number[]; wallMs: number }>();
  readonly #wallNowMs: () => number;
  #lastSweepWallMs: number;

  constructor(wallNowMs: () => number) {
    this.#wallNowMs = wallNowMs;
    this.#lastSweepWallMs = wallNowMs();
  }

  /** How many keys it holds (what the sweep keeps bounded). */
  get size(): number {
    return this.#keys.size;
  }

  hit(key: string, limit: number, nowMs: number): number | null {
    const wallMs = this.#wallNowMs();
    this.#sweep(wallMs);
    const since = nowMs - WINDOW_MS;
    const hits = (this.#keys.get(key)?.hits ?? []).filter((t) => t > since);
    this.#keys.set(key, { hits, wallMs });
    if (hits.length >= limit) return Math.max(1, Math.ceil(((hits[0] as number) + WINDOW_MS - nowMs) / 1000));
    hits.push(nowMs);
    return null;
  }

  /**
   * Forgets keys idle for a minute of real time. Keys run on different clocks (each sales unit's), but
   * clocks only move forward: a minute of real time after a key's latest hit its window is empty.
   */
  #sweep(wallMs: number): void {
    if (wallMs - this.#lastSweepWallMs < WINDOW_MS) return;
    this.#lastSweepWallMs = wallMs;
    for (const [key, entry] of this.#keys) if (wallMs - entry.wallMs >= WINDOW_MS) this.#keys.delete(key);
  }
}

export function tooManyRequests(limit: number, retryAfter: number): HttpProblem {
  return new HttpProblem(
    429,
    'Too Many Requests',
    `Rate limit of ${limit} calls per minute for this reference exceeded; retry after ${retryAfter} s.`,
    {},
    { 'retry-after': String(retryAfter) },
  );
}
