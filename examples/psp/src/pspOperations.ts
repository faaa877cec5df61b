/**
 * What the PSP does for its merchants, on @kassa/sdk with its PSP keys and Psp-Id:
 * - create: a CARD_PASSTHROUGH payment whose card callback comes to us (epayment-api §17.2);
 * - capture / refund / cancel: the money moves at our acquirer first, then we report it through the
 *   ordinary ePayment endpoints so the user's app shows it (§17.3 "the PSP reports capture/refund/
 *   cancel"); each report has its own Idempotency-Key, kept so a failed report is sent again unchanged;
 * - webhooks (PSP-wide registration): the platform's view of each payment; a reservation the platform
 *   does not know (our RESERVE came too late, or the payment was aborted) is voided at the acquirer.
 */
import { type Amount, ApiError, type Client, type Logger, type WebhookPayload } from '@kassa/sdk';
import type { SimulatedAcquirer } from './acquirer.ts';
import type { PlatformState, PspPayment, PspPayments } from './pspPayments.ts';

export const ALLOWED_CARD_TYPES = ['VISA_DEBIT', 'VISA_CREDIT', 'MC_DEBIT', 'MC_CREDIT', 'DANKORT'] as const;

export class PspError extends Error {
  readonly status: number;
  readonly problem: unknown;
  constructor(status: number, message: string, problem?: unknown) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export interface CreateRequest {
  merchantSerialNumber: string;
  reference: string;
  amount: Amount;
  returnUrl: string;
  paymentDescription?: string;
  /** Pre-fills the landing page. */
  phoneNumber?: string;
}

export class PspOperations {
  readonly #client: Client;
  readonly #payments: PspPayments;
  readonly #acquirer: SimulatedAcquirer;
  readonly #log: Logger;
  readonly #callbackUrl: string;
  /** Our registered PAN key, when we have one (Dankort needs it). */
  encryptionKeyId: string | undefined;

  constructor(options: { client: Client; payments: PspPayments; acquirer: SimulatedAcquirer; log: Logger; callbackUrl: string }) {
    this.#client = options.client;
    this.#payments = options.payments;
    this.#acquirer = options.acquirer;
    this.#log = options.log;
    this.#callbackUrl = options.callbackUrl;
  }

  async create(request: CreateRequest): Promise<PspPayment> {
    if (this.#payments.byReference(request.merchantSerialNumber, request.reference)) {
      throw new PspError(409, `payment ${request.reference} exists`);
    }
    const payment = this.#payments.add(request);
    try {
      const created = await this.#client.epayment.createPayment(
        {
          amount: request.amount,
          paymentMethod: { type: 'CARD_PASSTHROUGH' },
          cardPassthrough: {
            pspReference: payment.pspReference,
            cardCallbackUrl: this.#callbackUrl,
            allowedCardTypes: [...ALLOWED_CARD_TYPES],
            ...(this.encryptionKeyId ? { publicEncryptionKeyId: this.encryptionKeyId } : {}),
          },
          reference: request.reference,
          userFlow: 'WEB_REDIRECT',
          returnUrl: request.returnUrl,
          ...(request.paymentDescription ? { paymentDescription: request.paymentDescription } : {}),
          ...(request.phoneNumber ? { customer: { phoneNumber: request.phoneNumber } } : {}),
        },
        { merchantSerialNumber: request.merchantSerialNumber, idempotencyKey: `create-${payment.pspReference}`.slice(0, 50) },
      );
      payment.redirectUrl = created.redirectUrl ?? null;
      this.#payments.note(payment, 'payment.created', `redirect the customer to ${payment.redirectUrl}`);
      return payment;
    } catch (error) {
      // Refused for good: nothing exists on the platform. Otherwise the outcome is unknown: keep the record.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        this.#payments.forget(payment);
        throw new PspError(422, error.message, error.problem);
      }
      throw new PspError(502, `the platform did not answer: ${(error as Error).message}`);
    }
  }

  /** Captures at the acquirer, then reports the capture. */
  async capture(payment: PspPayment, value: number) {
    const authorizationId = await this.#authorized(payment);
    const result = this.#acquirer.capture(authorizationId, value);
    if (!result.ok) throw new PspError(409, `the acquirer refused the capture: ${result.reason}`);
    payment.captured += value;
    this.#payments.note(payment, 'acquirer.captured', `${value}`);
    return this.#report(payment, { operation: 'capture', value, idempotencyKey: this.#key(payment, 'capture') });
  }

  async refund(payment: PspPayment, value: number) {
    const authorizationId = await this.#authorized(payment);
    const result = this.#acquirer.refund(authorizationId, value);
    if (!result.ok) throw new PspError(409, `the acquirer refused the refund: ${result.reason}`);
    payment.refunded += value;
    this.#payments.note(payment, 'acquirer.refunded', `${value}`);
    return this.#report(payment, { operation: 'refund', value, idempotencyKey: this.#key(payment, 'refund') });
  }

  /** Releases what is not captured (after approval) or ends the payment (before it). */
  async cancel(payment: PspPayment) {
    if (payment.authorizationId) this.#acquirer.void(payment.authorizationId);
    payment.cancelled = true;
    this.#payments.note(payment, 'acquirer.voided', 'the uncaptured rest is released');
    return this.#report(payment, { operation: 'cancel', value: 0, idempotencyKey: this.#key(payment, 'cancel') });
  }

  /** Sends reports that failed earlier again, with their original keys. */
  async retryReports(payment: PspPayment) {
    const pending = payment.pendingReports.splice(0);
    const results = [];
    for (const report of pending) results.push(await this.#report(payment, report));
    return results;
  }

  /** The platform's view (webhook): mirror the state; void a reservation the platform does not hold. */
  handleWebhook(event: WebhookPayload): void {
    if (event.kind !== 'epayment') return;
    const data = event.data;
    const payment = this.#payments.byReference(data.msn, data.reference);
    if (!payment) return;
    const key = `${data.name}|${data.pspReference}`;
    if (payment.webhooks.some((w) => `${w.name}|${w.pspReference}` === key)) return;
    payment.webhooks.push({ name: data.name, success: data.success, amount: data.amount.value, pspReference: data.pspReference });
    this.#payments.note(payment, 'webhook.received', `${data.name}${data.success ? '' : ' (failed)'}`);
    if (!data.success) return;
    const finalStates: Record<string, PlatformState> = {
      AUTHORIZED: 'AUTHORIZED',
      ABORTED: 'ABORTED',
      EXPIRED: 'EXPIRED',
      TERMINATED: 'TERMINATED',
    };
    const state = finalStates[data.name];
    if (state) payment.state = state;
    if (state && state !== 'AUTHORIZED' && payment.authorizationId) {
      this.#acquirer.void(payment.authorizationId);
      this.#payments.note(payment, 'acquirer.voided', `the platform says ${state}: our reservation is released`);
    }
  }

  /** The authorization to move money on; asks the platform when our mirror is not AUTHORIZED yet (webhooks can lag). */
  async #authorized(payment: PspPayment): Promise<string> {
    if (payment.state !== 'AUTHORIZED') {
      const current = await this.#client.epayment.getPayment(payment.reference, { merchantSerialNumber: payment.merchantSerialNumber });
      payment.state = current.state as PlatformState;
    }
    if (payment.state !== 'AUTHORIZED' || !payment.authorizationId) {
      throw new PspError(409, `the payment is ${payment.state}${payment.authorizationId ? '' : ' and has no authorization'}`);
    }
    return payment.authorizationId;
  }

  #key(payment: PspPayment, operation: string): string {
    payment.operations += 1;
    return `${operation}-${payment.operations}-${payment.pspReference}`.slice(0, 50);
  }

  async #report(payment: PspPayment, report: PspPayment['pendingReports'][number]) {
    const options = { merchantSerialNumber: payment.merchantSerialNumber, idempotencyKey: report.idempotencyKey };
    const modificationAmount = { currency: payment.amount.currency, value: report.value };
    try {
      if (report.operation === 'capture') await this.#client.epayment.capturePayment(payment.reference, { modificationAmount }, options);
      else if (report.operation === 'refund') await this.#client.epayment.refundPayment(payment.reference, { modificationAmount }, options);
      else await this.#client.epayment.cancelPayment(payment.reference, {}, options);
      this.#payments.note(payment, `reported.${report.operation}`, `${report.value} (${report.idempotencyKey})`);
      return { reported: true, ...report };
    } catch (error) {
      payment.pendingReports.push(report);
      this.#payments.note(payment, 'report.failed', `${report.operation} ${report.value}: ${(error as Error).message}`);
      this.#log({ level: 'error', event: 'report.failed', message: (error as Error).message, reference: payment.reference, ...report });
      return { reported: false, error: (error as Error).message, ...report };
    }
  }
}
