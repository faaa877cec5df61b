/**
 * "Webhooks and polling" (platform-guidelines §5, §21 POLLING_TOO_FAST): the integration polls a
 * pending payment — starting 5 s after creating it, every 2 s — and stops once the payment is final.
 *
 * A read (GET payment or its event log) is a poll when the payment was still pending. Reads are judged
 * with 10 % tolerance for network jitter (the log times answers, not requests). One early read per
 * payment is tolerated: a return page may look the payment up the moment the customer comes back,
 * even in the middle of the polling; a loop is not.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { duration, endpointOf, exampleOf, finalEventOf, paymentKey, READING } from '../traffic.ts';
import type { LoggedRequest, Offender } from '../types.ts';

export const FIRST_POLL_MS = 5000;
export const POLL_INTERVAL_MS = 2000;
const TOLERANCE = 0.9;
/** A payment pending this long gave a 5-second-then-2-second poller time for two polls. */
export const PENDING_LONG_ENOUGH_MS = 10_000;
/** Reads after the final state this close together, for this long, are a poller that did not stop. */
const AFTER_FINAL_GAP_MS = 10_000;
const AFTER_FINAL_SPAN_MS = 30_000;

export const pollingItem: ChecklistItem = {
  id: 'polling',
  title: 'Polling within the guidelines',
  guideline: 'platform-guidelines §5, §21',
  rule:
    'Pending payments are polled (GET payment or event log): the first poll ≥ 5 s after create, then ≥ 2 s apart ' +
    '(one early read per payment tolerated), and polling stops at the final state.',
  judge({ payments, byPayment, events, evidence }) {
    const offenders: Offender[] = [];
    const examples: LoggedRequest[] = [];
    let exercised = false;
    let longPending = 0;
    let polledPayments = 0;
    let polls = 0;
    const neverPolled: Offender[] = [];
    for (const payment of payments) {
      const final = finalEventOf(events.get(payment.id));
      const finalAt = final?.occurredAt.getTime() ?? null;
      const createdAt = payment.createdAt.getTime();
      const reads = (byPayment.get(paymentKey(payment.msn, payment.reference)) ?? []).filter((r) => READING.has(endpointOf(r)));
      const pending = reads.filter((r) => r.at.getTime() >= createdAt && (finalAt === null || r.at.getTime() < finalAt));
      const pendingFor = (finalAt ?? evidence.now.getTime()) - createdAt;
      if (pendingFor >= PENDING_LONG_ENOUGH_MS) longPending += 1;
      if (pendingFor >= PENDING_LONG_ENOUGH_MS || pending.length >= 2) exercised = true;

      let tooSoon = 0;
      let firstTooSoon: LoggedRequest | undefined;
      let previous: LoggedRequest | undefined;
      for (const read of pending) {
        const t = read.at.getTime();
        const early = t - createdAt < FIRST_POLL_MS * TOLERANCE;
        const quick = previous !== undefined && t - previous.at.getTime() < POLL_INTERVAL_MS * TOLERANCE;
        if (early || quick) {
          tooSoon += 1;
          firstTooSoon ??= read;
        }
        previous = read;
      }
      const realPolls = pending.filter((r) => r.at.getTime() - createdAt >= FIRST_POLL_MS * TOLERANCE);
      polls += realPolls.length;
      if (realPolls.length > 0) polledPayments += 1;
      else if (pendingFor >= PENDING_LONG_ENOUGH_MS) {
        neverPolled.push({ reference: payment.reference, msn: payment.msn, reason: `pending ${duration(pendingFor)}, never polled` });
      }
      if (tooSoon >= 2) {
        offenders.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `polled too fast: ${tooSoon} of ${pending.length} polls came < 5 s after create or < 2 s after the previous one`,
        });
        if (firstTooSoon) examples.push(firstTooSoon);
      }

      if (finalAt !== null) {
        const after = reads.filter((r) => r.at.getTime() >= finalAt);
        let runStart: LoggedRequest | undefined;
        let last: LoggedRequest | undefined;
        let reported = false;
        for (const read of after) {
          if (!last || read.at.getTime() - last.at.getTime() > AFTER_FINAL_GAP_MS) runStart = read;
          last = read;
          if (!reported && runStart && read.at.getTime() - runStart.at.getTime() >= AFTER_FINAL_SPAN_MS) {
            reported = true;
            offenders.push({
              reference: payment.reference,
              msn: payment.msn,
              reason: `kept polling after the final state ${final?.name}: reads every few seconds for ${duration(read.at.getTime() - runStart.at.getTime())}`,
            });
            examples.push(read);
          }
        }
      }
    }
    const counts = { payments: payments.length, pendingLongEnough: longPending, polledPayments, polls, neverPolled: neverPolled.length };
    // Reads that went on after the final state show a poller that does not stop, however soon the payment ended.
    if (!exercised && offenders.length === 0) return notExercised('No payment stayed pending long enough to need polling.', counts);
    // Presence is judged over the integration: a clock moved in test mode can leave a payment unpolled.
    if (longPending > 0 && polledPayments === 0) {
      return judgement('not_met', `No polling: ${longPending} payment(s) stayed pending ≥ 10 s and none was ever polled.`, {
        counts,
        offenders: [...neverPolled, ...offenders],
      });
    }
    if (offenders.length > 0) {
      return judgement('not_met', `Polling outside the guidelines for ${offenders.length} payment(s).`, {
        counts,
        offenders,
        examples: examples.map(exampleOf),
      });
    }
    return judgement('met', `${polls} poll(s) of ${polledPayments} pending payment(s), all within the guidelines.`, { counts });
  },
};
