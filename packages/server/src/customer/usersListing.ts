/** What `kassa users` prints: every test user with market, age, profile data and cards (issue 4). */
import { ageOn, type TestCard, type TestUser } from './testUsers.ts';

const outcomes: Record<TestCard['outcome'], string> = {
  approve: 'approves',
  declined: 'declined by the issuer',
  insufficient_funds: 'insufficient funds',
  expired: 'expired card',
};

export function formatUsers(users: readonly TestUser[], now: Date, publicUrl: string): string {
  const lines = [`Test users: log in to the wallet-app simulator at ${publicUrl}/app. Every user has profile data for every scope.`, ''];
  for (const user of users) {
    const { address } = user;
    lines.push(
      [
        user.phone,
        user.market,
        `${user.firstName} ${user.lastName}`,
        `born ${user.birthDate} (age ${ageOn(user.birthDate, now)})`,
        user.email,
        `${address.addressLine1}, ${address.postCode} ${address.city}`,
      ].join('\t'),
    );
    if (user.cards.length === 0) lines.push('    no cards: every approval fails (10050 No cards)');
    for (const card of user.cards) {
      lines.push(
        `    ${card.id.padEnd(16)}${card.type.padEnd(12)}••••${card.last4}  exp ${card.expiry}  BIN ${card.bin8.slice(0, 6)}  ${outcomes[card.outcome]}`,
      );
    }
  }
  lines.push(
    '',
    'Magic amounts (minor units) fail any card in test mode: 151 insufficient funds, 182 refused by issuer, 183 suspected fraud,',
    '184 withdrawal limit exceeded, 186 expired card, 187 invalid card, 197 3-D Secure denied, 202 strong customer authentication required.',
    '201 leaves the result unknown: an approval is accepted, the payment stays CREATED (not cancellable) for an hour, then expires.',
  );
  return `${lines.join('\n')}\n`;
}
