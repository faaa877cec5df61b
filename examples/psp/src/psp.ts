/**
 * The reference PSP as one HTTP server (node:http): the card callback the platform calls, the 3-D
 * Secure page the app opens, the webhook endpoint, and a small JSON API for the PSP's merchants.
 * `startPsp` wires the SDK client (PSP keys + Psp-Id), registers the PAN encryption key (Kassa's
 * control API) and a PSP-wide webhook, and listens.
 *
 *   POST /vipps/card-callback                 the platform's card callback (signed with our client secret)
 *   GET|POST /3ds/{challengeId}               our 3-D Secure page
 *   POST /vipps/webhooks                      the platform's webhooks (PSP-wide registration)
 *   POST /api/payments                        merchant: start a payment → {reference, pspReference, redirectUrl}
 *   GET  /api/payments/{reference}            merchant: our record of it
 *   POST /api/payments/{reference}/capture    merchant: {"value": 1000} — capture, then report
 *   POST /api/payments/{reference}/refund     merchant: {"value": 500}
 *   POST /api/payments/{reference}/cancel     merchant: release the rest
 *   POST /api/payments/{reference}/reports    merchant: send failed reports again
 * Merchant calls name the sales unit with `Merchant-Serial-Number` (default: the configured one) and,
 * when `merchantApiKey` is set, carry `Authorization: Bearer <key>`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Amount, type ClientConfig, createClient, epaymentEventType, jsonLinesLogger, type Logger, verifyWebhook } from '@kassa/sdk';
import { SimulatedAcquirer } from './acquirer.ts';
import { handleCardCallback } from './cardCallbackEndpoint.ts';
import { challengePage, pageHeaders } from './challengePage.ts';
import { PspError, PspOperations } from './pspOperations.ts';
import { PspPayments, paymentView } from './pspPayments.ts';

export interface PspOptions {
  /** The platform (or Kassa) and the PSP's keys, with its Psp-Id. */
  platform: Pick<ClientConfig, 'baseUrl' | 'clientId' | 'clientSecret' | 'subscriptionKey'> & { pspId: string };
  /** The sales unit merchant calls act for when they name none. */
  defaultMerchantSerialNumber?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How the platform and browsers reach us (card callback, 3-D Secure page, webhooks); default http://host:port. */
  publicUrl?: string;
  /** PEM of the RSA private key for encrypted PANs; a new 2048-bit key per start when absent. */
  privateKeyPem?: string;
  /** When set, merchant API calls must send `Authorization: Bearer <merchantApiKey>`. */
  merchantApiKey?: string;
  log?: Logger;
  sdk?: Partial<Pick<ClientConfig, 'retry' | 'timeouts'>>;
}

export interface RunningPsp {
  url: string;
  callbackUrl: string;
  payments: PspPayments;
  acquirer: SimulatedAcquirer;
  operations: PspOperations;
  encryptionKeyId: string | undefined;
  close(): Promise<void>;
}

const EVENTS = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED', 'CAPTURED', 'REFUNDED', 'CANCELLED'] as const;
const MAX_BODY = 64 * 1024;
/** The currencies of PSP agreements (epayment-api §17.2). */
const CURRENCIES: Amount['currency'][] = ['NOK', 'DKK', 'EUR', 'SEK', 'USD', 'GBP'];

export async function startPsp(options: PspOptions): Promise<RunningPsp> {
  const log = options.log ?? jsonLinesLogger((line) => process.stdout.write(line), { minLevel: 'info' });
  const client = createClient({
    ...options.platform,
    system: { name: 'kassa-psp', version: '0.1.0', pluginName: 'kassa-psp-example', pluginVersion: '0.1.0' },
    logger: (entry) => log({ ...entry, component: 'sdk' }),
    ...options.sdk,
  });
  const payments = new PspPayments();
  const acquirer = new SimulatedAcquirer();
  const privateKey: KeyObject = options.privateKeyPem
    ? createPrivateKey(options.privateKeyPem)
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const publicUrl = (options.publicUrl ?? `http://${options.host ?? '127.0.0.1'}:${port}`).replace(/\/$/, '');
  const callbackUrl = `${publicUrl}/vipps/card-callback`;
  const webhookUrl = `${publicUrl}/vipps/webhooks`;
  const operations = new PspOperations({ client, payments, acquirer, log, callbackUrl });
  let webhookSecret: string | undefined;

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    readBody(request)
      .then((body) => route(request, response, body))
      .catch((error: Error) => {
        const status = error instanceof PspError ? error.status : 500;
        if (status === 500) log({ level: 'error', event: 'request.failed', message: error.message });
        sendJson(response, status, {
          error: error.message,
          ...(error instanceof PspError && error.problem ? { problem: error.problem } : {}),
        });
      });
  });

  async function route(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://psp');
    const method = request.method ?? 'GET';
    if (method === 'POST' && url.pathname === '/vipps/card-callback') {
      const answer = handleCardCallback(
        { payments, acquirer, clientSecret: options.platform.clientSecret, callbackUrl, publicUrl, privateKey, log },
        request.headers,
        body,
      );
      return sendJson(response, answer.status, answer.body);
    }
    const challengeMatch = /^\/3ds\/([\w-]+)$/.exec(url.pathname);
    if (challengeMatch) return challengeRoute(method, challengeMatch[1] as string, body, response);
    if (method === 'POST' && url.pathname === '/vipps/webhooks') {
      if (!webhookSecret) return sendJson(response, 503, { error: 'not ready' });
      const verified = verifyWebhook('POST', webhookUrl, request.headers, body, webhookSecret);
      if (!verified.ok) {
        log({ level: 'warn', event: 'webhook.rejected', message: verified.message, reason: verified.reason });
        return sendJson(response, 401, { error: verified.reason });
      }
      operations.handleWebhook(verified.event);
      return sendJson(response, 200, { ok: true });
    }
    if (url.pathname.startsWith('/api/')) return merchantRoute(method, url, request, body, response);
    sendJson(response, 404, { error: 'not found' });
  }

  function challengeRoute(method: string, id: string, body: Buffer, response: ServerResponse): void {
    const found = payments.challenge(id);
    if (!found) {
      response
        .writeHead(404, pageHeaders)
        .end('<!doctype html><html lang="en"><title>Not found</title><h1>No such verification</h1></html>');
      return;
    }
    const { payment, challenge } = found;
    if (method === 'POST' && challenge.result === 'pending') {
      const action = new URLSearchParams(body.toString('utf8')).get('action');
      challenge.result = action === 'approve' ? 'approved' : 'denied';
      payments.note(payment, '3ds.completed', `attempt ${challenge.attemptId}: ${challenge.result}`);
      // Back to the platform, which makes the second card callback of the attempt (§17.3).
      response.writeHead(303, { location: challenge.completedRedirectUrl, 'cache-control': 'no-store' }).end();
      return;
    }
    response.writeHead(200, pageHeaders).end(challengePage(payment, challenge));
  }

  async function merchantRoute(method: string, url: URL, request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> {
    if (options.merchantApiKey && !sameSecret(request.headers.authorization ?? '', `Bearer ${options.merchantApiKey}`)) {
      return sendJson(response, 401, { error: 'send Authorization: Bearer <merchant API key>' });
    }
    const msn = headerValue(request, 'merchant-serial-number') ?? options.defaultMerchantSerialNumber;
    if (!msn) throw new PspError(400, 'Merchant-Serial-Number is required');
    const input = body.length > 0 ? parseJson(body) : {};
    if (method === 'POST' && url.pathname === '/api/payments') {
      const amount = input.amount as { currency?: unknown; value?: unknown } | undefined;
      if (typeof input.reference !== 'string' || typeof input.returnUrl !== 'string' || !amount || typeof amount.value !== 'number') {
        throw new PspError(400, 'reference, returnUrl and amount {currency, value} are required');
      }
      if (!CURRENCIES.includes(amount.currency as Amount['currency']))
        throw new PspError(400, `currency must be one of ${CURRENCIES.join(', ')}`);
      const payment = await operations.create({
        merchantSerialNumber: msn,
        reference: input.reference,
        amount: { currency: amount.currency as Amount['currency'], value: amount.value },
        returnUrl: input.returnUrl,
        ...(typeof input.paymentDescription === 'string' ? { paymentDescription: input.paymentDescription } : {}),
        ...(typeof input.phoneNumber === 'string' ? { phoneNumber: input.phoneNumber } : {}),
      });
      return sendJson(response, 201, {
        reference: payment.reference,
        pspReference: payment.pspReference,
        redirectUrl: payment.redirectUrl,
      });
    }
    const match = /^\/api\/payments\/([\w-]+)(?:\/(capture|refund|cancel|reports))?$/.exec(url.pathname);
    const payment = match ? payments.byReference(msn, match[1] as string) : undefined;
    if (!match || !payment) return sendJson(response, 404, { error: 'no such payment' });
    const view = () => paymentView(payment, payment.authorizationId ? acquirer.get(payment.authorizationId) : null);
    const value = () => {
      if (!Number.isInteger(input.value) || (input.value as number) < 1)
        throw new PspError(400, 'value must be a whole number of minor units ≥ 1');
      return input.value as number;
    };
    if (method === 'GET' && !match[2]) return sendJson(response, 200, view());
    if (method !== 'POST' || !match[2]) return sendJson(response, 405, { error: 'method not allowed' });
    const report =
      match[2] === 'capture'
        ? await operations.capture(payment, value())
        : match[2] === 'refund'
          ? await operations.refund(payment, value())
          : match[2] === 'cancel'
            ? await operations.cancel(payment)
            : await operations.retryReports(payment);
    return sendJson(response, 200, { report, payment: view() });
  }

  // The PAN key: registered through Kassa's control API (the platform takes keys through the PSP
  // partner manager instead); without one, Dankort cards cannot pay (epayment-api §17.2).
  operations.encryptionKeyId = await registerEncryptionKey(client, options.platform, privateKey, log);
  // A PSP-wide registration (no Merchant-Serial-Number): every merchant we onboard, now or later.
  const { webhooks } = await client.webhooks.list({ merchantSerialNumber: null });
  const registered = await client.webhooks.register(
    { url: webhookUrl, events: EVENTS.map((name) => epaymentEventType(name)) },
    { merchantSerialNumber: null },
  );
  webhookSecret = registered.secret;
  for (const stale of webhooks.filter((w) => w.url === webhookUrl))
    await client.webhooks.delete(stale.id, { merchantSerialNumber: null }).catch(() => {});
  log({ level: 'info', event: 'psp.started', message: `PSP on ${publicUrl}; card callbacks at ${callbackUrl}` });

  return {
    url: publicUrl,
    callbackUrl,
    payments,
    acquirer,
    operations,
    encryptionKeyId: operations.encryptionKeyId,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function registerEncryptionKey(
  client: ReturnType<typeof createClient>,
  platform: PspOptions['platform'],
  privateKey: KeyObject,
  log: Logger,
): Promise<string | undefined> {
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const response = await fetch(new URL('/kassa/v1/psp/encryption-keys', platform.baseUrl), {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await client.accessToken.get()}`,
      'Ocp-Apim-Subscription-Key': platform.subscriptionKey,
      'Psp-Id': platform.pspId,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ publicKey }),
  }).catch(() => null);
  if (!response?.ok) {
    log({
      level: 'warn',
      event: 'encryption_key.not_registered',
      message: `no PAN key registered (HTTP ${response?.status ?? 'error'}): Dankort is unavailable`,
    });
    return undefined;
  }
  const { keyId } = (await response.json()) as { keyId: string };
  log({ level: 'info', event: 'encryption_key.registered', message: `PAN encryption key ${keyId}`, keyId });
  return keyId;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new PspError(413, 'body too large'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(body.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {}
  throw new PspError(400, 'the body must be a JSON object');
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
