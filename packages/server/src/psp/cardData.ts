/**
 * The card a test user approves with, as a card callback carries it (epayment-api §17.3): the masked
 * number (first 8 + last 4), the card type, the issuing country, and either a network token with a
 * fresh cryptogram or the PAN encrypted with the PSP's key. Pure; no I/O.
 *
 * Which network a card goes through (§17.2):
 * - Visa and Mastercard go as network tokens (cardDataType TOKEN).
 * - Dankort has no network token: it goes as an encrypted PAN, so without `publicEncryptionKeyId`
 *   stand-alone Dankort fails ("without it stand-alone Dankort fails").
 * - A co-branded Visa/Dankort (a Danish Visa with a 4571 BIN) goes via Dankort unless
 *   `preferVisaPartOfVisaDankort` is true or Dankort cannot be used (not allowed, no key); then via Visa.
 * - `allowedCardTypes` limits the networks; `VISA_DANKORT` (an early draft's value) allows both parts
 *   of a co-branded card (platform-guidelines open question 25). BankAxept is never passed through.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CardPassthrough } from '../api/epayment/schemas.ts';
import type { TestCard } from '../customer/testUsers.ts';

export type CallbackCardType = 'VISA-DEBIT' | 'VISA-CREDIT' | 'MC-DEBIT' | 'MC-CREDIT' | 'DANKORT';

export interface CardRoute {
  cardType: CallbackCardType;
  cardDataType: 'TOKEN' | 'PAN';
}

export interface NetworkToken {
  number: string;
  expiryMonth: string;
  expiryYear: string;
  cryptogram: string;
  eci: string;
  tokenType: 'VISA' | 'MASTERCARD';
}

export interface CardInfo {
  maskedCardNumber: string;
  cardType: CallbackCardType;
  cardIssuedInCountryCode: string;
  cardDataType: 'TOKEN' | 'PAN';
  networkToken?: NetworkToken;
  encryptedPan?: string;
}

const tokenTypes: Partial<Record<TestCard['type'], CallbackCardType>> = {
  VISA_DEBIT: 'VISA-DEBIT',
  VISA_CREDIT: 'VISA-CREDIT',
  MC_DEBIT: 'MC-DEBIT',
  MC_CREDIT: 'MC-CREDIT',
};

const cardNames: Record<TestCard['type'], string> = {
  VISA_DEBIT: 'Visa debit',
  VISA_CREDIT: 'Visa credit',
  MC_DEBIT: 'Mastercard debit',
  MC_CREDIT: 'Mastercard credit',
  DANKORT: 'Dankort',
  BANKAXEPT: 'BankAxept',
};

/** A Danish Visa/Dankort: Visa issued in Denmark on a 4571 BIN. */
export function isVisaDankort(card: TestCard): boolean {
  return card.type.startsWith('VISA') && card.issuedIn === 'DK' && card.bin8.startsWith('4571');
}

/** How the card goes to the PSP, or why it cannot (the user picks another card; no callback is made). */
export function routeFor(
  card: TestCard,
  passthrough: Pick<CardPassthrough, 'allowedCardTypes' | 'preferVisaPartOfVisaDankort'>,
  hasEncryptionKey: boolean,
): CardRoute | { refused: string } {
  const allowed = new Set<string>(passthrough.allowedCardTypes);
  const name = cardNames[card.type];
  if (card.type === 'DANKORT') {
    if (!allowed.has('DANKORT') && !allowed.has('VISA_DANKORT')) return { refused: `The store does not accept ${name}.` };
    if (!hasEncryptionKey) {
      return { refused: 'Dankort cannot be used here: the payment service provider has no encryption key for card numbers.' };
    }
    return { cardType: 'DANKORT', cardDataType: 'PAN' };
  }
  const tokenType = tokenTypes[card.type];
  if (!tokenType) return { refused: `The store does not accept ${name}.` };
  const visaAllowed = allowed.has(card.type) || (isVisaDankort(card) && allowed.has('VISA_DANKORT'));
  if (isVisaDankort(card)) {
    const dankortAllowed = (allowed.has('DANKORT') || allowed.has('VISA_DANKORT')) && hasEncryptionKey;
    const viaVisa = visaAllowed && (passthrough.preferVisaPartOfVisaDankort === true || !dankortAllowed);
    if (viaVisa) return { cardType: tokenType, cardDataType: 'TOKEN' };
    if (dankortAllowed) return { cardType: 'DANKORT', cardDataType: 'PAN' };
    return { refused: `The store does not accept ${name}.` };
  }
  return visaAllowed ? { cardType: tokenType, cardDataType: 'TOKEN' } : { refused: `The store does not accept ${name}.` };
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Replaces the digit at `index` so the number passes the Luhn check (doubling is a bijection on 0–9). */
function withLuhnDigitAt(digits: string, index: number): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = digits.slice(0, index) + String(d) + digits.slice(index + 1);
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error('unreachable: some digit always satisfies Luhn');
}

/** The test card's full number: its 8-digit BIN, middle digits chosen for a valid Luhn sum, its last 4. */
export function panOf(card: TestCard): string {
  return withLuhnDigitAt(`${card.bin8}0000${card.last4}`, 11);
}

export function maskedNumberOf(card: TestCard): string {
  return `${card.bin8}XXXX${card.last4}`;
}

/** A stable token number per card on the network's token BIN range, Luhn-valid. */
function tokenNumberOf(card: TestCard, tokenType: NetworkToken['tokenType']): string {
  const prefix = tokenType === 'VISA' ? '489537' : '522660';
  const hash = createHash('sha256').update(`network-token:${card.id}:${card.bin8}${card.last4}`).digest();
  const middle = Array.from(hash.subarray(0, 9), (byte) => String(byte % 10)).join('');
  return withLuhnDigitAt(`${prefix}${middle}0`, 15);
}

/**
 * The `cardInfo` of one callback. Every call makes a fresh cryptogram, so the second callback after a
 * soft decline carries a new one (§17.3). `encryptPan` is given the PAN only on the PAN route.
 */
export function cardInfoFor(card: TestCard, route: CardRoute, encryptPan: (pan: string) => string): CardInfo {
  const info: CardInfo = {
    maskedCardNumber: maskedNumberOf(card),
    cardType: route.cardType,
    cardIssuedInCountryCode: card.issuedIn,
    cardDataType: route.cardDataType,
  };
  if (route.cardDataType === 'PAN') return { ...info, encryptedPan: encryptPan(panOf(card)) };
  const tokenType = route.cardType.startsWith('VISA') ? 'VISA' : 'MASTERCARD';
  const [month = '12', year = '29'] = card.expiry.split('/');
  return {
    ...info,
    networkToken: {
      number: tokenNumberOf(card, tokenType),
      expiryMonth: month,
      expiryYear: `20${year}`,
      cryptogram: randomBytes(20).toString('base64'),
      // The legacy PSP API's values: Visa ECI 07, Mastercard 06 (platform-guidelines §19).
      eci: tokenType === 'VISA' ? '07' : '06',
      tokenType,
    },
  };
}

/** The card BIN the payment reports (`paymentMethod.cardBin`): the first 6 digits (open question 19: 6 by default). */
export function cardBinOf(maskedCardNumber: string): string {
  return maskedCardNumber.slice(0, 6);
}
