/**
 * "Capture before expiry" (platform-guidelines §14 "Capture deadline"): captures happen while the
 * reservation lasts — 180 days in Norway, 14 in Denmark and Finland. A capture the platform refused
 * with 6100 (capture period expired) was attempted too late.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, exampleOf, isSuccess } from '../traffic.ts';
import type { LoggedRequest } from '../types.ts';

export const CAPTURE_PERIOD_EXPIRED = 6100;

export const captureBeforeExpiryItem: ChecklistItem = {
  id: 'capture-before-expiry',
  title: 'Captured before the deadline',
  guideline: 'platform-guidelines §14',
  rule: 'No capture was attempted after the capture deadline (refused with 6100 "Capture period expired").',
  judge({ requests }) {
    const captures = requests.filter((r) => endpointOf(r) === 'capture');
    if (captures.length === 0) return notExercised('No capture calls in the period.');
    const late = captures.filter((r) => r.errorCode === CAPTURE_PERIOD_EXPIRED);
    const lateReferences = new Map<string, LoggedRequest>();
    for (const r of late) if (!lateReferences.has(`${r.msn}/${r.reference}`)) lateReferences.set(`${r.msn}/${r.reference}`, r);
    const counts = {
      captures: captures.length,
      successful: captures.filter((r) => isSuccess(r.status)).length,
      afterDeadline: late.length,
    };
    if (late.length > 0) {
      return judgement('not_met', `${lateReferences.size} payment(s) were captured after their deadline.`, {
        counts,
        examples: [...lateReferences.values()].map(exampleOf),
        offenders: [...lateReferences.values()].map((r) => ({
          reference: r.reference,
          msn: r.msn,
          reason: `capture at ${r.at.toISOString()} refused: capture period expired (6100)`,
        })),
      });
    }
    return judgement('met', `${counts.successful} capture(s), none after a deadline.`, { counts });
  },
};
