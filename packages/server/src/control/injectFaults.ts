/**
 * Fault injection (test mode) at the two places where an integration meets the platform:
 *
 * - API calls: after authentication (when the sales unit is known) the unit's `api` rules that match
 *   the call draw; the first error, timeout or capture failure that fires ends the draw, latencies
 *   that fire before it add up. A fault `before` the operation keeps it from running (the client may
 *   retry freely); a fault `after` it lets the operation commit and then loses the answer — the case
 *   that proves a client retries with the same Idempotency-Key (spec §12.1). A capture failure
 *   (captures only) lets the platform accept the capture and the acquirer fail it: 6260 or 6280, an
 *   event with `success: false`, the key free for the retry (modifyPayment.ts). Every fault is noted
 *   in the call's request-log row (`fault`). Kassa's own /kassa/v1 control API and the test helpers
 *   are never faulted.
 * - Webhook deliveries: before the first attempt of a delivery the unit's `webhook` rules draw; the
 *   first that fires drops it (never sent), delays it, holds it back behind the payment's later events
 *   (reorder), or queues a second copy (duplicate). The fault is recorded on the delivery and its
 *   attempts (GET /kassa/v1/webhooks/deliveries, /attempts).
 *
 * Latencies and timeouts hold a request in real time (the client's timers run in real time); a held
 * request is let go when its client disconnects or the server closes.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import type { Clock } from '../clock.ts';
import { DomainError, HttpProblem } from '../errors.ts';
import { problemFor } from '../http/problem.ts';
import { noteRequestFacts } from '../http/requestLog.ts';
import { dropDeliveryByFault, duplicateDeliveryByFault, postponeDeliveryByFault } from '../store/controlStore.ts';
import type { Database } from '../store/database.ts';
import { epaymentEventType } from '../webhooks/eventTypes.ts';
import type { ClaimedDelivery } from '../webhooks/types.ts';
import { API_OPERATIONS, type FaultRules, faultLabel } from './faultRules.ts';
import { type CaptureFaultKind, type FaultMatch, type FaultRule, isCaptureFault } from './types.ts';

/** Paths that are Kassa's own, not the platform's: never faulted. */
const NEVER_FAULTED = ['/kassa/', '/epayment/v1/test/'];

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.split('?')[0] ?? '';
}

export function matchesCall(match: FaultMatch, request: FastifyRequest): boolean {
  const route = routeOf(request);
  const path = request.url.split('?')[0] ?? '';
  if (match.method !== undefined && match.method !== request.method) return false;
  if (match.route !== undefined) {
    const wanted = match.route;
    const hit = wanted.endsWith('*')
      ? route.startsWith(wanted.slice(0, -1)) || path.startsWith(wanted.slice(0, -1))
      : route === wanted || path === wanted;
    if (!hit) return false;
  }
  if (match.operation !== undefined && API_OPERATIONS[`${request.method} ${route}`] !== match.operation) return false;
  return true;
}

function isCapture(request: FastifyRequest): boolean {
  return API_OPERATIONS[`${request.method} ${routeOf(request)}`] === 'capturePayment';
}

/** The Problem an error or timeout fault answers with, built like every other (errors.ts, problem.ts). */
function faultError(rule: FaultRule): Error {
  const source = `Kassa fault injection, rule ${rule.id}`;
  if (rule.kind === 'timeout') {
    return new HttpProblem(504, 'Gateway Timeout', `No answer within ${rule.delayMs} ms (${source}).`);
  }
  const status = rule.status ?? 500;
  if (status === 500) {
    return new DomainError(
      'internalError',
      `An unexpected error occurred (${source}). The request can be retried with the same Idempotency-Key.`,
    );
  }
  const headers: Record<string, string> = rule.retryAfterSeconds !== null ? { 'retry-after': String(rule.retryAfterSeconds) } : {};
  const wait = rule.retryAfterSeconds !== null ? ` Retry after ${rule.retryAfterSeconds} s.` : '';
  return new HttpProblem(status, STATUS_CODES[status] ?? 'Error', `The service could not answer (${source}).${wait}`, {}, headers);
}

/** Wires API fault injection into the app: wraps `deps.authenticate` and answers `after` faults in onSend. */
export function injectApiFaults(app: FastifyInstance, deps: ApiDeps, rules: FaultRules): void {
  const afterFaults = new WeakMap<FastifyRequest, FaultRule[]>();
  const captureFaults = new WeakMap<FastifyRequest, CaptureFaultKind>();
  deps.captureFault = (request) => captureFaults.get(request);
  const holds = new Set<() => void>();

  /** Waits `ms` of real time, or less when the client goes away or the server closes. */
  function hold(request: FastifyRequest, ms: number): Promise<void> {
    const socket = request.raw.socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        socket.off('close', release);
        holds.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      socket.on('close', release);
      holds.add(release);
    });
  }

  async function beforeOperation(request: FastifyRequest, msn: string): Promise<void> {
    if (NEVER_FAULTED.some((prefix) => request.url.startsWith(prefix))) return;
    const fired: FaultRule[] = [];
    for (const rule of rules.rulesFor(msn, 'api')) {
      if (!matchesCall(rule.match, request) || (isCaptureFault(rule.kind) && !isCapture(request)) || !(await rules.draw(rule))) continue;
      fired.push(rule);
      if (rule.kind !== 'latency') break;
    }
    if (fired.length === 0) return;
    noteRequestFacts(request, { fault: fired.map(faultLabel).join('; ') });
    const capture = fired.find((rule) => isCaptureFault(rule.kind));
    if (capture) captureFaults.set(request, capture.kind as CaptureFaultKind);
    const after = fired.filter((rule) => rule.when === 'after');
    if (after.length > 0) afterFaults.set(request, after);
    for (const rule of fired) {
      if (rule.when !== 'before') continue;
      if (rule.kind !== 'error') await hold(request, rule.delayMs ?? 0);
      // Thrown even when the client has gone: the operation must not run.
      if (rule.kind !== 'latency') throw faultError(rule);
    }
  }

  const authenticate = deps.authenticate;
  deps.authenticate = async (request) => {
    const caller = await authenticate(request);
    await beforeOperation(request, caller.salesUnit.msn);
    return caller;
  };

  app.addHook('onSend', async (request, reply, payload) => {
    const after = afterFaults.get(request);
    if (!after) return payload;
    afterFaults.delete(request);
    let answer = payload;
    for (const rule of after) {
      if (rule.kind !== 'error') await hold(request, rule.delayMs ?? 0);
      if (rule.kind === 'latency') continue;
      const { problem, headers } = problemFor(faultError(rule), request);
      reply.code(problem.status).headers(headers).type('application/problem+json');
      noteRequestFacts(request, { problem });
      answer = JSON.stringify(problem);
    }
    return answer;
  });

  app.addHook('preClose', async () => {
    for (const release of [...holds]) release();
  });
}

/**
 * The dispatcher's hook before an attempt (webhookDispatcher.ts `beforeAttempt`): applies a webhook
 * fault to the first attempt of a delivery; false when the attempt must not be made now.
 */
export function webhookFaults(rules: FaultRules, db: Database, clock: Clock) {
  return async (delivery: ClaimedDelivery, worker: string): Promise<boolean> => {
    if (delivery.attempts > 0 || delivery.fault !== null) return true;
    const msn = delivery.event.msn;
    const eventType = epaymentEventType(delivery.event.name);
    for (const rule of rules.rulesFor(msn, 'webhook')) {
      if (rule.match.eventType !== undefined && rule.match.eventType !== eventType) continue;
      if (!(await rules.draw(rule))) continue;
      const fault = faultLabel(rule);
      const now = clock.now(msn);
      switch (rule.kind) {
        case 'drop':
          await dropDeliveryByFault(db, {
            deliveryId: delivery.id,
            worker,
            scheduledAt: delivery.scheduledAt,
            at: now,
            wallAt: new Date(clock.wallNowMs()),
            fault,
          });
          return false;
        case 'delay':
        case 'reorder':
          await postponeDeliveryByFault(db, {
            deliveryId: delivery.id,
            worker,
            until: new Date(now.getTime() + (rule.delayMs ?? 0)),
            fault,
            outOfOrder: rule.kind === 'reorder',
          });
          return false;
        case 'duplicate':
          await duplicateDeliveryByFault(db, { deliveryId: delivery.id, at: now, fault });
          return true;
      }
    }
    return true;
  };
}
