/**
 * Idempotency (platform-guidelines §3.3, §21 MISSING_IDEMPOTENCY_KEY): every create, capture, refund and
 * cancel carries an Idempotency-Key; a retry carries the key of the call it repeats; a key is never
 * reused for a different request.
 *
 * A retry is the same request (same client, method, path and body) sent within RETRY_WINDOW after an
 * answer that did not settle the outcome: 5XX, 408, 423, 429, or an injected timeout/dropped answer.
 * Sending the same request again after a 2XX is not a retry: two equal partial captures are two
 * shipments, and they need two keys.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { duration, endpointOf, exampleOf, isIndefinite, MODIFYING, sameRequest } from '../traffic.ts';
import type { LoggedRequest, Offender } from '../types.ts';

export const RETRY_WINDOW_MS = 10 * 60 * 1000;

/** 409s that say a key was used before for another request (4010 capture, 4150 refund, 4020 the rest). */
export function isKeyConflict(request: LoggedRequest): boolean {
  if (request.status !== 409) return false;
  return request.errorCode === 4010 || request.errorCode === 4020 || (request.errorCode === 4150 && endpointOf(request) === 'refund');
}

export const idempotencyItem: ChecklistItem = {
  id: 'idempotency',
  title: 'Idempotency keys sent and reused on retries',
  guideline: 'platform-guidelines §3.3, §21',
  rule:
    'Create, capture, refund and cancel carry an Idempotency-Key; a retry after 5XX/408/423/429 or a lost answer ' +
    '(same request within 10 min) reuses the key; no key is reused for a different request.',
  judge({ requests }) {
    const modifying = requests.filter((r) => MODIFYING.has(endpointOf(r)));
    if (modifying.length === 0) return notExercised('No create, capture, refund or cancel calls in the period.');
    const offenders: Offender[] = [];
    const examples: LoggedRequest[] = [];
    const withoutKey = modifying.filter((r) => r.idempotencyKey === null);
    for (const request of withoutKey) {
      offenders.push({
        reference: request.reference,
        msn: request.msn,
        reason: `${request.method} ${request.path} without Idempotency-Key`,
      });
    }
    examples.push(...withoutKey.slice(0, 3));

    let retries = 0;
    let newKeyRetries = 0;
    modifying.forEach((request, index) => {
      if (!isIndefinite(request)) return;
      const retry = modifying
        .slice(index + 1)
        .find((later) => later.at.getTime() - request.at.getTime() <= RETRY_WINDOW_MS && sameRequest(request, later));
      if (!retry) return;
      retries += 1;
      if (retry.idempotencyKey === request.idempotencyKey) return;
      newKeyRetries += 1;
      examples.push(request, retry);
      offenders.push({
        reference: retry.reference,
        msn: retry.msn,
        reason:
          `${retry.method} ${retry.path} retried ${duration(retry.at.getTime() - request.at.getTime())} after a ${request.status}` +
          `${request.fault ? ` (${request.fault})` : ''} with a new Idempotency-Key (${request.idempotencyKey ?? 'none'} → ${retry.idempotencyKey ?? 'none'})`,
      });
    });

    const conflicts = modifying.filter(isKeyConflict);
    for (const request of conflicts) {
      offenders.push({
        reference: request.reference,
        msn: request.msn,
        reason: `Idempotency-Key ${request.idempotencyKey} reused for a different ${endpointOf(request)} (409, ${request.errorCode})`,
      });
    }
    examples.push(...conflicts.slice(0, 3));

    const counts = {
      modifyingCalls: modifying.length,
      withoutKey: withoutKey.length,
      retries,
      retriesWithNewKey: newKeyRetries,
      keyConflicts: conflicts.length,
    };
    if (offenders.length > 0) {
      const parts = [];
      if (withoutKey.length > 0) parts.push(`${withoutKey.length} call(s) without a key`);
      if (newKeyRetries > 0) parts.push(`${newKeyRetries} retr${newKeyRetries === 1 ? 'y' : 'ies'} with a new key`);
      if (conflicts.length > 0) parts.push(`${conflicts.length} key(s) reused for another request`);
      return judgement('not_met', `Idempotency: ${parts.join('; ')}.`, { counts, offenders, examples: examples.map(exampleOf) });
    }
    return judgement(
      'met',
      `All ${modifying.length} modifying call(s) carried a key` +
        (retries > 0 ? `; ${retries} retr${retries === 1 ? 'y' : 'ies'} reused it.` : '.'),
      { counts, examples: modifying.slice(0, 1).map(exampleOf) },
    );
  },
};
