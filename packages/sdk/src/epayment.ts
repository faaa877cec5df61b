/**
 * The ePayment API v1 (epayment-api §3): create, get, event log, capture, refund, cancel, and the
 * test-only force approve. State-changing calls carry one Idempotency-Key per logical operation — the
 * caller's, or a new UUID — that every retry repeats (§12.1). Pass your own key (e.g. derived from your
 * order and shipment ids) when a crash between "call sent" and "answer stored" must not cause a second
 * effect after a restart.
 */
import { randomUUID } from 'node:crypto';
import { ConfigurationError } from './errors.ts';
import type {
  CancelPaymentRequest,
  CreatePaymentRequest,
  CreatePaymentResponse,
  ForceApproveRequest,
  GetPaymentResponse,
  ModificationRequest,
  ModificationResponse,
  PaymentEvent,
} from './generated/types.ts';
import type { RequestExecutor } from './requestExecutor.ts';

export interface CallOptions {
  /** Acts for another sales unit than the configured one (partners and PSPs, §17.3). */
  merchantSerialNumber?: string;
}

export interface ModifyingCallOptions extends CallOptions {
  /** ≤ 50 characters; default a new UUID per call. Reused on every retry of this call. */
  idempotencyKey?: string;
}

const PAYMENTS = '/epayment/v1/payments';

export class EPaymentApi {
  #executor: RequestExecutor;

  constructor(executor: RequestExecutor) {
    this.#executor = executor;
  }

  /** `POST /epayment/v1/payments` → 201. PSPs add `paymentMethod.type: CARD_PASSTHROUGH` and `cardPassthrough`. */
  async createPayment(request: CreatePaymentRequest, options: ModifyingCallOptions = {}): Promise<CreatePaymentResponse> {
    return this.#modify('createPayment', PAYMENTS, {}, request, options);
  }

  /** `GET /epayment/v1/payments/{reference}`: the current state and aggregate. */
  async getPayment(reference: string, options: CallOptions = {}): Promise<GetPaymentResponse> {
    return this.#read('getPayment', `${PAYMENTS}/{reference}`, reference, options);
  }

  /** `GET /epayment/v1/payments/{reference}/events`: the event log, oldest first. */
  async getPaymentEvents(reference: string, options: CallOptions = {}): Promise<PaymentEvent[]> {
    return this.#read('getPaymentEvents', `${PAYMENTS}/{reference}/events`, reference, options);
  }

  /** Captures `modificationAmount` of the reservation; only after the goods are delivered or shipped (§8). */
  async capturePayment(reference: string, request: ModificationRequest, options: ModifyingCallOptions = {}): Promise<ModificationResponse> {
    return this.#modify('capturePayment', `${PAYMENTS}/{reference}/capture`, { reference }, request, options);
  }

  /** Refunds up to what was captured (§9.1). */
  async refundPayment(reference: string, request: ModificationRequest, options: ModifyingCallOptions = {}): Promise<ModificationResponse> {
    return this.#modify('refundPayment', `${PAYMENTS}/{reference}/refund`, { reference }, request, options);
  }

  /**
   * Cancels the payment before authorization (→ TERMINATED) or releases the whole uncaptured remainder
   * after it (§9.2). `cancelTransactionOnly: true` refuses to touch an authorized payment (6060). The key
   * is optional on the platform but always sent, so a retried cancel is recognised (§9.2 [rec]).
   */
  async cancelPayment(
    reference: string,
    request: CancelPaymentRequest = {},
    options: ModifyingCallOptions = {},
  ): Promise<ModificationResponse> {
    return this.#modify('cancelPayment', `${PAYMENTS}/{reference}/cancel`, { reference }, request ?? {}, options);
  }

  /**
   * Test environment only (§10): approves a CREATED payment without the app, by the `token` of its
   * redirect URL or a test customer. Refused locally against the production base URL, like the official SDK.
   */
  async forceApprovePayment(reference: string, request: ForceApproveRequest = {}, options: CallOptions = {}): Promise<void> {
    if (this.#executor.config.isProduction) throw new ConfigurationError('force approve exists only in the test environment');
    await this.#executor.call({
      operation: 'forceApprovePayment',
      method: 'POST',
      endpoint: '/epayment/v1/test/payments/{reference}/approve',
      params: { reference },
      body: request,
      ...msnOption(options),
    });
  }

  async #read<T>(operation: string, endpoint: string, reference: string, options: CallOptions): Promise<T> {
    const { data } = await this.#executor.call<T>({ operation, method: 'GET', endpoint, params: { reference }, ...msnOption(options) });
    return data;
  }

  async #modify<T>(
    operation: string,
    endpoint: string,
    params: Record<string, string>,
    body: unknown,
    options: ModifyingCallOptions,
  ): Promise<T> {
    const { data } = await this.#executor.call<T>({
      operation,
      method: 'POST',
      endpoint,
      params,
      body,
      idempotencyKey: options.idempotencyKey ?? randomUUID(),
      ...msnOption(options),
    });
    return data;
  }
}

export function msnOption(options: CallOptions): { merchantSerialNumber?: string } {
  return options.merchantSerialNumber !== undefined ? { merchantSerialNumber: options.merchantSerialNumber } : {};
}
