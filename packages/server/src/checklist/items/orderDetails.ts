/**
 * "Order details" (epayment-api §14.6; platform-guidelines §8 "for long baskets attach order lines"):
 * the customer sees what they bought in the app — a `receipt` with order lines, or a `receiptUrl`.
 * Order details attached later through the Order Management API are out of Kassa's scope.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import type { Offender } from '../types.ts';

export const orderDetailsItem: ChecklistItem = {
  id: 'receipt',
  title: 'Order details (receipt) added',
  guideline: 'epayment-api §14.6; platform-guidelines §8',
  rule: 'Every payment is created with a receipt (order lines) or a receiptUrl.',
  judge({ payments }) {
    if (payments.length === 0) return notExercised('No payments created in the period.');
    const offenders: Offender[] = payments
      .filter((p) => p.request.receipt == null && (typeof p.request.receiptUrl !== 'string' || p.request.receiptUrl === ''))
      .map((p) => ({ reference: p.reference, msn: p.msn, reason: 'created without receipt or receiptUrl' }));
    const counts = {
      payments: payments.length,
      withReceipt: payments.filter((p) => p.request.receipt != null).length,
      withReceiptUrl: payments.filter((p) => typeof p.request.receiptUrl === 'string' && p.request.receiptUrl !== '').length,
      without: offenders.length,
    };
    if (offenders.length > 0)
      return judgement('not_met', `${offenders.length} of ${payments.length} payment(s) without order details.`, { counts, offenders });
    return judgement('met', `All ${payments.length} payment(s) carry order details.`, { counts });
  },
};
