/**
 * The platform's per-reference rate limits (spec §13.6): 5 writes per minute per reference + MSN,
 * 120 reads per minute per reference + subscription key, with `Retry-After`. Sliding one-minute
 * window on the server clock. Per process: with several processes the limit applies per process,
 * which is documented; limits protect, they do not decide correctness.
 */
import { HttpProblem } from '../errors.ts';

const WINDOW_MS = 60_000;

export const limits = { write: 5, read: 120 } as const;

export class RateLimiter {
  readonly #hits = new Map<string, number[]>();
  #lastSweep = 0;

  /** Counts a call; throws 429 when the key has used its allowance in the last minute. */
  hit(key: string, limit: number, nowMs: number): void {
    this.#sweep(nowMs);
    const since = nowMs - WINDOW_MS;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (hits.length >= limit) {
      const retryAfter = Math.max(1, Math.ceil(((hits[0] as number) + WINDOW_MS - nowMs) / 1000));
      this.#hits.set(key, hits);
      throw new HttpProblem(
        429,
        'Too Many Requests',
        `Rate limit of ${limit} calls per minute for this reference exceeded; retry after ${retryAfter} s.`,
        {},
        { 'retry-after': String(retryAfter) },
      );
    }
    hits.push(nowMs);
    this.#hits.set(key, hits);
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < WINDOW_MS) return;
    this.#lastSweep = nowMs;
    for (const [key, hits] of this.#hits) if ((hits[hits.length - 1] ?? 0) <= nowMs - WINDOW_MS) this.#hits.delete(key);
  }
}
