/**
 * "Cross-border customers" (platform-guidelines §14 "Cross-border"): any Nordic user can pay any Nordic
 * merchant, so an integration must not assume the customer's country. Exercised when a user of another
 * market authorized a payment of the sales unit. An integration that refuses such customers shows it by
 * releasing their reservations at once: cancelled in full, nothing captured, within 10 minutes.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, isSuccess, paymentKey } from '../traffic.ts';
import type { Offender, PaymentFacts } from '../types.ts';

export const PROMPT_RELEASE_MS = 10 * 60 * 1000;

const PREFIXES: [string, string][] = [
  ['358', 'FI'],
  ['47', 'NO'],
  ['45', 'DK'],
  ['46', 'SE'],
];

/** The user's market: from the test users, else from the phone number's country code. */
export function customerMarketOf(payment: Pick<PaymentFacts, 'customerMarket' | 'customerPhone'>): string | null {
  if (payment.customerMarket) return payment.customerMarket;
  const phone = payment.customerPhone?.replace(/^\+|^00/, '');
  return PREFIXES.find(([prefix]) => phone?.startsWith(prefix))?.[1] ?? null;
}

export const crossBorderItem: ChecklistItem = {
  id: 'cross-border',
  title: 'Customers from other markets accepted',
  guideline: 'platform-guidelines §14',
  rule:
    'Payments authorized by users of another market are handled like any other: not cancelled in full without ' +
    'capture within 10 minutes of authorization. Exercised once such a user authorized a payment.',
  judge({ payments, byPayment, evidence }) {
    const markets = new Map(evidence.salesUnits.map((u) => [u.msn, u.market]));
    const foreign = payments.filter((p) => {
      const market = customerMarketOf(p);
      return p.authorizedAt !== null && market !== null && market !== markets.get(p.msn);
    });
    if (foreign.length === 0) return notExercised('No payment was authorized by a user from another market.');
    const offenders: Offender[] = [];
    for (const payment of foreign) {
      const authorizedAt = (payment.authorizedAt as Date).getTime();
      const quickCancel = (byPayment.get(paymentKey(payment.msn, payment.reference)) ?? []).find(
        (r) => endpointOf(r) === 'cancel' && isSuccess(r.status) && r.at.getTime() - authorizedAt <= PROMPT_RELEASE_MS,
      );
      if (quickCancel && payment.captured === 0 && payment.cancelled >= payment.authorized) {
        offenders.push({
          reference: payment.reference,
          msn: payment.msn,
          reason: `authorized by a user from ${customerMarketOf(payment)} and cancelled in full ${Math.round((quickCancel.at.getTime() - authorizedAt) / 1000)} s later`,
        });
      }
    }
    const byMarket: Record<string, number> = {};
    for (const p of foreign) byMarket[`from${customerMarketOf(p)}`] = (byMarket[`from${customerMarketOf(p)}`] ?? 0) + 1;
    const counts = { foreignPayments: foreign.length, ...byMarket, releasedAtOnce: offenders.length };
    if (offenders.length > 0)
      return judgement('not_met', `${offenders.length} cross-border payment(s) were released at once.`, { counts, offenders });
    return judgement('met', `${foreign.length} payment(s) by users from other markets, handled like the rest.`, { counts });
  },
};
