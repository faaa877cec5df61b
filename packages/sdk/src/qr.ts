/**
 * The QR API (platform-guidelines §12.2): merchant redirect QR codes (printable, lead to the merchant's
 * own page), merchant callback QR codes (a scan posts `user.checked-in.v1`), one-time payment QRs for a
 * deeplink, and the personal-QR exchange. Image format: `Accept` (`image/svg+xml`, `image/png`,
 * `text/targetUrl`) and `Size` for PNG; callback QRs take `qrImageFormat`/`qrImageSize` query parameters.
 */
import { type CallOptions, msnOption } from './epayment.ts';
import { ApiError } from './errors.ts';
import type {
  MerchantCallbackQr,
  MerchantCallbackQrRequest,
  MerchantRedirectQr,
  MerchantRedirectQrRequest,
  OneTimeQr,
  QrExchangeResponse,
} from './generated/types.ts';
import type { CallSpec, RequestExecutor } from './requestExecutor.ts';

export type QrImageFormat = 'image/svg+xml' | 'image/png' | 'text/targetUrl';

export interface QrImageOptions extends CallOptions {
  /** Default `image/svg+xml`. */
  format?: QrImageFormat;
  /** PNG side in pixels, 100–2000 (default 1024). */
  size?: number;
}

export interface CallbackQrImageOptions extends CallOptions {
  qrImageFormat?: 'SVG' | 'PNG';
  qrImageSize?: number;
}

const REDIRECT = '/qr/v1/merchant-redirect';
const CALLBACK = '/qr/v1/merchant-callback';

export class QrApi {
  #executor: RequestExecutor;

  constructor(executor: RequestExecutor) {
    this.#executor = executor;
  }

  /** `POST /qr/v1`: a one-time QR for an eCom/Recurring deeplink URL → `{url, expiresIn}`. */
  async createOneTimeQr(deeplinkUrl: string, options: QrImageOptions = {}): Promise<OneTimeQr> {
    return this.#call(
      'createOneTimeQr',
      { method: 'POST', endpoint: '/qr/v1', body: { url: deeplinkUrl }, headers: imageHeaders(options) },
      options,
    );
  }

  /**
   * `POST /qr/v1/merchant-redirect`: a printable QR that opens `redirectUrl` (409 when `id` exists).
   * The id makes a repeat harmless: when a retried create meets 409, the first attempt had arrived, and
   * the code it made is returned.
   */
  async createMerchantRedirectQr(request: MerchantRedirectQrRequest, options: QrImageOptions = {}): Promise<MerchantRedirectQr> {
    try {
      return await this.#call(
        'createMerchantRedirectQr',
        { method: 'POST', endpoint: REDIRECT, body: request, headers: imageHeaders(options) },
        options,
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.attempts > 1) {
        const existing = await this.getMerchantRedirectQr(request.id, options);
        if (existing.redirectUrl === request.redirectUrl) return existing;
      }
      throw error;
    }
  }

  async listMerchantRedirectQrs(options: QrImageOptions = {}): Promise<MerchantRedirectQr[]> {
    return this.#call('listMerchantRedirectQrs', { method: 'GET', endpoint: REDIRECT, headers: imageHeaders(options) }, options);
  }

  async getMerchantRedirectQr(id: string, options: QrImageOptions = {}): Promise<MerchantRedirectQr> {
    return this.#call(
      'getMerchantRedirectQr',
      { method: 'GET', endpoint: `${REDIRECT}/{id}`, params: { id }, headers: imageHeaders(options) },
      options,
    );
  }

  /** Changes where a printed code leads; effective at once, the image stays the same. */
  async updateMerchantRedirectQr(id: string, redirectUrl: string, options: QrImageOptions = {}): Promise<MerchantRedirectQr | undefined> {
    return this.#call(
      'updateMerchantRedirectQr',
      { method: 'PUT', endpoint: `${REDIRECT}/{id}`, params: { id }, body: { redirectUrl }, headers: imageHeaders(options) },
      options,
    );
  }

  /** Printed codes stop working for good (the id may be reused). */
  async deleteMerchantRedirectQr(id: string, options: CallOptions = {}): Promise<void> {
    await this.#call('deleteMerchantRedirectQr', { method: 'DELETE', endpoint: `${REDIRECT}/{id}`, params: { id } }, options);
  }

  /** `PUT /qr/v1/merchant-callback/{merchantQrId}`: create or update; register `user.checked-in.v1` first (§12.2). */
  async putMerchantCallbackQr(merchantQrId: string, request: MerchantCallbackQrRequest, options: CallOptions = {}): Promise<void> {
    await this.#call(
      'putMerchantCallbackQr',
      { method: 'PUT', endpoint: `${CALLBACK}/{merchantQrId}`, params: { merchantQrId }, body: request },
      options,
    );
  }

  /** `PUT /qr/v1/merchant-callback/mobilepay/{beaconId}`: a legacy MobilePay QR becomes a callback QR (409 if done before). */
  async convertMobilePayQr(beaconId: string, locationDescription: string, options: CallOptions = {}): Promise<void> {
    await this.#call(
      'convertMobilePayQr',
      { method: 'PUT', endpoint: `${CALLBACK}/mobilepay/{beaconId}`, params: { beaconId }, body: { locationDescription } },
      options,
    );
  }

  async listMerchantCallbackQrs(options: CallbackQrImageOptions = {}): Promise<MerchantCallbackQr[]> {
    return this.#call('listMerchantCallbackQrs', { method: 'GET', endpoint: CALLBACK, query: imageQuery(options) }, options);
  }

  /** `qrImageUrl` may change over time: fetch it again rather than storing it (§12.2). */
  async getMerchantCallbackQr(merchantQrId: string, options: CallbackQrImageOptions = {}): Promise<MerchantCallbackQr> {
    return this.#call(
      'getMerchantCallbackQr',
      { method: 'GET', endpoint: `${CALLBACK}/{merchantQrId}`, params: { merchantQrId }, query: imageQuery(options) },
      options,
    );
  }

  async deleteMerchantCallbackQr(merchantQrId: string, options: CallOptions = {}): Promise<void> {
    await this.#call(
      'deleteMerchantCallbackQr',
      { method: 'DELETE', endpoint: `${CALLBACK}/{merchantQrId}`, params: { merchantQrId } },
      options,
    );
  }

  /** `POST /qr/v1/exchange`: the phone number behind a scanned personal QR (send its complete content). */
  async exchangePersonalQr(qrCode: string, options: CallOptions = {}): Promise<QrExchangeResponse> {
    return this.#call(
      'exchangePersonalQr',
      { method: 'POST', endpoint: '/qr/v1/exchange', body: { qrCode, requestedData: ['MSISDN'] } },
      options,
    );
  }

  /** `POST /qr/v1/exchange/customer`: the phone number behind a `customerToken` from a check-in. */
  async exchangeCustomerToken(customerToken: string, options: CallOptions = {}): Promise<QrExchangeResponse> {
    return this.#call(
      'exchangeCustomerToken',
      { method: 'POST', endpoint: '/qr/v1/exchange/customer', body: { customer: { customerToken }, requestedData: ['MSISDN'] } },
      options,
    );
  }

  async #call<T>(operation: string, spec: Omit<CallSpec, 'operation'>, options: CallOptions): Promise<T> {
    const { data } = await this.#executor.call<T>({ operation, ...spec, ...msnOption(options) });
    return data;
  }
}

function imageHeaders(options: QrImageOptions): Record<string, string> {
  // SVG is the platform's default image format (§12.2); the answer itself is JSON either way.
  const headers: Record<string, string> = { Accept: options.format ?? 'image/svg+xml' };
  if (options.size !== undefined) headers.Size = String(options.size);
  return headers;
}

function imageQuery(options: CallbackQrImageOptions): Record<string, string | number | undefined> {
  return { qrImageFormat: options.qrImageFormat, qrImageSize: options.qrImageSize };
}
