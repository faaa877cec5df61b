/**
 * "Webhooks and polling" (platform-guidelines §4.5, §5, §18): the integration registered webhooks for
 * the payment's final states, and its receiver answers them 2XX within the 10-second deadline.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import type { AttemptFacts, Offender } from '../types.ts';

/** The events that tell an integration how a payment ended; what polling would otherwise find. */
export const FINAL_STATE_EVENTS = [
  'epayments.payment.authorized.v1',
  'epayments.payment.aborted.v1',
  'epayments.payment.expired.v1',
  'epayments.payment.terminated.v1',
];

/**
 * Attempts shaped by fault injection (a dropped or held delivery) say nothing about the receiver; one
 * that a `duplicate` fault copied was sent all the same, and its answer counts.
 */
const injected = (attempt: AttemptFacts) => attempt.fault !== null && !attempt.fault.startsWith('duplicate');

export const webhooksItem: ChecklistItem = {
  id: 'webhooks',
  title: 'Webhooks registered and answered',
  guideline: 'platform-guidelines §4.5, §5, §18',
  rule:
    'A webhook registration covers the authorized, aborted, expired and terminated events, and every delivery was ' +
    'eventually answered 2XX within 10 s (no delivery left failing or dropped, no registration removed as unresponsive).',
  judge({ evidence, payments }) {
    const active = evidence.registrations.filter((r) => r.disabledAt === null || r.disabledAt >= evidence.since);
    if (payments.length === 0 && active.length === 0) return notExercised('No payments and no webhook registrations in the period.');
    const covered = new Set(active.flatMap((r) => r.events));
    const uncovered = FINAL_STATE_EVENTS.filter((event) => !covered.has(event));
    const attempts = evidence.attempts.filter((a) => !injected(a));
    const byDelivery = new Map<number, AttemptFacts[]>();
    for (const attempt of attempts) {
      let list = byDelivery.get(attempt.deliveryId);
      if (!list) byDelivery.set(attempt.deliveryId, (list = []));
      list.push(attempt);
    }
    // A removed registration first: the offender list is cut at its first few.
    const offenders: Offender[] = evidence.registrations
      .filter((r) => r.disabledReason === 'unresponsive')
      .map((r) => ({ reference: null, msn: r.msn, reason: `registration ${r.url} was removed as unresponsive` }));
    let recovered = 0;
    let stillFailing = 0;
    for (const delivery of evidence.deliveries) {
      const tried = (byDelivery.get(delivery.id) ?? []).sort((a, b) => a.attempt - b.attempt);
      const last = tried.at(-1);
      if (!last) continue;
      const failures = tried.filter((a) => a.outcome !== 'delivered');
      if (delivery.state === 'delivered' || last.outcome === 'delivered') {
        if (failures.length > 0) recovered += 1;
        continue;
      }
      stillFailing += 1;
      const answer = last.httpStatus !== null ? `HTTP ${last.httpStatus}` : (last.error ?? last.outcome);
      offenders.push({
        reference: delivery.reference,
        msn: delivery.msn,
        reason: `${delivery.eventType} ${delivery.state === 'dropped' ? 'dropped' : 'still failing'} after ${tried.length} attempt(s); last answer: ${answer}`,
      });
    }
    const counts = {
      registrations: active.length,
      deliveries: evidence.deliveries.length,
      attempts: attempts.length,
      failedAttempts: attempts.filter((a) => a.outcome !== 'delivered').length,
      recoveredDeliveries: recovered,
      failingDeliveries: stillFailing,
      slowestAnswerMs: Math.max(0, ...attempts.filter((a) => a.outcome === 'delivered').map((a) => a.durationMs)),
    };
    if (active.length === 0) {
      return judgement('not_met', 'Payments were made but no webhook was registered.', {
        counts,
        offenders: [{ reference: null, msn: evidence.scope.msn ?? null, reason: 'no webhook registration' }],
      });
    }
    if (uncovered.length > 0) {
      offenders.unshift({ reference: null, msn: evidence.scope.msn ?? null, reason: `no registration for ${uncovered.join(', ')}` });
    }
    if (offenders.length > 0) {
      const parts = [];
      if (uncovered.length > 0) parts.push(`not registered for ${uncovered.join(', ')}`);
      if (stillFailing > 0) parts.push(`${stillFailing} deliveries never answered 2XX`);
      if (counts.registrations > 0 && offenders.some((o) => o.reason.includes('unresponsive')))
        parts.push('a registration was removed as unresponsive');
      return judgement('not_met', `Webhooks: ${parts.join('; ')}.`, { counts, offenders });
    }
    return judgement(
      'met',
      `${active.length} registration(s) cover the final states; ${counts.attempts} attempt(s), every delivery answered 2XX` +
        (recovered > 0 ? ` (${recovered} after a retry)` : '') +
        '.',
      { counts },
    );
  },
};
