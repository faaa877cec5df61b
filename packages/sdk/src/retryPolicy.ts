/**
 * When and how long to wait before trying a call again (platform-guidelines §3.3, §5, §6.2, §15.2).
 *
 * Retried: no answer at all (network error, connect/total timeout — the outcome is unknown, and the same
 * Idempotency-Key makes a repeat harmless), 429 (after `Retry-After` when given), 423 (locked by a
 * concurrent operation: "retry shortly with the same idempotency key", §15.2) and every 5xx. Never
 * retried: any other 4xx — the request itself is wrong and "a 4xx stays a 4xx for that key" (§3.3).
 * Waits grow exponentially with jitter, so many clients that failed together
 * do not return together; the number of attempts is bounded.
 *
 * A call without idempotency on the server (webhook registration: Kassa and the platform ignore its key,
 * since a replay would have to hand out the secret again) is repeated only when the first attempt surely
 * had no effect: the connection was never made, or the answer was 429. Otherwise a retry could leave a
 * second registration whose secret nobody has.
 */

export interface RetryOptions {
  /** Total HTTP attempts per call, the first included. Default 4. */
  maxAttempts: number;
  /** Back-off before the 2nd attempt; doubles with each further one. Default 500 ms. */
  baseDelayMs: number;
  /** Longest back-off between two attempts. Default 8 s. */
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails with the 429/503. Default 60 s. */
  maxRetryAfterMs: number;
}

/** The least wait after a 429 that names no wait of its own. */
export const RATE_LIMITED_MIN_WAIT_MS = 1000;

export const defaultRetryOptions: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

export const noRetries: RetryOptions = { ...defaultRetryOptions, maxAttempts: 1 };

/** What one attempt ended with, as far as retrying is concerned. */
export type AttemptOutcome = { kind: 'network'; code: string } | { kind: 'status'; status: number; retryAfterMs?: number };

/** Network failures that happen before a request can have reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** `repeatable`: the server makes a repeat harmless (an Idempotency-Key it honours, or a read). */
export function isRetryable(outcome: AttemptOutcome, repeatable = true): boolean {
  if (outcome.kind === 'network') return repeatable || NEVER_SENT.has(outcome.code);
  if (outcome.status === 429) return true;
  return repeatable && (outcome.status === 423 || outcome.status >= 500);
}

/**
 * The wait before attempt `nextAttempt` (2, 3, ...), or undefined when there is none: attempts used up,
 * outcome not retryable, or the server asked for a longer wait than we accept.
 * Back-off is "equal jitter": half the exponential step fixed, half random, so waits still grow.
 */
export function delayBeforeAttempt(
  nextAttempt: number,
  outcome: AttemptOutcome,
  options: RetryOptions,
  random: () => number,
  repeatable = true,
): number | undefined {
  if (nextAttempt > options.maxAttempts || !isRetryable(outcome, repeatable)) return undefined;
  // A call that got no answer in time is tried once more with the same key, then the caller reads the
  // state back (platform-guidelines open question 27): the worst case stays two total timeouts.
  if (outcome.kind === 'network' && outcome.code === 'TOTAL_TIMEOUT' && nextAttempt > 2) return undefined;
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (nextAttempt - 2));
  const backoff = Math.round(step / 2 + random() * (step / 2));
  // A 429 says "slow down" (§5) even without Retry-After (an API gateway's answer may not carry one).
  const rateLimited = outcome.kind === 'status' && outcome.status === 429;
  const retryAfter = outcome.kind === 'status' ? (outcome.retryAfterMs ?? (rateLimited ? RATE_LIMITED_MIN_WAIT_MS : undefined)) : undefined;
  if (retryAfter === undefined) return backoff;
  if (retryAfter > options.maxRetryAfterMs) return undefined;
  return Math.max(retryAfter, backoff);
}

/** `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3), in milliseconds from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
