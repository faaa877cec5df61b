/**
 * "HTTP headers" (platform-guidelines §3.1, §3.2, §21: MISSING_SYSTEM_HEADERS, HEADER_TOO_LONG): every
 * API call names the system and plugin that made it, each value at most 30 characters. The token call
 * is not judged (the headers identify calls made on a merchant's behalf).
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, exampleOf } from '../traffic.ts';
import type { LoggedRequest, Offender } from '../types.ts';

export const SYSTEM_HEADERS = ['vipps-system-name', 'vipps-system-version', 'vipps-system-plugin-name', 'vipps-system-plugin-version'];
export const SYSTEM_HEADER_MAX = 30;

/** What is wrong with the request's Vipps-System-* headers, or null. Empty values count as absent (§3.2). */
export function systemHeaderProblem(request: LoggedRequest): string | null {
  const missing = SYSTEM_HEADERS.filter((name) => !request.headers[name]?.trim());
  if (missing.length > 0) return `missing ${missing.map(display).join(', ')}`;
  const long = SYSTEM_HEADERS.filter((name) => (request.headers[name] ?? '').length > SYSTEM_HEADER_MAX);
  if (long.length > 0) return `longer than ${SYSTEM_HEADER_MAX} characters: ${long.map(display).join(', ')}`;
  return null;
}

const display = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

export const systemHeadersItem: ChecklistItem = {
  id: 'system-headers',
  title: 'Vipps-System-* headers sent',
  guideline: 'platform-guidelines §3.1, §3.2, §21',
  rule: 'Every API call (the token call aside) carries Vipps-System-Name, -Version, -Plugin-Name and -Plugin-Version, each 1–30 characters.',
  judge({ requests }) {
    const calls = requests.filter((r) => endpointOf(r) !== 'token');
    if (calls.length === 0) return notExercised('No API calls in the period.');
    const bad: { request: LoggedRequest; problem: string }[] = [];
    for (const request of calls) {
      const problem = systemHeaderProblem(request);
      if (problem) bad.push({ request, problem });
    }
    const counts = { calls: calls.length, withoutProperHeaders: bad.length };
    if (bad.length === 0) {
      return judgement('met', `All ${calls.length} call(s) carried the four Vipps-System-* headers.`, {
        counts,
        examples: [exampleOf(calls[0] as LoggedRequest)],
      });
    }
    const reasons = new Map<string, Offender>();
    for (const { request, problem } of bad) {
      const key = `${request.method} ${request.route}: ${problem}`;
      if (!reasons.has(key)) reasons.set(key, { reference: request.reference, msn: request.msn, reason: key });
    }
    return judgement('not_met', `${bad.length} of ${calls.length} call(s) without proper Vipps-System-* headers.`, {
      counts,
      examples: bad.map((b) => exampleOf(b.request)),
      offenders: [...reasons.values()],
    });
  },
};
