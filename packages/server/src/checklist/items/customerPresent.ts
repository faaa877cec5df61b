/**
 * "Customer interaction" (platform-guidelines §12.1, §14, §17.2, §21 MISSING_CUSTOMER_INTERACTION): a
 * payment at a physical point of sale says `customerInteraction: CUSTOMER_PRESENT`. The flows that are
 * in-store are QR (a code on a customer-facing screen) and PUSH_MESSAGE (POS, vending). PUSH_MESSAGE is
 * also the call-centre flow (§10.1), so there an explicit CUSTOMER_NOT_PRESENT is accepted; leaving the
 * field out (the default is CUSTOMER_NOT_PRESENT) is not.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, isSuccess, paymentKey } from '../traffic.ts';
import type { Offender } from '../types.ts';

export const customerPresentItem: ChecklistItem = {
  id: 'customer-present',
  title: 'CUSTOMER_PRESENT for in-store flows',
  guideline: 'platform-guidelines §12.1, §14, §17.2, §21',
  rule:
    'QR payments send customerInteraction CUSTOMER_PRESENT; PUSH_MESSAGE payments send customerInteraction explicitly ' +
    '(CUSTOMER_PRESENT in store, CUSTOMER_NOT_PRESENT only for call centres).',
  judge({ payments, byPayment }) {
    const inStore = payments.filter((p) => p.userFlow === 'QR' || p.userFlow === 'PUSH_MESSAGE');
    if (inStore.length === 0) return notExercised('No QR or PUSH_MESSAGE payments in the period.');
    const offenders: Offender[] = [];
    for (const payment of inStore) {
      // What the create call sent: the stored payment has the default filled in.
      const create = byPayment
        .get(paymentKey(payment.msn, payment.reference))
        ?.find((r) => endpointOf(r) === 'create' && isSuccess(r.status));
      const interaction = create
        ? (create.body as { customerInteraction?: string } | null)?.customerInteraction
        : payment.request.customerInteraction;
      if (payment.userFlow === 'QR' && interaction !== 'CUSTOMER_PRESENT') {
        offenders.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `QR payment with customerInteraction ${interaction ?? 'missing'}`,
        });
      } else if (payment.userFlow === 'PUSH_MESSAGE' && interaction == null) {
        offenders.push({ reference: payment.reference, msn: payment.msn, reason: 'PUSH_MESSAGE payment without customerInteraction' });
      }
    }
    const counts = {
      qr: inStore.filter((p) => p.userFlow === 'QR').length,
      pushMessage: inStore.filter((p) => p.userFlow === 'PUSH_MESSAGE').length,
      wrong: offenders.length,
    };
    if (offenders.length > 0) {
      return judgement('not_met', `${offenders.length} in-store payment(s) without CUSTOMER_PRESENT.`, { counts, offenders });
    }
    return judgement('met', `All ${inStore.length} QR/PUSH_MESSAGE payment(s) state the customer interaction.`, { counts });
  },
};
