/**
 * "Useful descriptions" (platform-guidelines §8, §21): the paymentDescription says what the customer
 * pays for. It is shown in the push message, the payment screen and the payment history, so a bare
 * order number, a word like "Payment", the merchant's own name (always displayed anyway) or a mention of
 * Vipps/MobilePay tells the customer nothing.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import type { Offender } from '../types.ts';

/** Inside compound words too ("Vippsbetaling", "VippsMobilePay gavekort"). */
const MENTIONS_BRAND = /vipps|mobile ?pay/i;
const SAYS_NOTHING = /^(payment|pay|betaling|betalning|maksu|order|ordre|bestilling|tilaus|purchase|kjøp|køb|osto|varer|goods)\.?$/i;
const ORDER_NUMBER =
  /^(order|ordre|ordrenr|bestilling|tilaus|payment|betaling|betalning|maksu|purchase|kjøp|køb|osto|no|nr|#)?\.?\s*(no\.?|nr\.?|id|number)?\s*[:#]?\s*\S*\d\S*$/i;
const SHOP_NUMBER = /^(shop|store|butikk|butik|kauppa)\s+(number|no\.?|nr\.?)?\s*\d+$/i;

/** Why the description is not useful, or null. */
export function descriptionProblem(description: unknown, reference: string, salesUnitName: string | undefined): string | null {
  if (typeof description !== 'string' || description.trim() === '') return 'no paymentDescription';
  const text = description.trim();
  if (MENTIONS_BRAND.test(text)) return `"${text}" mentions Vipps/MobilePay`;
  if (text.toLowerCase() === reference.toLowerCase()) return `"${text}" is only the reference`;
  if (SAYS_NOTHING.test(text)) return `"${text}" does not say what is paid for`;
  if (ORDER_NUMBER.test(text) || SHOP_NUMBER.test(text)) return `"${text}" is a bare order id`;
  if (salesUnitName && text.toLowerCase() === salesUnitName.toLowerCase()) return `"${text}" only repeats the sales unit's name`;
  return null;
}

export const descriptionsItem: ChecklistItem = {
  id: 'description',
  title: 'Useful payment descriptions',
  guideline: 'platform-guidelines §8, §21',
  rule:
    'Every payment has a paymentDescription that says what is paid for: not missing, not a bare order id or the ' +
    'reference, not a bare word like "Payment", not the sales unit\'s name, no mention of Vipps or MobilePay.',
  judge({ payments, evidence }) {
    if (payments.length === 0) return notExercised('No payments created in the period.');
    const names = new Map(evidence.salesUnits.map((u) => [u.msn, u.name]));
    const offenders: Offender[] = [];
    for (const payment of payments) {
      const problem = descriptionProblem(payment.request.paymentDescription, payment.reference, names.get(payment.msn));
      if (problem) offenders.push({ reference: payment.reference, msn: payment.msn, reason: problem });
    }
    const counts = { payments: payments.length, notUseful: offenders.length };
    if (offenders.length > 0) {
      return judgement('not_met', `${offenders.length} of ${payments.length} payment(s) without a useful description.`, {
        counts,
        offenders,
      });
    }
    const sample = payments[0]?.request.paymentDescription;
    return judgement('met', `All ${payments.length} description(s) say what is paid for (e.g. "${sample}").`, { counts });
  },
};
