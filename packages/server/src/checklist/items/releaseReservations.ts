/**
 * "Cancel what will not be captured" (platform-guidelines §14 "Release funds", §21 UNCAPTURED_RESERVATION):
 * a reservation — or the rest of one after a partial capture — is captured or cancelled by the
 * integration, not left to the platform's deadline.
 *
 * Kassa cannot know which order will still ship, so the deadline is the evidence: a remainder the
 * platform cancelled itself at the capture deadline, or one still reserved less than a day before it,
 * was left dangling. (The SDK's reservation keeper settles two days before the deadline.) A payment
 * whose capture was refused for lateness counts against "capture before expiry" instead, once.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { duration, endpointOf, paymentKey } from '../traffic.ts';
import type { Offender } from '../types.ts';
import { CAPTURE_PERIOD_EXPIRED } from './captureBeforeExpiry.ts';

export const NEAR_DEADLINE_MS = 24 * 60 * 60 * 1000;

export const releaseReservationsItem: ChecklistItem = {
  id: 'release-reservations',
  title: 'Unused reservations cancelled',
  guideline: 'platform-guidelines §14, §21',
  rule:
    'No authorized amount (nor the rest after a partial capture) is left reserved until the capture deadline: ' +
    'none cancelled by the platform at the deadline, none still reserved within a day of it.',
  judge({ payments, events, byPayment, evidence }) {
    const authorized = [...payments, ...evidence.olderReservations].filter((p) => p.authorizedAt !== null && p.authorized > 0);
    if (authorized.length === 0) return notExercised('No payment was authorized in the period.');
    const offenders: Offender[] = [];
    let settledByIntegration = 0;
    let partiallyCapturedThenCancelled = 0;
    for (const payment of authorized) {
      const requests = byPayment.get(paymentKey(payment.msn, payment.reference)) ?? [];
      if (requests.some((r) => endpointOf(r) === 'capture' && r.errorCode === CAPTURE_PERIOD_EXPIRED)) continue;
      const deadline = payment.captureDeadline?.getTime() ?? null;
      const partial = payment.captured > 0 ? `the rest after capturing ${payment.captured}` : 'the whole reservation';
      const autoCancel = (events.get(payment.id) ?? []).find(
        (e) => e.name === 'CANCELLED' && deadline !== null && e.occurredAt.getTime() >= deadline,
      );
      const remaining = payment.authorized - payment.captured - payment.cancelled;
      if (autoCancel) {
        offenders.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `${partial} (${autoCancel.amount} ${payment.currency}) was left until the capture deadline; the platform cancelled it`,
        });
      } else if (remaining > 0 && deadline !== null && deadline - evidence.now.getTime() < NEAR_DEADLINE_MS) {
        offenders.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `${partial} (${remaining} ${payment.currency}) is still reserved ${duration(Math.max(0, deadline - evidence.now.getTime()))} before the capture deadline`,
        });
      } else if (remaining === 0) {
        settledByIntegration += 1;
        if (payment.captured > 0 && payment.cancelled > 0) partiallyCapturedThenCancelled += 1;
      }
    }
    const counts = {
      authorized: authorized.length,
      settled: settledByIntegration,
      partialCaptureThenCancel: partiallyCapturedThenCancelled,
      leftDangling: offenders.length,
    };
    if (offenders.length > 0) {
      return judgement('not_met', `${offenders.length} reservation(s) left to the capture deadline.`, { counts, offenders });
    }
    return judgement('met', `No reservation left dangling (${settledByIntegration} of ${authorized.length} settled in full).`, { counts });
  },
};
