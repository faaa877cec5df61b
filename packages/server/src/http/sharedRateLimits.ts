/**
 * Rate limits across `--workers N`: a client's connections land on any worker, so per-process counting
 * would grant N times the platform's limit. The primary process keeps the one RateLimiter and workers
 * ask it over the cluster's IPC channel — one message each way per limited call, only in cluster mode.
 * The worker sends its own clock reading (the sales unit's time), so the window follows time control.
 *
 * Limits protect the platform; they decide nothing about a payment's correctness. A question the
 * primary does not answer within ANSWER_WITHIN_MS (it is stopping) lets the call through rather than
 * hang it.
 */
import cluster from 'node:cluster';
import type { Clock } from '../clock.ts';
import { type RateCheck, RateLimiter } from './rateLimiter.ts';

const ANSWER_WITHIN_MS = 1000;

interface Question {
  kassa: 'rate-limit';
  id: number;
  key: string;
  limit: number;
  nowMs: number;
}

interface Answer {
  kassa: 'rate-limit';
  id: number;
  retryAfter: number | null;
}

function isRateLimitMessage(message: unknown): message is { kassa: 'rate-limit' } {
  return typeof message === 'object' && message !== null && (message as { kassa?: unknown }).kassa === 'rate-limit';
}

/** In the primary: answers every worker's questions from one limiter. */
export function serveRateLimits(): void {
  const limiter = new RateLimiter(Date.now);
  cluster.on('message', (worker, message: unknown) => {
    if (!isRateLimitMessage(message)) return;
    const { id, key, limit, nowMs } = message as Question;
    const answer: Answer = { kassa: 'rate-limit', id, retryAfter: limiter.hit(key, limit, nowMs) };
    if (worker.isConnected()) worker.send(answer);
  });
}

/** The limiter this process counts with: its own, or in a cluster worker the primary's. */
export function rateCheckOfThisProcess(clock: Clock): RateCheck {
  if (cluster.isWorker) return primaryRateLimits();
  const limiter = new RateLimiter(() => clock.wallNowMs());
  return (key, limit, nowMs) => limiter.hit(key, limit, nowMs);
}

function primaryRateLimits(): RateCheck {
  let nextId = 0;
  const waiting = new Map<number, (retryAfter: number | null) => void>();
  process.on('message', (message: unknown) => {
    if (!isRateLimitMessage(message)) return;
    const { id, retryAfter } = message as Answer;
    waiting.get(id)?.(retryAfter);
  });
  return (key, limit, nowMs) =>
    new Promise((resolve) => {
      const id = nextId++;
      const done = (retryAfter: number | null) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(retryAfter);
      };
      const timer = setTimeout(() => done(null), ANSWER_WITHIN_MS);
      waiting.set(id, done);
      const question: Question = { kassa: 'rate-limit', id, key, limit, nowMs };
      if (!process.send || !process.connected) return done(null);
      process.send(question, undefined, undefined, (error) => {
        if (error) done(null);
      });
    });
}
