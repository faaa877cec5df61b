/**
 * The seeded test users of the wallet-app simulator: users in Norway, Denmark, Finland and Sweden
 * (cross-border), with profile data for every scope, and cards that succeed or fail the documented ways.
 */

export type CardType = 'VISA_DEBIT' | 'VISA_CREDIT' | 'MC_DEBIT' | 'MC_CREDIT' | 'DANKORT' | 'BANKAXEPT';

/** How an authorization with the card ends (spec §16 test outcomes). */
export type CardOutcome = 'approve' | 'declined' | 'insufficient_funds' | 'expired';

export interface TestCard {
  id: string;
  type: CardType;
  /** First 8 digits; the platform reports the first 6 as `cardBin` (spec open question 19). */
  bin8: string;
  last4: string;
  expiry: string;
  issuedIn: string;
  outcome: CardOutcome;
  /** Days the card network guarantees a reservation (`captureGuaranteedUntil`, spec §11.6). */
  guaranteeDays: number;
}

export interface TestUser {
  phone: string;
  market: 'NO' | 'DK' | 'FI' | 'SE';
  firstName: string;
  lastName: string;
  email: string;
  birthDate: string;
  nin: string;
  address: { addressLine1: string; addressLine2: string; city: string; postCode: string; country: string };
  cards: TestCard[];
  canPayBusinesses: boolean;
}

const card = (id: string, type: CardType, bin8: string, last4: string, issuedIn: string, outcome: CardOutcome = 'approve'): TestCard => ({
  id,
  type,
  bin8,
  last4,
  expiry: outcome === 'expired' ? '01/24' : '12/29',
  issuedIn,
  outcome,
  guaranteeDays: type.startsWith('MC') ? 30 : type === 'BANKAXEPT' ? 7 : type === 'DANKORT' ? 14 : 7,
});

export const testUsers: TestUser[] = [
  {
    phone: '4791234567',
    market: 'NO',
    firstName: 'Ola',
    lastName: 'Nordmann',
    email: 'ola.nordmann@example.no',
    birthDate: '1985-04-12',
    nin: '12048512345',
    address: { addressLine1: 'Karl Johans gate 1', addressLine2: '', city: 'Oslo', postCode: '0154', country: 'NO' },
    cards: [
      card('no-visa', 'VISA_DEBIT', '47969485', '1234', 'NO'),
      card('no-mc-declined', 'MC_CREDIT', '54018512', '0002', 'NO', 'declined'),
      card('no-visa-funds', 'VISA_CREDIT', '41111111', '0003', 'NO', 'insufficient_funds'),
      card('no-mc-expired', 'MC_DEBIT', '52000000', '0004', 'NO', 'expired'),
    ],
    canPayBusinesses: true,
  },
  {
    phone: '4798765432',
    market: 'NO',
    firstName: 'Kari',
    lastName: 'Nordmann',
    email: 'kari.nordmann@example.no',
    birthDate: '2010-06-01',
    nin: '01061012345',
    address: { addressLine1: 'Bryggen 5', addressLine2: 'Leilighet 2', city: 'Bergen', postCode: '5003', country: 'NO' },
    cards: [card('kari-visa', 'VISA_DEBIT', '47969411', '5678', 'NO')],
    canPayBusinesses: true,
  },
  {
    phone: '4790000000',
    market: 'NO',
    firstName: 'Per',
    lastName: 'Uten-Kort',
    email: 'per@example.no',
    birthDate: '1990-01-01',
    nin: '01019012345',
    address: { addressLine1: 'Torget 1', addressLine2: '', city: 'Trondheim', postCode: '7011', country: 'NO' },
    cards: [],
    canPayBusinesses: true,
  },
  {
    phone: '4511223344',
    market: 'DK',
    firstName: 'Mads',
    lastName: 'Hansen',
    email: 'mads.hansen@example.dk',
    birthDate: '1979-09-23',
    nin: '2309791234',
    address: { addressLine1: 'Strøget 10', addressLine2: '', city: 'København K', postCode: '1160', country: 'DK' },
    cards: [card('dk-dankort', 'DANKORT', '57120000', '4321', 'DK'), card('dk-visa', 'VISA_DEBIT', '45712345', '8765', 'DK')],
    canPayBusinesses: true,
  },
  {
    phone: '358401234567',
    market: 'FI',
    firstName: 'Aino',
    lastName: 'Virtanen',
    email: 'aino.virtanen@example.fi',
    birthDate: '1992-02-29',
    nin: '290292-123A',
    address: { addressLine1: 'Mannerheimintie 3', addressLine2: '', city: 'Helsinki', postCode: '00100', country: 'FI' },
    cards: [card('fi-mc', 'MC_DEBIT', '51234567', '2468', 'FI')],
    canPayBusinesses: true,
  },
  {
    phone: '46701234567',
    market: 'SE',
    firstName: 'Sven',
    lastName: 'Svensson',
    email: 'sven.svensson@example.se',
    birthDate: '1988-11-11',
    nin: '198811111234',
    address: { addressLine1: 'Drottninggatan 20', addressLine2: '', city: 'Stockholm', postCode: '11151', country: 'SE' },
    cards: [card('se-visa', 'VISA_CREDIT', '45399876', '1357', 'SE')],
    canPayBusinesses: true,
  },
];

export function ageOn(birthDate: string, on: Date): number {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  let age = on.getUTCFullYear() - year;
  if (on.getUTCMonth() + 1 < month || (on.getUTCMonth() + 1 === month && on.getUTCDate() < day)) age -= 1;
  return age;
}

/** A personal QR (spec §4.3) of a test user, as the app would show it. */
export function personalQrOf(user: Pick<TestUser, 'phone'>, publicUrl: string): string {
  return `${publicUrl}/qr/personal/${user.phone}?v=1`;
}
