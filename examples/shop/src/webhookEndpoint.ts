/**
 * The shop's webhook endpoint and its registration (platform-guidelines §4).
 *
 * A delivery is verified against the URL *as registered* (never the Host header a proxy may have
 * rewritten) with the raw body bytes; a bad one gets 401 so the platform retries it; a good one gets 200
 * at once and is processed afterwards (§4.4 verifier step 6: answer 2XX fast).
 */
import { type Client, epaymentEventType, verifyWebhook, type WebhookHeaders } from '@kassa/sdk';
import type { OrderStore, WebhookRegistration } from './orderStore.ts';
import type { ShopLogger, ShopPayments } from './shopPayments.ts';

const EVENTS = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED', 'CAPTURED', 'REFUNDED', 'CANCELLED'] as const;

/** Skew beyond this is logged (open question 7: not rejected, retries may carry their first date). */
const SKEW_WORTH_LOGGING_MS = 15 * 60 * 1000;

export function receiveWebhook(
  headers: WebhookHeaders,
  rawBody: Buffer,
  registration: WebhookRegistration | undefined,
  payments: ShopPayments,
  log: ShopLogger,
  now: () => number,
): number {
  if (!registration) {
    log({ level: 'error', event: 'webhook.rejected', message: 'a webhook arrived before the registration was known' });
    return 503;
  }
  const result = verifyWebhook('POST', registration.url, headers, rawBody, registration.secret, { now });
  if (!result.ok) {
    log({ level: 'warn', event: 'webhook.rejected', message: result.message, reason: result.reason });
    return 401;
  }
  if (result.skewMs !== null && Math.abs(result.skewMs) > SKEW_WORTH_LOGGING_MS) {
    log({
      level: 'warn',
      event: 'webhook.date_skew',
      message: `x-ms-date is ${Math.round(result.skewMs / 1000)} s off`,
      skewMs: result.skewMs,
    });
  }
  // Answer now; the work (and its API calls) happens after the response.
  setImmediate(() => {
    payments.handleWebhook(result.event).catch((error: Error) => {
      log({ level: 'error', event: 'webhook.processing_failed', message: error.message });
    });
  });
  return 200;
}

/**
 * Makes sure one registration for `url` exists and its secret is known. The secret is shown only once,
 * so a registration for this URL whose secret the shop does not hold is useless: it is replaced.
 */
export async function ensureWebhookRegistration(
  client: Client,
  store: OrderStore,
  url: string,
  log: ShopLogger,
): Promise<WebhookRegistration> {
  const { webhooks } = await client.webhooks.list();
  const known = store.webhook;
  if (known && known.url === url && webhooks.some((w) => w.id === known.id)) return known;
  const { id, secret } = await client.webhooks.register({ url, events: EVENTS.map((name) => epaymentEventType(name)) });
  const registration = { id, url, secret };
  store.webhook = registration;
  for (const stale of webhooks.filter((w) => w.url === url && w.id !== id)) {
    await client.webhooks.delete(stale.id).catch(() => {});
  }
  log({ level: 'info', event: 'webhook.registered', message: `registered webhook ${id} for ${url}`, webhookId: id });
  return registration;
}
