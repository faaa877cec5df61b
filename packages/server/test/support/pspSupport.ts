/**
 * What the PSP tests share: the demo PSP as a caller of the test server, PSPs of a test's own, and a
 * card-callback receiver on a loopback port that records every callback, checks its signature with
 * the PSP's client secret (platform-guidelines §4.4, §18) and answers as each test tells it — a
 * status and body, a hang, or an answer the test releases later (no sleeping).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newCredentials } from '../../src/auth/credentials.ts';
import { demoPsp } from '../../src/psp/demoPsp.ts';
import { insertPspKeySet } from '../../src/psp/pspSecrets.ts';
import type { DemoSalesUnit } from '../../src/seed.ts';
import { listCardCallbacks } from '../../src/store/pspStore.ts';
import { verifySignature } from '../../src/webhooks/signWebhook.ts';
import type { CallOptions, Reply, TestServer } from './testServer.ts';

/** A PSP acting for one of its sales units: the unit's MSN with the PSP's keys and Psp-Id. */
export type PspUnit = DemoSalesUnit & { pspId: string };

export const DEMO_PSP: PspUnit = {
  msn: demoPsp.msns[0] as string,
  name: demoPsp.salesUnitName,
  market: 'NO',
  clientId: demoPsp.clientId,
  clientSecret: demoPsp.clientSecret,
  subscriptionKey: demoPsp.subscriptionKey,
  pspId: demoPsp.pspId,
};

/** A call with the PSP's keys and its Psp-Id (options.headers may override or remove them). */
// biome-ignore lint/suspicious/noExplicitAny: replies are checked field by field, as with server.call
export function pspCall<B = any>(
  server: TestServer,
  psp: PspUnit,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<B>> {
  return server.call<B>(method, path, { ...options, unit: psp, headers: { 'Psp-Id': psp.pspId, ...options.headers } });
}

/** A new PSP with its own keys (and sealed signing secret) reaching the given sales units. */
export async function addPsp(server: TestServer, msns: string[], unit: Pick<DemoSalesUnit, 'msn' | 'name' | 'market'>): Promise<PspUnit> {
  const credentials = newCredentials();
  const pspId = `psp-${randomBytes(6).toString('hex')}`;
  await server.ctx.db.transaction((tx) => insertPspKeySet(tx, { pspId, ...credentials, msns }));
  return { ...unit, ...credentials, pspId };
}

export interface ReceivedCallback {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: the callback body, checked field by field in the tests
  body: any;
  /** The signature checked against the registered URL with the PSP's secret. */
  verified: boolean;
}

export type CallbackAnswer =
  | { status: number; json?: unknown; text?: string }
  | { hang: true }
  /** Answer when the test resolves the promise (e.g. after moving the clock). */
  | { later: Promise<{ status: number; json?: unknown; text?: string }> };

export class FakePsp {
  readonly callbacks: ReceivedCallback[] = [];
  /** What the next callbacks get; the last entry repeats. */
  answers: ((callback: ReceivedCallback) => CallbackAnswer)[] = [() => ({ status: 200, json: { status: 'RESERVE' } })];
  secret: string;
  readonly #server: http.Server;
  readonly #waiters = new Set<() => void>();
  #port = 0;
  /** How many callbacks had arrived when `answers` was set. */
  #answersFrom = 0;

  private constructor(secret: string) {
    this.secret = secret;
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
        const verified = verifySignature({ headers: request.headers, rawBody, secret: this.secret, url: this.url }).ok;
        const received: ReceivedCallback = { path: request.url ?? '', headers: request.headers, rawBody, body, verified };
        const index = Math.min(this.callbacks.length - this.#answersFrom, this.answers.length - 1);
        const policy = this.answers[index] as (c: ReceivedCallback) => CallbackAnswer;
        this.callbacks.push(received);
        for (const waiter of [...this.#waiters]) waiter();
        let answer = policy(received);
        if ('hang' in answer) return;
        if ('later' in answer) answer = await answer.later;
        if (response.destroyed) return;
        const text = answer.text ?? (answer.json === undefined ? '' : JSON.stringify(answer.json));
        response.writeHead(answer.status, { 'content-type': answer.text !== undefined ? 'text/plain' : 'application/json' });
        response.end(text);
      });
    });
  }

  static async start(secret = demoPsp.clientSecret): Promise<FakePsp> {
    const psp = new FakePsp(secret);
    psp.#server.listen(0, '127.0.0.1');
    await once(psp.#server, 'listening');
    psp.#port = (psp.#server.address() as AddressInfo).port;
    return psp;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/vipps/card-callback`;
  }

  /** Answers every following callback with these, in order (the last one repeats). */
  answer(...answers: ((callback: ReceivedCallback) => CallbackAnswer)[]): void {
    this.answers = answers;
    this.#answersFrom = this.callbacks.length;
  }

  async waitForCallbacks(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.callbacks.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.callbacks.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${count} card callbacks (got ${this.callbacks.length})`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }
}

export const reserve = () => ({ status: 200, json: { status: 'RESERVE', networkTransactionReference: `ntr-${randomUUID()}` } });

/** A CARD_PASSTHROUGH create body for the PSP's unit; `fields` and `passthrough` are merged over it. */
export function passthroughBody(
  psp: PspUnit,
  callbackUrl: string,
  fields: Record<string, unknown> = {},
  passthrough: Record<string, unknown> = {},
): Record<string, unknown> {
  const reference = (fields.reference as string | undefined) ?? `psp-${randomUUID()}`;
  return {
    amount: { currency: psp.market === 'DK' ? 'DKK' : psp.market === 'FI' ? 'EUR' : 'NOK', value: 25000 },
    paymentMethod: { type: 'CARD_PASSTHROUGH' },
    cardPassthrough: {
      pspReference: `psp-order-${reference}`.slice(0, 100),
      cardCallbackUrl: callbackUrl,
      allowedCardTypes: ['VISA_DEBIT', 'VISA_CREDIT', 'MC_DEBIT', 'MC_CREDIT'],
      ...passthrough,
    },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    paymentDescription: 'Card passthrough socks',
    ...fields,
  };
}

/** Creates a CARD_PASSTHROUGH payment as the PSP; asserts 201 and returns the reference. */
export async function createPassthrough(
  server: TestServer,
  psp: PspUnit,
  callbackUrl: string,
  fields: Record<string, unknown> = {},
  passthrough: Record<string, unknown> = {},
): Promise<string> {
  const body = passthroughBody(psp, callbackUrl, fields, passthrough);
  const reply = await pspCall(server, psp, 'POST', '/epayment/v1/payments', { body, idempotencyKey: randomUUID() });
  assert.equal(reply.status, 201, reply.text);
  return body.reference as string;
}

export function forceApprove(server: TestServer, psp: PspUnit, reference: string, body: unknown = {}): Promise<Reply> {
  return pspCall(server, psp, 'POST', `/epayment/v1/test/payments/${reference}/approve`, { body });
}

export const callbackRecords = (server: TestServer, psp: PspUnit, reference: string) =>
  listCardCallbacks(server.ctx.db, psp.msn, reference);
