/**
 * A test user approves a payment — from the wallet-app simulator or the force-approve endpoint, the
 * same domain operation. Card outcomes and the test environment's magic amounts (spec §16) decide
 * whether the authorization succeeds; a failed one leaves the payment CREATED so the user may retry,
 * and amount 201 leaves it waiting for an issuer that does not answer.
 */

import type { TestCard } from '../customer/testUsers.ts';
import { ageOn } from '../customer/testUsers.ts';
import { DomainError } from '../errors.ts';
import type { SalesUnit } from '../payments/salesUnits.ts';
import { authorizationPending, authorizePayment, awaitIssuer } from '../payments/stateMachine.ts';
import type { Payment, PaymentEvent } from '../payments/types.ts';
import type { Queryable, QueryOptions } from '../store/database.ts';
import { listEvents, updateAuthorizationWindow } from '../store/paymentsStore.ts';
import { recordManualApproval, type StoredUser, subFor } from '../store/usersStore.ts';
import { applyTransition } from './applyTransition.ts';

/** Authorization magic amounts of the test environment (spec §16). */
const magicAmounts: Record<number, string> = {
  151: 'insufficient funds',
  182: 'refused by issuer',
  183: 'suspected fraud',
  184: 'withdrawal limit exceeded',
  186: 'expired card',
  187: 'invalid card',
  197: '3-D Secure denied',
  202: 'strong customer authentication required',
};

/** Test amount 201: the issuer's answer stays unknown this long (spec §16), then the payment expires. */
const UNKNOWN_RESULT_AMOUNT = 201;
const UNKNOWN_RESULT_MS = 60 * 60 * 1000;

const cardFailures: Record<Exclude<TestCard['outcome'], 'approve'>, string> = {
  declined: 'the card was declined by the issuer',
  insufficient_funds: 'insufficient funds',
  expired: 'the card has expired',
};

export interface Approval {
  user: StoredUser;
  /** The card to pay with; the user's first working card when absent. */
  cardId?: string;
  /** From the app (counts as the manual approval the platform requires before force approve). */
  manual: boolean;
  /** Express: the shipping option chosen in the app. */
  shipping?: { details: Record<string, unknown>; cost: number };
  testMode: boolean;
  /** The create request's key, when the caller read it already (createKeyOf, alongside the user). */
  createKey?: string | null;
}

/** The create request's idempotency key, which the platform's event log repeats on AUTHORIZED (spec §7 example). */
export async function createKeyOf(tx: Queryable, payment: Payment): Promise<string | null> {
  return (await listEvents(tx, payment.id)).find((e) => e.name === 'CREATED')?.idempotencyKey ?? null;
}

/** A wallet payment approved with test amount 201 whose issuer has not answered yet (a PSP's pending callbacks are its own). */
export function awaitingIssuer(payment: Pick<Payment, 'state' | 'processingUntil' | 'paymentMethodType'>, now: Date): boolean {
  return payment.paymentMethodType !== 'CARD_PASSTHROUGH' && authorizationPending(payment, now);
}

export function chooseCard(user: StoredUser, cardId?: string): TestCard {
  if (user.cards.length === 0) throw new DomainError('noCards', `Test user ${user.phone} has no cards.`);
  const card = cardId ? user.cards.find((c) => c.id === cardId) : (user.cards.find((c) => c.outcome === 'approve') ?? user.cards[0]);
  if (!card) throw new DomainError('invalidPaymentSource', `Test user ${user.phone} has no card "${cardId}".`);
  return card;
}

export function userDetailsFor(user: StoredUser, scopes: string[]): Record<string, unknown> | null {
  if (scopes.length === 0) return null;
  const details: Record<string, unknown> = {};
  for (const scope of scopes) {
    if (scope === 'name') Object.assign(details, { firstName: user.firstName, lastName: user.lastName });
    if (scope === 'email') details.email = user.email;
    if (scope === 'phoneNumber') details.mobileNumber = user.phone;
    if (scope === 'birthDate') details.dateOfBirth = user.birthDate;
    if (scope === 'address') details.addresses = [user.address];
    if (scope === 'nin') details.nin = user.nin;
  }
  return details;
}

export function scopesOf(payment: Payment): string[] {
  const profile = payment.request.profile as { scope?: string } | null | undefined;
  return profile?.scope?.split(/\s+/).filter(Boolean) ?? [];
}

export async function approvePayment(
  tx: Queryable,
  payment: Payment,
  salesUnit: SalesUnit,
  approval: Approval,
  now: Date,
  options?: QueryOptions,
): Promise<PaymentEvent[]> {
  const { user } = approval;
  if (awaitingIssuer(payment, now)) {
    throw new DomainError('approveFailed', 'The payment is being authorized; its result is not known yet.');
  }
  const minimumUserAge = payment.request.minimumUserAge as number | null | undefined;
  if (minimumUserAge && ageOn(user.birthDate, now) < minimumUserAge) {
    throw new DomainError('approveFailed', `The user is younger than the minimum age of ${minimumUserAge}.`);
  }
  if (!user.canPayBusinesses) throw new DomainError('approveNotAllowed', 'This user cannot pay businesses.');
  const card = chooseCard(user, approval.cardId);
  const magic = approval.testMode ? magicAmounts[payment.amount] : undefined;
  if (magic) throw new DomainError('approveFailed', `Authorization failed: ${magic} (test amount ${payment.amount}).`);
  if (card.outcome !== 'approve') throw new DomainError('approveFailed', `Authorization failed: ${cardFailures[card.outcome]}.`);
  // The user answered by hand; a refusal below rolls this back with the rest of the transaction.
  if (approval.manual) await recordManualApproval(tx, user.phone);
  if (approval.testMode && payment.amount === UNKNOWN_RESULT_AMOUNT) {
    await updateAuthorizationWindow(tx, awaitIssuer(payment, UNKNOWN_RESULT_MS, now));
    return [];
  }
  const scopes = scopesOf(payment);
  const createKey = approval.createKey !== undefined ? approval.createKey : await createKeyOf(tx, payment);
  const transition = authorizePayment(
    payment,
    salesUnit,
    {
      amount: payment.amount + (approval.shipping?.cost ?? 0),
      idempotencyKey: createKey,
      cardBin: card.bin8.slice(0, 6),
      captureGuaranteedDays: card.guaranteeDays,
      profileSub: scopes.length > 0 ? await subFor(tx, payment.msn, user.phone) : null,
      userDetails: userDetailsFor(user, scopes),
      shippingDetails: approval.shipping?.details ?? null,
      customerPhone: user.phone,
    },
    now,
  );
  return applyTransition(tx, transition, now, undefined, options);
}
