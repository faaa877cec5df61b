/**
 * Keeps the request log within its retention (KASSA_REQUEST_LOG_DAYS, default 14): every hour, and
 * once at start, calls older than that are deleted. Retention counts real days, not the test clock:
 * moving the clock a month ahead to reach a capture deadline must not wipe the evidence the checklist
 * report reads. Every process prunes; the deletes are idempotent.
 */
import type { Clock } from '../clock.ts';
import type { Database } from '../store/database.ts';
import { pruneRequestLog } from '../store/requestLogStore.ts';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/** Deletes the calls logged more than `days` before `wallNowMs`; returns how many went. */
export function pruneExpiredRequests(db: Database, wallNowMs: number, days: number): Promise<number> {
  return pruneRequestLog(db, new Date(wallNowMs - days * DAY_MS));
}

/** Prunes now and every hour until the returned function is called. */
export function startRequestLogRetention(db: Database, clock: Clock, days: number, onError: (error: unknown) => void): () => void {
  let running = true;
  const prune = () => {
    pruneExpiredRequests(db, clock.wallNowMs(), days).catch((error) => {
      if (running) onError(error);
    });
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return () => {
    running = false;
    clearInterval(timer);
  };
}
