/**
 * JSON Schemas of the ePayment request bodies (spec §4, §5, §8, §9, §10, §14, §17), with their
 * TypeScript types inferred from them — the one source of truth for request shapes.
 *
 * Constraints that the platform reports with a numeric code (4040 non-integer amount, 4070 phone
 * number, 4090 URLs, 4100–4130 metadata, 4080 scopes, 6010 minimum amount, ...) are deliberately not
 * here: they are checked in createPaymentRules.ts in the order of spec §5.2, so they get their code.
 * Unknown properties are ignored (spec open question 6) and not stored (`knownPropertiesOf`).
 */
import { type Static, Type as T, type TSchema } from '@sinclair/typebox';

export const REFERENCE_PATTERN = '^[a-zA-Z0-9-]{8,64}$';
export const MAX_AMOUNT = 65_000_000;

const Nullable = <S extends ReturnType<typeof T.String>>(schema: S) => T.Union([schema, T.Null()]);

/**
 * An object or array that may also be null, as one schema rather than an anyOf, so a field error
 * inside it is reported once under its own name (spec §13.2), not again as "…could not be null".
 */
function OrNull<S extends TSchema & { type: 'object' | 'array' }>(schema: S) {
  return T.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] });
}

const currencyEnum = T.Unsafe<'NOK' | 'DKK' | 'EUR' | 'SEK' | 'USD' | 'GBP'>({
  type: 'string',
  enum: ['NOK', 'DKK', 'EUR', 'SEK', 'USD', 'GBP'],
});

function stringEnum<const V extends string[]>(values: V) {
  return T.Unsafe<V[number]>({ type: 'string', enum: values });
}

/** `value` is a number here so that a decimal gets the platform's 4040 instead of a schema error. */
export const AmountSchema = T.Object({
  currency: currencyEnum,
  value: T.Number({ minimum: 0, maximum: MAX_AMOUNT }),
});
export type Amount = Static<typeof AmountSchema>;

export const CustomerSchema = T.Object({
  phoneNumber: T.Optional(T.String()),
  personalQr: T.Optional(T.String()),
  customerToken: T.Optional(T.String()),
});
export type Customer = Static<typeof CustomerSchema>;

const UnitInfoSchema = T.Object({
  unitPrice: T.Union([T.Integer({ minimum: 0 }), T.Null()]),
  quantity: T.String({ maxLength: 10, pattern: '^\\d+([\\.]\\d{1,8})?$' }),
  quantityUnit: T.Optional(stringEnum(['PCS', 'KG', 'KM', 'MINUTE', 'LITRE', 'KWH'])),
});

const OrderLineSchema = T.Object({
  name: T.String({ minLength: 1 }),
  id: T.String({ minLength: 1 }),
  totalAmount: T.Integer(),
  totalAmountExcludingTax: T.Integer(),
  totalTaxAmount: T.Integer(),
  taxRate: T.Optional(T.Union([T.Integer({ minimum: 0, maximum: 10000 }), T.Null()])),
  taxPercentage: T.Optional(T.Union([T.Integer({ minimum: 0, maximum: 100 }), T.Null()])),
  unitInfo: T.Optional(OrNull(UnitInfoSchema)),
  discount: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
  productUrl: T.Optional(Nullable(T.String())),
  isReturn: T.Optional(T.Union([T.Boolean(), T.Null()])),
  isShipping: T.Optional(T.Union([T.Boolean(), T.Null()])),
});

const BottomLineSchema = T.Object({
  currency: stringEnum(['NOK', 'DKK', 'EUR']),
  tipAmount: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
  posId: T.Optional(Nullable(T.String())),
  paymentSources: T.Optional(
    OrNull(
      T.Object({
        giftCard: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
        card: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
        voucher: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
        cash: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
      }),
    ),
  ),
  barcode: T.Optional(OrNull(T.Object({ format: stringEnum(['EAN-13', 'CODE 39', 'CODE 128']), data: T.String() }))),
  receiptNumber: T.Optional(Nullable(T.String())),
  // Deprecated members (spec §14.6): still accepted and kept with the receipt.
  giftCardAmount: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
  totalAmount: T.Optional(T.Union([T.Integer(), T.Null()])),
  totalTax: T.Optional(T.Union([T.Integer(), T.Null()])),
  totalDiscount: T.Optional(T.Union([T.Integer(), T.Null()])),
  shippingAmount: T.Optional(T.Union([T.Integer({ minimum: 0 }), T.Null()])),
  shippingInfo: T.Optional(
    OrNull(
      T.Object({
        amount: T.Optional(T.Union([T.Integer(), T.Null()])),
        amountExcludingTax: T.Optional(T.Union([T.Integer(), T.Null()])),
        taxAmount: T.Optional(T.Union([T.Integer(), T.Null()])),
        taxPercentage: T.Optional(T.Union([T.Integer({ minimum: 0, maximum: 100 }), T.Null()])),
      }),
    ),
  ),
  terminalId: T.Optional(Nullable(T.String())),
});

export const ReceiptSchema = T.Object({
  orderLines: T.Array(OrderLineSchema, { minItems: 1 }),
  bottomLine: BottomLineSchema,
});
export type Receipt = Static<typeof ReceiptSchema>;

const ShippingOptionSchema = T.Object({
  id: T.String({ minLength: 1 }),
  name: T.String({ minLength: 1 }),
  amount: AmountSchema,
  meta: T.Optional(T.String()),
  estimatedDelivery: T.Optional(T.String()),
  isDefault: T.Optional(T.Boolean()),
  priority: T.Optional(T.Integer({ minimum: 0 })),
});

export const ShippingGroupSchema = T.Object({
  brand: stringEnum([
    'BRING',
    'DHL',
    'FEDEX',
    'GLS',
    'HELTHJEM',
    'INSTABOX',
    'MATKAHUOLTO',
    'PORTERBUDDY',
    'POSTEN',
    'POSTI',
    'POSTNORD',
    'OTHER',
  ]),
  type: stringEnum(['HOME_DELIVERY', 'PICKUP_POINT', 'MAILBOX', 'IN_STORE', 'OTHER']),
  isDefault: T.Optional(T.Boolean()),
  priority: T.Optional(T.Integer({ minimum: 0 })),
  options: T.Array(ShippingOptionSchema, { minItems: 1 }),
});
export type ShippingGroup = Static<typeof ShippingGroupSchema>;

export const ShippingSchema = T.Object({
  fixedOptions: T.Optional(T.Array(ShippingGroupSchema, { minItems: 1 })),
  dynamicOptions: T.Optional(T.Object({ callbackUrl: T.String(), callbackAuthorizationToken: T.String({ minLength: 1 }) })),
  allowedCountries: T.Optional(T.Array(T.String({ pattern: '^[A-Z]{2}$' }))),
});
export type Shipping = Static<typeof ShippingSchema>;

export const CardPassthroughSchema = T.Object({
  pspReference: T.String({ minLength: 1, maxLength: 100 }),
  cardCallbackUrl: T.String({ minLength: 1 }),
  allowedCardTypes: T.Array(stringEnum(['VISA_DEBIT', 'VISA_CREDIT', 'MC_CREDIT', 'MC_DEBIT', 'DANKORT', 'ELEC_DEBIT', 'VISA_DANKORT']), {
    minItems: 1,
  }),
  preferVisaPartOfVisaDankort: T.Optional(T.Boolean()),
  publicEncryptionKeyId: T.Optional(T.String()),
  // Early drafts required it; accepted and ignored (platform-guidelines open question 25).
  cardCallbackAuthHeader: T.Optional(T.String()),
});
export type CardPassthrough = Static<typeof CardPassthroughSchema>;

export const CreatePaymentRequestSchema = T.Object({
  amount: AmountSchema,
  paymentMethod: T.Object({
    type: stringEnum(['WALLET', 'CARD', 'CARD_PASSTHROUGH']),
    blockedSources: T.Optional(OrNull(T.Array(stringEnum(['COMMERCIAL_CARDS'])))),
  }),
  reference: T.String({ pattern: REFERENCE_PATTERN }),
  userFlow: stringEnum(['PUSH_MESSAGE', 'NATIVE_REDIRECT', 'WEB_REDIRECT', 'QR']),
  customer: T.Optional(OrNull(CustomerSchema)),
  returnUrl: T.Optional(Nullable(T.String({ maxLength: 2500 }))),
  customerInteraction: T.Optional(stringEnum(['CUSTOMER_PRESENT', 'CUSTOMER_NOT_PRESENT'])),
  // Empty string counts as absent (open question 9); any other text has 3–100 characters.
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords, not a thenable
  paymentDescription: T.Optional(Nullable(T.String({ maxLength: 100, if: { minLength: 1 }, then: { minLength: 3 } }))),
  // `scope` is optional in the published schema; no scope means no profile sharing.
  profile: T.Optional(OrNull(T.Object({ scope: T.Optional(Nullable(T.String())) }))),
  expiresAt: T.Optional(Nullable(T.String())),
  qrFormat: T.Optional(
    OrNull(
      T.Object({
        format: stringEnum(['TEXT/TARGETURL', 'IMAGE/SVG+XML', 'IMAGE/PNG']),
        size: T.Optional(T.Union([T.Integer({ minimum: 100, maximum: 2000 }), T.Null()])),
      }),
    ),
  ),
  receipt: T.Optional(OrNull(ReceiptSchema)),
  receiptUrl: T.Optional(Nullable(T.String())),
  metadata: T.Optional(OrNull(T.Record(T.String(), T.String()))),
  industryData: T.Optional(
    OrNull(
      T.Object({
        // Spec §14.9: the four first fields are required whenever airlineData is given.
        airlineData: T.Optional(
          OrNull(
            T.Object({
              agencyInvoiceNumber: T.String({ minLength: 1, maxLength: 6 }),
              // The IATA accounting code is numeric (e.g. KLM = "074").
              airlineCode: T.String({ minLength: 3, maxLength: 3, pattern: '^[0-9]{3}$' }),
              airlineDesignatorCode: T.String({ minLength: 2, maxLength: 2 }),
              passengerName: T.String({ minLength: 1, maxLength: 49 }),
              ticketNumber: T.Optional(T.String({ minLength: 1, maxLength: 150 })),
            }),
          ),
        ),
      }),
    ),
  ),
  minimumUserAge: T.Optional(T.Union([T.Integer({ minimum: 0, maximum: 100 }), T.Null()])),
  shipping: T.Optional(OrNull(ShippingSchema)),
  merchantLegalLinks: T.Optional(OrNull(T.Object({ termsOfSaleUrl: T.String(), privacyPolicyUrl: T.String() }))),
  cardPassthrough: T.Optional(OrNull(CardPassthroughSchema)),
});
export type CreatePaymentRequest = Static<typeof CreatePaymentRequestSchema>;

export const ModificationRequestSchema = T.Object({ modificationAmount: AmountSchema });
export type ModificationRequest = Static<typeof ModificationRequestSchema>;

export const CancelRequestSchema = T.Object({ cancelTransactionOnly: T.Optional(T.Union([T.Boolean(), T.Null()])) });

export const ForceApproveRequestSchema = T.Object({
  customer: T.Optional(T.Union([CustomerSchema, T.Null()])),
  token: T.Optional(Nullable(T.String())),
});
export type ForceApproveRequest = Static<typeof ForceApproveRequestSchema>;

export const IDEMPOTENCY_KEY_MAX = 50;

type SchemaNode = TSchema & { properties?: Record<string, SchemaNode>; items?: SchemaNode; anyOf?: SchemaNode[] };

/**
 * `value` (already valid against `schema`) with only the properties the schema declares, at every
 * depth: unknown properties are ignored (spec §1, open question 6), so they are not stored either.
 * Records without declared properties (metadata) keep every key.
 */
export function knownPropertiesOf<S extends TSchema>(schema: S, value: Static<S>): Static<S> {
  return strip(schema as SchemaNode, value) as Static<S>;
}

function strip(schema: SchemaNode, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((item) => strip(schema.items as SchemaNode, item)) : value;
  if (value === null || typeof value !== 'object') return value;
  if (schema.anyOf) {
    const objectVariant = schema.anyOf.find((variant) => variant.type === 'object');
    return objectVariant ? strip(objectVariant, value) : value;
  }
  if (!schema.properties) return value;
  const known: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value)) {
    if (Object.hasOwn(schema.properties, name)) known[name] = strip(schema.properties[name] as SchemaNode, child);
  }
  return known;
}
