/**
 * Rate limits (platform-guidelines §5 "ePayment rate limits"): an integration that keeps within them is
 * never answered 429. A 429 that fault injection produced tests the client's back-off, not its pace,
 * and is not counted.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, exampleOf } from '../traffic.ts';

/** The 429 came from an `error` fault with status 429 (faultLabel: "error 429 …"), not from the limiter under another fault. */
const injected429 = (fault: string | null) => fault !== null && /(^|; )error 429\b/.test(fault);

export const rateLimitsItem: ChecklistItem = {
  id: 'rate-limits',
  title: 'Within the rate limits',
  guideline: 'platform-guidelines §5',
  rule: 'No call was answered 429 Too Many Requests (429s injected by fault injection excepted).',
  judge({ requests }) {
    const api = requests.filter((r) => endpointOf(r) !== 'token');
    if (api.length === 0) return notExercised('No API calls in the period.');
    const limited = api.filter((r) => r.status === 429 && !injected429(r.fault));
    const injected = api.filter((r) => r.status === 429 && injected429(r.fault)).length;
    const counts = { calls: api.length, rateLimited: limited.length, injected429: injected };
    if (limited.length === 0) return judgement('met', `${api.length} call(s), none rate limited.`, { counts });
    const perPayment = new Map<string, number>();
    for (const r of limited) perPayment.set(`${r.msn}/${r.reference ?? ''}`, (perPayment.get(`${r.msn}/${r.reference ?? ''}`) ?? 0) + 1);
    return judgement('not_met', `${limited.length} call(s) were answered 429.`, {
      counts,
      examples: limited.map(exampleOf),
      offenders: [...perPayment].map(([key, n]) => {
        const [msn, reference] = key.split('/');
        return { reference: reference || null, msn: msn || null, reason: `${n} call(s) answered 429` };
      }),
    });
  },
};
