/**
 * When a failed delivery is tried again (platform-guidelines §4.5 [rec], open question 6): 2 s, 2 s,
 * 2 s, 2 s, 60 s and 120 s after the first failures, then hourly until attempt 29, then daily, for up to
 * 7 days after the first attempt; then the delivery is dropped. Not a contract: receivers must not
 * build on the exact timing. Times follow the server clock, so tests move it instead of sleeping.
 */

const FIRST_DELAYS_MS = [2_000, 2_000, 2_000, 2_000, 60_000, 120_000];
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The last attempt on the hourly cadence; later ones are a day apart. */
const LAST_HOURLY_ATTEMPT = 29;
export const RETRY_WINDOW_MS = 7 * DAY_MS;

/** The wait after attempt number `attemptsMade` (1 = the first attempt) failed. */
export function retryDelayMs(attemptsMade: number): number {
  if (attemptsMade < 1) throw new RangeError('no attempt has failed yet');
  const early = FIRST_DELAYS_MS[attemptsMade - 1];
  if (early !== undefined) return early;
  return attemptsMade < LAST_HOURLY_ATTEMPT ? HOUR_MS : DAY_MS;
}

/** When to try again after a failure at `failedAt`, or null when the 7-day window is used up. */
export function nextAttemptAt(firstAttemptAt: Date, attemptsMade: number, failedAt: Date): Date | null {
  const next = failedAt.getTime() + retryDelayMs(attemptsMade);
  return next - firstAttemptAt.getTime() > RETRY_WINDOW_MS ? null : new Date(next);
}

/**
 * "Unresponsive for 2 weeks" (§4.5, open question 12): no success for 14 days while attempts kept
 * failing at least once a day. A silence longer than this gap starts a new failure streak; it allows
 * for the daily retry cadence, which lands a little more than 24 hours after the previous attempt.
 */
export const UNRESPONSIVE_AFTER_MS = 14 * DAY_MS;
export const FAILURE_STREAK_GAP_MS = 25 * HOUR_MS;
