/**
 * The Webhooks API (platform-guidelines §4.1): register, list, delete. Registration is a one-off setup
 * step (a deploy script or an admin action), not something to do per payment. The `secret` comes back
 * only once, at registration: store it, it is what `verifyWebhook` needs.
 */
import { randomUUID } from 'node:crypto';
import type { CallOptions } from './epayment.ts';
import type { RegisterWebhookRequest, RegisterWebhookResponse, WebhookList } from './generated/types.ts';
import type { RequestExecutor } from './requestExecutor.ts';

export interface WebhookCallOptions extends Omit<CallOptions, 'merchantSerialNumber'> {
  /**
   * Another sales unit than the configured one; `null` sends no `Merchant-Serial-Number`, which for
   * partner and PSP keys registers for every linked sales unit (§4.1).
   */
  merchantSerialNumber?: string | null;
}

export class WebhooksApi {
  #executor: RequestExecutor;

  constructor(executor: RequestExecutor) {
    this.#executor = executor;
  }

  /**
   * `POST /webhooks/v1/webhooks` → 201 `{id, secret}`; the URL must be public HTTPS on the platform.
   * When this fails with a 5xx or a lost connection, a registration may still have been made: `list()`
   * and delete registrations of the URL you hold no secret for, then register again.
   */
  async register(
    request: RegisterWebhookRequest,
    options: WebhookCallOptions & { idempotencyKey?: string } = {},
  ): Promise<RegisterWebhookResponse> {
    const { data } = await this.#executor.call<RegisterWebhookResponse>({
      operation: 'registerWebhook',
      method: 'POST',
      endpoint: '/webhooks/v1/webhooks',
      body: request,
      // Sent as the official SDK does (§4.1); the server ignores it (a replay would have to return the
      // secret again), so an attempt that may have arrived is not repeated: see retryPolicy.ts.
      idempotencyKey: options.idempotencyKey ?? randomUUID(),
      repeatable: false,
      ...msn(options),
    });
    return data;
  }

  /** `GET /webhooks/v1/webhooks`: check a registration still exists (they are deleted after 2 weeks unanswered, §4.5). */
  async list(options: WebhookCallOptions = {}): Promise<WebhookList> {
    const { data } = await this.#executor.call<WebhookList>({
      operation: 'listWebhooks',
      method: 'GET',
      endpoint: '/webhooks/v1/webhooks',
      ...msn(options),
    });
    return data;
  }

  /** `DELETE /webhooks/v1/webhooks/{id}` → 204. */
  async delete(id: string, options: WebhookCallOptions = {}): Promise<void> {
    await this.#executor.call({
      operation: 'deleteWebhook',
      method: 'DELETE',
      endpoint: '/webhooks/v1/webhooks/{id}',
      params: { id },
      ...msn(options),
    });
  }
}

function msn(options: WebhookCallOptions): { merchantSerialNumber?: string | null } {
  return options.merchantSerialNumber === undefined ? {} : { merchantSerialNumber: options.merchantSerialNumber };
}
