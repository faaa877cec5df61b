/**
 * Every error code of the ePayment API (spec §13.3) with its HTTP status and title, in one place.
 * Statuses marked "rec" in the spec follow its open question 1: conflicts and idempotency → 409,
 * unknown reference → 404, 5070 → 422, 6160 → 423, 6250 → 409, 6280 → 503, the rest → 400.
 * Code raises these by name (`new DomainError('captureAmountTooHigh', detail)`), never by hand.
 */
export const errorCodes = {
  internalError: { code: 3010, status: 500, title: 'Internal error' },
  captureIdempotencyConflict: { code: 4010, status: 409, title: 'Capture idempotency conflict' },
  idempotencyError: { code: 4020, status: 409, title: 'Idempotency error' },
  invalidAmount: { code: 4040, status: 400, title: 'Invalid amount' },
  invalidCustomerToken: { code: 4050, status: 400, title: 'Invalid CustomerToken' },
  invalidPersonalQr: { code: 4060, status: 400, title: 'Invalid PersonalQr' },
  invalidPhoneNumber: { code: 4070, status: 400, title: 'Invalid phone number' },
  invalidScope: { code: 4080, status: 400, title: 'Invalid scope' },
  invalidUrl: { code: 4090, status: 400, title: 'Invalid URL' },
  metadataCapacityExceeded: { code: 4100, status: 400, title: 'Metadata capacity exceeded' },
  metadataDuplicateKeys: { code: 4110, status: 400, title: 'Metadata duplicate keys not allowed' },
  metadataKeyLengthExceeded: { code: 4120, status: 400, title: 'Metadata key length exceeded' },
  metadataValueLengthExceeded: { code: 4130, status: 400, title: 'Metadata value length exceeded' },
  missingRequiredParameter: { code: 4140, status: 400, title: 'Missing required parameter' },
  referenceExists: { code: 4150, status: 409, title: 'Reference already exists' },
  refundIdempotencyConflict: { code: 4150, status: 409, title: 'Refund idempotency conflict' },
  invalidPaymentMethodType: { code: 4160, status: 400, title: 'Invalid payment method type' },
  blockingSourcesNotApplicable: { code: 5010, status: 400, title: 'Blocking sources not applicable' },
  expressNotAllowed: { code: 5020, status: 400, title: 'Express payment not allowed' },
  illegalScope: { code: 5030, status: 400, title: 'Illegal scope' },
  invalidCurrencyForMerchant: { code: 5040, status: 400, title: 'Invalid currency for merchant' },
  longLivingNotAllowed: { code: 5050, status: 400, title: 'Long-living payment not allowed' },
  bankAccountNotVerified: { code: 5060, status: 400, title: 'Merchant bank account not verified' },
  paymentCannotBeCreated: { code: 5070, status: 422, title: 'Payment cannot be created' },
  pushMessageNotAllowed: { code: 5080, status: 400, title: 'PUSH_MESSAGE not allowed' },
  referenceNotFound: { code: 5090, status: 404, title: 'Reference not found' },
  refundNotPossible: { code: 5100, status: 400, title: 'Refund not possible' },
  amountTooSmall: { code: 6010, status: 400, title: 'Amount too small' },
  refundBeforeReservation: { code: 6020, status: 400, title: 'Attempted refund before reservation' },
  cancelPeriodExpired: { code: 6030, status: 400, title: 'Cancel period expired' },
  cannotCancelCaptured: { code: 6040, status: 400, title: 'Cannot cancel a captured payment' },
  cannotCancelNonReserved: { code: 6050, status: 400, title: 'Cannot cancel a non-reserved payment' },
  cannotCancelAuthorized: { code: 6060, status: 400, title: 'Cannot cancel authorized payment' },
  cannotCaptureCancelled: { code: 6070, status: 400, title: 'Cannot capture a cancelled payment' },
  captureBeforeReservation: { code: 6080, status: 400, title: 'Cannot capture before reservation' },
  captureAmountTooHigh: { code: 6090, status: 400, title: 'Capture amount too high' },
  capturePeriodExpired: { code: 6100, status: 400, title: 'Capture period expired' },
  expirationTooLate: { code: 6110, status: 400, title: 'Expiration date is too late' },
  expirationTooSoon: { code: 6120, status: 400, title: 'Expiration date is too soon' },
  longLivingRequiresReceipt: { code: 6130, status: 400, title: 'Long living payments require a receipt' },
  mustCaptureFullAmount: { code: 6140, status: 400, title: 'Must capture full amount' },
  notEnoughRefundable: { code: 6150, status: 400, title: 'Not enough refundable' },
  orderProcessing: { code: 6160, status: 423, title: 'Order processing' },
  alreadyCaptured: { code: 6170, status: 400, title: 'Payment already captured' },
  alreadyRefunded: { code: 6180, status: 400, title: 'Payment already refunded' },
  cannotBeCancelled: { code: 6190, status: 400, title: 'Payment cannot be cancelled' },
  cannotBeCaptured: { code: 6200, status: 400, title: 'Payment cannot be captured' },
  cannotBeRefunded: { code: 6210, status: 400, title: 'Payment cannot be refunded' },
  refundPeriodExpired: { code: 6220, status: 400, title: 'Refund period expired' },
  alreadyReserved: { code: 6230, status: 400, title: 'Payment is already reserved' },
  cannotCancelProcessing: { code: 6250, status: 409, title: 'Cannot cancel processing payment' },
  fundsUnavailable: { code: 6260, status: 400, title: 'Funds unavailable' },
  captureFailedTryLater: { code: 6280, status: 503, title: 'Capture failed, please try again later' },
  customerNotFound: { code: 7010, status: 400, title: 'Customer not found' },
  approveFailed: { code: 10010, status: 400, title: 'Approve failed' },
  approveNotAllowed: { code: 10020, status: 400, title: 'Approve not allowed' },
  identificationRequired: { code: 10030, status: 400, title: 'Identification required' },
  invalidPaymentSource: { code: 10040, status: 400, title: 'Invalid payment source' },
  noCards: { code: 10050, status: 400, title: 'No cards' },
  operationNotSupported: { code: 10060, status: 400, title: 'Operation not supported' },
  paymentLimitExceeded: { code: 10070, status: 400, title: 'Payment limit exceeded' },
} as const satisfies Record<string, { code: number; status: number; title: string }>;

export type ErrorName = keyof typeof errorCodes;

/**
 * Outcomes that must not be stored against an idempotency key: the client retries them (spec §12.1,
 * open question 4), 6250 included — "retry later" (§9.2), which a stored answer would never let succeed.
 */
export const retryableCodes: ReadonlySet<number> = new Set([3010, 6160, 6250, 6260, 6280]);

/** A business-rule rejection with the platform's numeric code. */
export class DomainError extends Error {
  readonly errorName: ErrorName;
  readonly code: number;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  constructor(errorName: ErrorName, detail: string) {
    const { code, status, title } = errorCodes[errorName];
    super(`${code} ${title}: ${detail}`);
    this.errorName = errorName;
    this.code = code;
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export interface FieldError {
  name: string;
  reason: string;
}

/** A schema-level rejection: 400 with one `extraDetails` entry per field and no code (spec §13.2). */
export class ValidationError extends Error {
  readonly status = 400;
  readonly fields: FieldError[];
  readonly title: string;
  readonly detail: string;
  constructor(fields: FieldError[], title = 'Bad Request', detail = 'See extraDetails for further details') {
    super(fields.map((field) => `${field.name}: ${field.reason}`).join('; '));
    this.fields = fields;
    this.title = title;
    this.detail = detail;
  }
}

/** A 4xx that stays the answer for its idempotency key: a coded refusal that is not retryable, or a validation error. */
export function isDeterministicRefusal(error: unknown): error is DomainError | ValidationError {
  return (error instanceof DomainError && !retryableCodes.has(error.code)) || error instanceof ValidationError;
}

/** Any other HTTP-level problem (401, 403, 404 route, 405, 413, 415, 429, ...). */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  /** Extra members merged into the Problem body (e.g. the gateway's `statusCode`/`message`). */
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, title: string, detail?: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extra = extra;
    this.headers = headers;
  }
}
