/**
 * "Handle all states" (platform-guidelines §18; epayment-api §11): however a payment ends — AUTHORIZED,
 * ABORTED, EXPIRED or TERMINATED — the integration learns it: a webhook of that event answered 2XX, or a
 * read of the payment (GET or event log) after it. Only the unhappy endings exercise the item; the
 * evidence says which endings the integration has met so far.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { type Endpoint, endpointOf, finalEventOf, isSuccess, paymentKey, READING } from '../traffic.ts';
import type { Offender } from '../types.ts';

/** A state reached this recently may still be on its way (a webhook in flight, the next poll). */
export const GRACE_MS = 2 * 60 * 1000;
const STATES = ['AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'] as const;
/** Calls whose 2XX answer, after the end, shows the integration knew it: the reads and capture, refund, cancel. */
const SHOWS_THE_STATE: ReadonlySet<Endpoint> = new Set([...READING, 'capture', 'refund', 'cancel']);

export const finalStatesItem: ChecklistItem = {
  id: 'all-states',
  title: 'Every final state handled',
  guideline: 'platform-guidelines §18; epayment-api §11',
  rule:
    'Each payment that ended AUTHORIZED, ABORTED, EXPIRED or TERMINATED (more than 2 min ago) was seen by the integration: ' +
    'its webhook answered 2XX, or the payment was read, captured, refunded or cancelled (2XX) after it ended. ' +
    'Exercised once a payment ended other than AUTHORIZED, or any payment ended unnoticed.',
  judge({ payments, events, byPayment, evidence }) {
    const delivered = new Set(
      evidence.deliveries.filter((d) => d.state === 'delivered').map((d) => `${paymentKey(d.msn, d.reference)} ${d.eventType}`),
    );
    const seen: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
    const unheard: Offender[] = [];
    let byWebhook = 0;
    let byRead = 0;
    for (const payment of payments) {
      const final = finalEventOf(events.get(payment.id));
      if (!final) continue;
      seen[final.name] = (seen[final.name] ?? 0) + 1;
      if (evidence.now.getTime() - final.occurredAt.getTime() < GRACE_MS) continue;
      const key = paymentKey(payment.msn, payment.reference);
      const viaWebhook = delivered.has(`${key} epayments.payment.${final.name.toLowerCase()}.v1`);
      // A read after the end, or a capture, refund or cancel answered 2XX after it (logged when answered):
      // the integration's own cancel that ended the payment, or a capture that shows it knew.
      const viaRead = (byPayment.get(key) ?? []).some(
        (r) => SHOWS_THE_STATE.has(endpointOf(r)) && isSuccess(r.status) && r.at.getTime() >= final.occurredAt.getTime(),
      );
      if (viaWebhook) byWebhook += 1;
      if (viaRead) byRead += 1;
      if (!viaWebhook && !viaRead) {
        unheard.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `ended ${final.name} at ${final.occurredAt.toISOString()}; no webhook answered 2XX and never read afterwards`,
        });
      }
    }
    const counts = { ...seen, learnedByWebhook: byWebhook, learnedByRead: byRead, unheard: unheard.length };
    const unhappy = (seen.ABORTED ?? 0) + (seen.EXPIRED ?? 0) + (seen.TERMINATED ?? 0);
    const missing = STATES.filter((s) => (seen[s] ?? 0) === 0);
    const notYet = missing.length > 0 ? ` Not yet exercised: ${missing.join(', ')}.` : '';
    if (unheard.length > 0) {
      return judgement('not_met', `${unheard.length} payment(s) ended without the integration noticing.${notYet}`, {
        counts,
        offenders: unheard,
      });
    }
    if (unhappy === 0) return notExercised(`No payment ended ABORTED, EXPIRED or TERMINATED in the period.${notYet}`, counts);
    return judgement('met', `Every final state reached the integration.${notYet}`, { counts });
  },
};
