/** Finds the test user a request identifies up-front (spec §5.2 rule 14, §4.3, §14.5). */

import type { Customer } from '../api/epayment/schemas.ts';
import { ageOn, type TestUser } from '../customer/testUsers.ts';
import { DomainError } from '../errors.ts';
import type { Queryable } from '../store/database.ts';
import { findCustomerToken, findUser, type StoredUser } from '../store/usersStore.ts';

/** A personal QR carries the user's phone number as its last path segment (e.g. …/031/4791234567?v=1). */
export function phoneInPersonalQr(personalQr: string): string | null {
  const match = /(?:^|[^\d])(\d{9,15})(?:[/?#]|$)(?!.*\d{9,15})/.exec(personalQr);
  return match ? (match[1] as string) : null;
}

/**
 * Who may pay businesses at all (platform-guidelines §14 "Who can pay"): Vipps users (Norway, Sweden)
 * from 15, MobilePay Denmark from 13, MobilePay Finland from 15 — besides the user's own flag.
 */
const MINIMUM_PAYING_AGE: Record<TestUser['market'], number> = { NO: 15, SE: 15, DK: 13, FI: 15 };

export function mayPayBusinesses(user: TestUser, now: Date): boolean {
  return user.canPayBusinesses && ageOn(user.birthDate, now) >= MINIMUM_PAYING_AGE[user.market];
}

export async function resolveCustomer(
  db: Queryable,
  customer: Customer,
  msn: string,
  now: Date,
  minimumUserAge: number | null | undefined,
): Promise<StoredUser> {
  let user: StoredUser | null = null;
  if (customer.customerToken !== undefined) {
    const token = await findCustomerToken(db, customer.customerToken);
    // Tokens from a QR check-in are valid 15 minutes and only for the sales unit checked in to.
    if (!token || token.msn !== msn || token.expiresAt.getTime() <= now.getTime()) {
      throw new DomainError('invalidCustomerToken', 'The customerToken is unknown or has expired.');
    }
    user = await findUser(db, token.phone);
  } else if (customer.personalQr !== undefined) {
    const phone = phoneInPersonalQr(customer.personalQr);
    user = phone ? await findUser(db, phone) : null;
    if (!user) throw new DomainError('invalidPersonalQr', 'The personalQr is not the personal QR of a user.');
  } else if (customer.phoneNumber !== undefined) {
    user = await findUser(db, customer.phoneNumber);
  }
  // Deliberately one non-specific answer for unknown, unable to pay businesses, and too young (spec §14.5).
  const tooYoung = user && minimumUserAge ? ageOn(user.birthDate, now) < minimumUserAge : false;
  if (!user || !mayPayBusinesses(user, now) || tooYoung) throw new DomainError('customerNotFound', 'No eligible user for this customer.');
  return user;
}
