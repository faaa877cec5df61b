/**
 * The cross-field rules of create payment, in the order of spec §5.2. Pure: the rules that need the
 * database — reference uniqueness (13) and customer resolution (14) — run in operations/createPayment.ts
 * between `acceptCreate` (rules 1–12) and `checkAvailability` (rules 15–16), so the order holds.
 */
import { type CreatePaymentRequest, CreatePaymentRequestSchema, type Customer, knownPropertiesOf } from '../api/epayment/schemas.ts';
import { DomainError, ValidationError } from '../errors.ts';
import { DEFAULT_PAYMENT_LIFETIME_MS, minimumAmount, type SalesUnit } from './salesUnits.ts';
import type { Currency } from './types.ts';
import { isValidCallbackUrl, isValidHttpsUrl, isValidReturnUrl } from './urlRules.ts';

export interface CreateContext {
  salesUnit: SalesUnit;
  now: Date;
  testMode: boolean;
  /** The caller authenticated with PSP keys and sent its Psp-Id. */
  isPsp: boolean;
  /** Metadata keys that appeared twice in the raw JSON (JSON.parse hides them). */
  duplicateMetadataKeys: string[];
}

export interface AcceptedCreate {
  currency: Currency;
  amount: number;
  expiresAt: Date;
  /**
   * The request as stored: unknown properties dropped, empty paymentDescription dropped,
   * customerInteraction defaulted, metadata key order recorded (jsonb does not keep it).
   */
  request: CreatePaymentRequest & { metadataKeyOrder?: string[] };
}

const STANDARD_SCOPES = new Set(['name', 'address', 'email', 'phoneNumber', 'birthDate']);
const RESTRICTED_SCOPES = new Set(['nin', 'accountNumbers']);
const EXPRESS_SCOPES = ['address', 'email', 'name', 'phoneNumber'];
const PSP_CURRENCIES = new Set(['NOK', 'DKK', 'EUR', 'SEK', 'USD', 'GBP']);
/** Spec §5.1, from OpenAPI 1.4.1. */
const EXPIRES_AT_PATTERN = /^((?:(\d{4}-\d{2}-\d{2})(T|t)(\d{2}:\d{2}:\d{2}(?:\.\d+)?))(Z|z|([+-](?:2[0-3]|[01][0-9]):[0-5][0-9])))$/;
/** MSISDN: country code (never 0, so no "00" prefix) and number, 9–15 digits (open question 8; 1.4.1 said 10–15). */
const PHONE_PATTERN = /^[1-9]\d{8,14}$/;
/** Open question 10: 60 days (the SDK and docs), not 1.4.1's 28. */
const MAX_EXPIRES_MS = 60 * 24 * 60 * 60 * 1000;
const MIN_EXPIRES_MS = 10 * 60 * 1000;
const MAX_METADATA_PAIRS = 5;
const MAX_METADATA_KEY = 100;
const MAX_METADATA_VALUE = 500;

const invalid = (name: string, reason: string) => new ValidationError([{ name, reason }]);

/** Rules 1–12 of spec §5.2, in order; returns the request as it will be stored. */
export function acceptCreate(input: CreatePaymentRequest, ctx: CreateContext): AcceptedCreate {
  const request: AcceptedCreate['request'] = { ...knownPropertiesOf(CreatePaymentRequestSchema, input) };
  // A null optional member is the same as an absent one; stored without it, readers need one check.
  for (const [name, value] of Object.entries(request)) if (value === null) delete (request as Record<string, unknown>)[name];
  if (request.paymentMethod.blockedSources === null) request.paymentMethod = { type: request.paymentMethod.type };
  // Open question 9: an empty description (seen in an official example) counts as absent.
  if (request.paymentDescription === '') delete request.paymentDescription;
  request.customerInteraction ??= 'CUSTOMER_NOT_PRESENT';
  const { paymentMethod, userFlow } = request;
  const customer = request.customer ?? undefined;

  // 1. CARD only with WEB_REDIRECT; a receipt is for WALLET payments (§14.6, §14.11).
  if (paymentMethod.type === 'CARD' && userFlow !== 'WEB_REDIRECT') {
    throw invalid('paymentMethod.type', 'Payment method CARD requires userFlow WEB_REDIRECT.');
  }
  if (paymentMethod.type === 'CARD' && request.receipt) {
    throw invalid('receipt', 'A receipt cannot be attached to a CARD payment; use receiptUrl.');
  }
  // 2. CARD_PASSTHROUGH ⇔ cardPassthrough object, and only for PSPs (§17.2).
  if (request.cardPassthrough && paymentMethod.type !== 'CARD_PASSTHROUGH') {
    throw new DomainError('invalidPaymentMethodType', 'cardPassthrough is only allowed with paymentMethod.type CARD_PASSTHROUGH.');
  }
  if (paymentMethod.type === 'CARD_PASSTHROUGH') {
    if (!request.cardPassthrough) {
      throw new DomainError('invalidPaymentMethodType', 'paymentMethod.type CARD_PASSTHROUGH requires the cardPassthrough object.');
    }
    if (!ctx.isPsp) throw new DomainError('invalidPaymentMethodType', 'CARD_PASSTHROUGH is only available to PSPs (Psp-Id header).');
    if (userFlow !== 'WEB_REDIRECT' && userFlow !== 'PUSH_MESSAGE') {
      throw invalid('userFlow', 'CARD_PASSTHROUGH supports userFlow WEB_REDIRECT or PUSH_MESSAGE.');
    }
  }
  // 3–4. Flow-dependent required fields and approvals (§5.3).
  if (userFlow === 'WEB_REDIRECT' && !request.returnUrl) {
    throw new DomainError('missingRequiredParameter', 'returnUrl is required for userFlow WEB_REDIRECT.');
  }
  if (userFlow === 'PUSH_MESSAGE') {
    if (!customer) throw new DomainError('missingRequiredParameter', 'customer is required for userFlow PUSH_MESSAGE.');
    if (!ctx.salesUnit.settings.pushMessageAllowed) {
      throw new DomainError('pushMessageNotAllowed', 'This sales unit is not approved for PUSH_MESSAGE (skipping the landing page).');
    }
  }
  if ((userFlow === 'NATIVE_REDIRECT' || userFlow === 'QR') && paymentMethod.type !== 'WALLET') {
    throw invalid('paymentMethod.type', `userFlow ${userFlow} supports only paymentMethod.type WALLET.`);
  }
  // 5. customer: exactly one identifier (400), each well-formed (4070 / 4060 / 4050).
  if (customer) checkCustomer(customer);
  // 6. URLs (4090).
  checkUrls(request, ctx.testMode);
  // 7. expiresAt: long-living payments (§14.3).
  const expiresAt = expiryOf(request, ctx);
  // 8. metadata (4100–4130).
  if (request.metadata) {
    checkMetadata(request.metadata, ctx.duplicateMetadataKeys);
    request.metadataKeyOrder = Object.keys(request.metadata);
  }
  // 9. amount: currency of the market (5040), minimum (6010), minor units (4040).
  const { currency, value } = request.amount;
  const passthrough = paymentMethod.type === 'CARD_PASSTHROUGH';
  // PSPs may use any currency of their agreement; SEK/USD/GBP exist only for them (open question 20).
  if (passthrough ? !PSP_CURRENCIES.has(currency) : currency !== ctx.salesUnit.currency) {
    throw new DomainError(
      'invalidCurrencyForMerchant',
      `Currency ${currency} is not valid for this sales unit, which takes ${ctx.salesUnit.currency}.`,
    );
  }
  const minimum = minimumAmount[currency] ?? 1;
  if (value < minimum) throw new DomainError('amountTooSmall', `The minimum amount is ${minimum} (minor units of ${currency}).`);
  if (!Number.isInteger(value)) throw new DomainError('invalidAmount', 'Amounts are integers in minor units (øre/cents).');
  checkCurrencies(request, currency);
  // 10. profile scopes (4080 unknown, 5030 not permitted).
  const scopes = scopesOf(request, ctx.salesUnit);
  // 11. blocked sources: Danish and Finnish WALLET payments only (5010).
  if (paymentMethod.blockedSources && paymentMethod.blockedSources.length > 0) {
    if (ctx.salesUnit.market === 'NO') {
      throw new DomainError('blockingSourcesNotApplicable', "Not possible to block payment sources for market: 'Norwegian'");
    }
    if (paymentMethod.type !== 'WALLET') {
      throw new DomainError(
        'blockingSourcesNotApplicable',
        `Not possible to block payment sources for payment method ${paymentMethod.type}.`,
      );
    }
  }
  // 12. Express (§14.1).
  if (request.shipping) checkExpress(request, scopes, ctx.salesUnit);
  return { currency, amount: value, expiresAt, request };
}

/**
 * Rule 14: the customer to identify up-front. A `personalQr` or `customerToken` always names one user;
 * a phone number does so only for PUSH_MESSAGE — with the other flows it merely pre-fills the landing
 * page, where the user may type another number (§5.2, "ignored combinations").
 */
export function customerToIdentify(request: CreatePaymentRequest): Customer | null {
  const customer = request.customer;
  if (!customer) return null;
  if (customer.phoneNumber !== undefined && request.userFlow !== 'PUSH_MESSAGE') return null;
  return customer;
}

/** Rules 15–16: what the environment and the merchant's setup allow, checked last. */
export function checkAvailability(accepted: AcceptedCreate, ctx: CreateContext): void {
  if (accepted.request.paymentMethod.type === 'CARD' && ctx.testMode) {
    throw new DomainError('paymentCannotBeCreated', 'Payment method CARD is not available in the test environment.');
  }
  if (!ctx.salesUnit.settings.bankAccountVerified) {
    throw new DomainError('bankAccountNotVerified', "The sales unit's settlement bank account is not verified.");
  }
}

/** Exactly one way to name the customer, each well formed (4070 phone, 4060 personal QR, 4050 token). */
export function checkCustomer(customer: Customer): void {
  const given = (['phoneNumber', 'personalQr', 'customerToken'] as const).filter((k) => customer[k] !== undefined);
  if (given.length !== 1) {
    throw invalid('customer', 'Exactly one of phoneNumber, personalQr and customerToken must be given.');
  }
  if (customer.phoneNumber !== undefined && !PHONE_PATTERN.test(customer.phoneNumber)) {
    throw new DomainError('invalidPhoneNumber', 'phoneNumber must be an MSISDN: country code and number, 9–15 digits, no "+" or spaces.');
  }
  if (customer.personalQr !== undefined && (customer.personalQr.length < 5 || customer.personalQr.length > 255)) {
    throw new DomainError('invalidPersonalQr', 'personalQr must be the complete content of a personal QR (5–255 characters).');
  }
  if (customer.customerToken !== undefined && customer.customerToken.length === 0) {
    throw new DomainError('invalidCustomerToken', 'customerToken is empty.');
  }
}

type UrlCheck = [name: string, url: string | null | undefined, valid: (url: string, testMode: boolean) => boolean, rule: string];

function checkUrls(request: CreatePaymentRequest, testMode: boolean): void {
  const returnLike = 'an https:// URL or an app scheme (myapp://…)';
  const https = 'an https:// URL';
  const publicHttps = 'a public https:// URL';
  const checks: UrlCheck[] = [
    ['returnUrl', request.returnUrl, isValidReturnUrl, returnLike],
    ['receiptUrl', request.receiptUrl, isValidReturnUrl, returnLike],
    ...(request.receipt?.orderLines ?? []).map(
      (line, i): UrlCheck => [`receipt.orderLines[${i}].productUrl`, line.productUrl, isValidHttpsUrl, https],
    ),
    ['merchantLegalLinks.termsOfSaleUrl', request.merchantLegalLinks?.termsOfSaleUrl, isValidHttpsUrl, https],
    ['merchantLegalLinks.privacyPolicyUrl', request.merchantLegalLinks?.privacyPolicyUrl, isValidHttpsUrl, https],
    ['shipping.dynamicOptions.callbackUrl', request.shipping?.dynamicOptions?.callbackUrl, isValidCallbackUrl, publicHttps],
    ['cardPassthrough.cardCallbackUrl', request.cardPassthrough?.cardCallbackUrl, isValidCallbackUrl, publicHttps],
  ];
  for (const [name, url, valid, rule] of checks) {
    // An empty returnUrl was already refused as missing where it is required; elsewhere "" is no URL.
    if (url === null || url === undefined || (url === '' && name === 'returnUrl')) continue;
    if (!valid(url, testMode)) throw new DomainError('invalidUrl', `${name} must be ${rule}: "${url}".`);
  }
}

/** Parses an RFC 3339 date-time strictly: a 30 February is invalid, not 2 March. */
function parseExpiresAt(text: string): Date | null {
  const match = EXPIRES_AT_PATTERN.exec(text);
  if (!match) return null;
  const [date = '', time = ''] = [match[2], match[4]];
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute, second] = time.slice(0, 8).split(':').map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  const zone = (match[5] ?? 'Z').toUpperCase();
  const parsed = new Date(`${date}T${time.slice(0, 8)}.${fraction.padEnd(3, '0').slice(0, 3)}${zone}`);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

function expiryOf(request: CreatePaymentRequest, ctx: CreateContext): Date {
  const defaultExpiry = new Date(ctx.now.getTime() + DEFAULT_PAYMENT_LIFETIME_MS);
  if (request.expiresAt === undefined || request.expiresAt === null) return defaultExpiry;
  // Open question 10: only PUSH_MESSAGE and QR, answered with the platform's un-coded 400.
  if (request.userFlow !== 'PUSH_MESSAGE' && request.userFlow !== 'QR') {
    throw new ValidationError(
      [{ name: 'expiresAt', reason: `ExpiresAt not allowed for userFlow ${request.userFlow}.` }],
      'ExpiresAt not allowed',
      `ExpiresAt not allowed for userFlow ${request.userFlow}. Long-living payments use PUSH_MESSAGE or QR.`,
    );
  }
  if (request.paymentMethod.type !== 'WALLET') {
    throw new ValidationError(
      [{ name: 'expiresAt', reason: `ExpiresAt not allowed for paymentMethod.type ${request.paymentMethod.type}.` }],
      'ExpiresAt not allowed',
      'Long-living payments need the app: paymentMethod.type must be WALLET.',
    );
  }
  if (!ctx.salesUnit.settings.longLivingAllowed) {
    throw new DomainError('longLivingNotAllowed', 'This sales unit is not approved for long-living payments (expiresAt).');
  }
  const parsed = parseExpiresAt(request.expiresAt);
  if (!parsed) {
    throw new ValidationError(
      [{ name: 'expiresAt', reason: 'The field ExpiresAt must be an RFC 3339 date-time, e.g. 2026-09-04T10:00:00Z.' }],
      'Expiration date invalid',
      `Expiration date invalid: "${request.expiresAt}".`,
    );
  }
  const ahead = parsed.getTime() - ctx.now.getTime();
  if (ahead < MIN_EXPIRES_MS) throw new DomainError('expirationTooSoon', 'expiresAt must be at least 10 minutes ahead.');
  const maxAhead = Math.min(MAX_EXPIRES_MS, ctx.salesUnit.settings.longLivingMaxMinutes * 60_000);
  if (ahead > maxAhead) {
    throw new DomainError(
      'expirationTooLate',
      `expiresAt may be at most ${Math.round(maxAhead / 60_000)} minutes ahead for this sales unit.`,
    );
  }
  if (!request.receipt) throw new DomainError('longLivingRequiresReceipt', 'Long-living payments (expiresAt) require a receipt.');
  return parsed;
}

/** Spec §14.7, in the order of §5.2 rule 8. Duplicates count towards the capacity: they were sent. */
function checkMetadata(metadata: Record<string, string>, duplicates: string[]): void {
  const entries = Object.entries(metadata);
  if (entries.length + duplicates.length > MAX_METADATA_PAIRS) {
    throw new DomainError('metadataCapacityExceeded', `metadata holds at most ${MAX_METADATA_PAIRS} key-value pairs.`);
  }
  if (duplicates.length > 0) throw new DomainError('metadataDuplicateKeys', `Duplicate metadata key: "${duplicates[0]}".`);
  for (const [key] of entries) {
    if (key.length > MAX_METADATA_KEY) {
      throw new DomainError(
        'metadataKeyLengthExceeded',
        `Metadata key "${key.slice(0, 20)}…" is longer than ${MAX_METADATA_KEY} characters.`,
      );
    }
  }
  for (const [key, value] of entries) {
    if (value.length > MAX_METADATA_VALUE) {
      throw new DomainError('metadataValueLengthExceeded', `Metadata value of "${key}" is longer than ${MAX_METADATA_VALUE} characters.`);
    }
  }
}

/** Every amount inside one payment uses the payment's currency (spec §4.2); receipt lines name a tax rate. */
function checkCurrencies(request: CreatePaymentRequest, currency: string): void {
  if (request.receipt) {
    if (request.receipt.bottomLine.currency !== currency) {
      throw invalid('receipt.bottomLine.currency', `The receipt currency must be the payment currency ${currency}.`);
    }
    for (const [i, line] of request.receipt.orderLines.entries()) {
      // §14.6: taxRate (or the deprecated taxPercentage) is required on every line.
      if ((line.taxRate === undefined || line.taxRate === null) && (line.taxPercentage === undefined || line.taxPercentage === null)) {
        throw invalid(`receipt.orderLines[${i}].taxRate`, 'The TaxRate field is required (or the deprecated TaxPercentage).');
      }
    }
  }
  for (const [g, group] of (request.shipping?.fixedOptions ?? []).entries()) {
    for (const [o, option] of group.options.entries()) {
      if (option.amount.currency !== currency) {
        throw invalid(`shipping.fixedOptions[${g}].options[${o}].amount.currency`, `Shipping amounts must be in ${currency}.`);
      }
      if (!Number.isInteger(option.amount.value)) throw new DomainError('invalidAmount', 'Shipping amounts are integers in minor units.');
    }
  }
}

function scopesOf(request: CreatePaymentRequest, salesUnit: SalesUnit): string[] {
  const scope = request.profile?.scope;
  if (scope === undefined || scope === null) return [];
  const scopes = scope.split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new DomainError('invalidScope', 'profile.scope is empty.');
  for (const token of scopes) {
    if (!STANDARD_SCOPES.has(token) && !RESTRICTED_SCOPES.has(token)) throw new DomainError('invalidScope', `Unknown scope "${token}".`);
  }
  for (const token of scopes) {
    if (RESTRICTED_SCOPES.has(token) && !salesUnit.settings.extraScopes.includes(token)) {
      throw new DomainError('illegalScope', `Scope "${token}" is not permitted for this sales unit.`);
    }
  }
  return scopes;
}

function checkExpress(request: CreatePaymentRequest, scopes: string[], salesUnit: SalesUnit): void {
  const shipping = request.shipping as NonNullable<CreatePaymentRequest['shipping']>;
  if (!salesUnit.settings.expressAllowed) throw new DomainError('expressNotAllowed', 'This sales unit is not enabled for Express.');
  if (request.paymentMethod.type !== 'WALLET' && request.paymentMethod.type !== 'CARD_PASSTHROUGH') {
    throw invalid('paymentMethod.type', 'Express requires paymentMethod.type WALLET (or CARD_PASSTHROUGH for PSPs).');
  }
  const distinct = [...new Set(scopes)].sort();
  if (distinct.length !== EXPRESS_SCOPES.length || distinct.some((s, i) => s !== EXPRESS_SCOPES[i])) {
    throw new DomainError('invalidScope', 'Express requires profile.scope to be exactly "name address email phoneNumber".');
  }
  if (Boolean(shipping.fixedOptions) === Boolean(shipping.dynamicOptions)) {
    throw invalid('shipping', 'Exactly one of shipping.fixedOptions and shipping.dynamicOptions must be given.');
  }
}
