/**
 * The client: one key set, one base URL, the APIs around the ePayment platform. Works unchanged against
 * Kassa and against the platform; only `baseUrl` differs (platform-guidelines §0).
 *
 * ```ts
 * const client = createClient({ baseUrl: TEST_BASE_URL, clientId, clientSecret, subscriptionKey,
 *   merchantSerialNumber: '123456', system: { name: 'acme', version: '1.0.0' }, logger: jsonLinesLogger() });
 * const { redirectUrl } = await client.epayment.createPayment({ ... }, { idempotencyKey: `create-${orderId}` });
 * ```
 */
import { AccessTokenProvider } from './accessToken.ts';
import { type ClientConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { EPaymentApi } from './epayment.ts';
import { QrApi } from './qr.ts';
import { RequestExecutor } from './requestExecutor.ts';
import { UserinfoApi } from './userinfo.ts';
import { WebhooksApi } from './webhooksApi.ts';

export class Client {
  readonly config: ResolvedConfig;
  readonly accessToken: AccessTokenProvider;
  readonly epayment: EPaymentApi;
  readonly webhooks: WebhooksApi;
  readonly userinfo: UserinfoApi;
  readonly qr: QrApi;

  constructor(config: ClientConfig) {
    this.config = resolveConfig(config);
    const executor = new RequestExecutor(this.config);
    this.accessToken = new AccessTokenProvider(executor);
    executor.tokenSource = this.accessToken;
    this.epayment = new EPaymentApi(executor);
    this.webhooks = new WebhooksApi(executor);
    this.userinfo = new UserinfoApi(executor);
    this.qr = new QrApi(executor);
  }
}

export function createClient(config: ClientConfig): Client {
  return new Client(config);
}
