/**
 * "Handle all errors" (platform-guidelines §3.3, §15, §18): a refused request is fixed, not repeated.
 * "A request rejected with 4xx stays rejected for that key; use a new key after fixing the request"
 * (§3.3) — so the same request sent again after a 4XX (with the same key or a new one) that is refused
 * the same way again shows an integration that does not read the error. 423, 429 and the codes that
 * say "retry later" (6250, 6260) ask for a retry, and a 499 is the client hanging up: none is a refusal.
 */
import { retryableCodes } from '../../errors.ts';
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, exampleOf, MODIFYING, sameRequest } from '../traffic.ts';
import type { LoggedRequest, Offender } from '../types.ts';
import { RETRY_WINDOW_MS } from './idempotency.ts';

/** Statuses in the 4XX range that are not the platform refusing the request: a timeout, a lock, the rate limit, the client hanging up (499). */
const NOT_REFUSALS = new Set([408, 423, 429, 499]);

export function isRefusal(request: LoggedRequest): boolean {
  if (request.status < 400 || request.status >= 500 || NOT_REFUSALS.has(request.status)) return false;
  // 6250 and 6260 say "retry later", with the same key.
  return request.errorCode === null || !retryableCodes.has(request.errorCode);
}

export const errorHandlingItem: ChecklistItem = {
  id: 'errors',
  title: 'Errors handled',
  guideline: 'platform-guidelines §3.3, §15, §18',
  rule: 'After a 4XX refusal of a create/capture/refund/cancel, the identical request is not sent again (within 10 min) only to be refused the same way.',
  judge({ requests }) {
    const modifying = requests.filter((r) => MODIFYING.has(endpointOf(r)));
    const refused = modifying.filter(isRefusal);
    if (refused.length === 0) return notExercised('The platform refused no create, capture, refund or cancel call in the period.');
    const offenders: Offender[] = [];
    const examples: LoggedRequest[] = [];
    const repeatedIds = new Set<number>();
    for (const request of refused) {
      if (repeatedIds.has(request.id)) continue;
      const repeats = modifying.filter(
        (later) =>
          later.at > request.at &&
          later.at.getTime() - request.at.getTime() <= RETRY_WINDOW_MS &&
          sameRequest(request, later) &&
          later.status === request.status &&
          later.errorCode === request.errorCode,
      );
      if (repeats.length === 0) continue;
      for (const repeat of repeats) repeatedIds.add(repeat.id);
      const keys = new Set([request, ...repeats].map((r) => r.idempotencyKey)).size > 1 ? 'with new keys' : 'with the same key';
      offenders.push({
        reference: request.reference,
        msn: request.msn,
        reason: `${request.method} ${request.path} refused ${request.status}${request.errorCode ? ` (${request.errorCode})` : ''} and sent again unchanged ${repeats.length} time(s) ${keys}`,
      });
      examples.push(request, repeats[0] as LoggedRequest);
    }
    const codes: Record<string, number> = {};
    for (const r of refused)
      codes[`refused${r.status}${r.errorCode ? `_${r.errorCode}` : ''}`] =
        (codes[`refused${r.status}${r.errorCode ? `_${r.errorCode}` : ''}`] ?? 0) + 1;
    const counts = { refused: refused.length, blindRepeats: repeatedIds.size, ...codes };
    if (offenders.length > 0) {
      return judgement('not_met', `${offenders.length} refused request(s) were repeated unchanged.`, {
        counts,
        offenders,
        examples: examples.map(exampleOf),
      });
    }
    return judgement('met', `${refused.length} refusal(s), none repeated unchanged.`, {
      counts,
      examples: refused.slice(0, 3).map(exampleOf),
    });
  },
};
