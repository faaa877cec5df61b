/**
 * A small merchant integration for the checklist tests: its own sales unit and keys, and the calls it
 * makes written out step by step, so a test can make it do exactly one thing wrong. It speaks HTTP to a
 * real server like any client; time passes only when the test moves the server's clock.
 */
import { randomUUID } from 'node:crypto';
import { digest, newCredentials } from '../../src/auth/credentials.ts';
import { marketCurrency } from '../../src/payments/salesUnits.ts';
import type { Market } from '../../src/payments/types.ts';
import type { DemoSalesUnit } from '../../src/seed.ts';
import { insertKeySet, upsertSalesUnit } from '../../src/store/merchantsStore.ts';
import type { Reply, TestServer } from './testServer.ts';

let units = 0;

/** A fresh sales unit with its own keys: each integration's evidence is its own. */
export async function newSalesUnit(server: TestServer, market: Market = 'NO', name?: string): Promise<DemoSalesUnit> {
  units += 1;
  const msn = String(3_000_000 + Math.floor(Math.random() * 900_000) + units);
  const credentials = newCredentials();
  await server.ctx.db.transaction(async (tx) => {
    await upsertSalesUnit(tx, { msn, name: name ?? `Checklist shop ${units}`, market, currency: marketCurrency[market] });
    await insertKeySet(tx, {
      clientId: credentials.clientId,
      clientSecretHash: digest(credentials.clientSecret),
      subscriptionKeyHash: digest(credentials.subscriptionKey),
      kind: 'merchant',
      pspId: null,
      msns: [msn],
    });
  });
  return { msn, name: name ?? `Checklist shop ${units}`, market, ...credentials };
}

export type SystemHeaders = 'all' | 'none';

export interface CallOptions {
  body?: unknown;
  idempotencyKey?: string;
}

export class ScriptedIntegration {
  readonly server: TestServer;
  readonly unit: DemoSalesUnit;
  readonly systemHeaders: SystemHeaders;
  /** false: an integration that relies on webhooks alone — `pollNicely` only lets the time pass. */
  readonly polls: boolean;
  #token: { value: string; until: number } | undefined;
  #orders = 0;

  constructor(server: TestServer, unit: DemoSalesUnit, options: { systemHeaders?: SystemHeaders; polls?: boolean } = {}) {
    this.server = server;
    this.unit = unit;
    this.systemHeaders = options.systemHeaders ?? 'all';
    this.polls = options.polls ?? true;
  }

  get currency(): string {
    return marketCurrency[this.unit.market];
  }

  async #accessToken(): Promise<string> {
    const now = this.server.clock.nowMs();
    if (this.#token && this.#token.until > now) return this.#token.value;
    const response = await fetch(`${this.server.url}/accesstoken/get`, {
      method: 'POST',
      headers: {
        client_id: this.unit.clientId,
        client_secret: this.unit.clientSecret,
        'Ocp-Apim-Subscription-Key': this.unit.subscriptionKey,
      },
    });
    const body = (await response.json()) as { access_token: string };
    this.#token = { value: body.access_token, until: now + 30 * 60 * 1000 };
    return body.access_token;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await this.#accessToken()}`,
      'Ocp-Apim-Subscription-Key': this.unit.subscriptionKey,
      'Merchant-Serial-Number': this.unit.msn,
    };
    if (this.systemHeaders !== 'none') {
      Object.assign(headers, {
        'Vipps-System-Name': 'acme',
        'Vipps-System-Version': '3.1.2',
        'Vipps-System-Plugin-Name': 'acme-webshop',
        'Vipps-System-Plugin-Version': '4.5.6',
      });
    }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    const response = await fetch(this.server.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body, text };
  }

  /** A readable, unique reference and a body the checklist finds nothing wrong with; `fields` override it. */
  paymentBody(fields: Record<string, unknown> = {}): { reference: string; body: Record<string, unknown> } {
    this.#orders += 1;
    const order = `order${this.#orders}${randomUUID().slice(0, 6)}`;
    const reference = (fields.reference as string | undefined) ?? `acme-${this.unit.msn}-${order}`;
    const value = (fields.amount as { value?: number } | undefined)?.value ?? 10000;
    const body: Record<string, unknown> = {
      amount: { currency: this.currency, value },
      paymentMethod: { type: 'WALLET' },
      reference,
      userFlow: 'WEB_REDIRECT',
      returnUrl: `https://shop.example/orders/${order}/return?reference=${reference}`,
      paymentDescription: 'Two pairs of wool socks',
      receipt: {
        orderLines: [
          {
            name: 'Wool socks',
            id: 'socks',
            totalAmount: value,
            totalAmountExcludingTax: Math.round(value * 0.8),
            totalTaxAmount: value - Math.round(value * 0.8),
            taxRate: 2500,
          },
        ],
        bottomLine: { currency: this.currency, receiptNumber: order },
      },
      ...fields,
    };
    for (const [name, v] of Object.entries(body)) if (v === undefined) delete body[name];
    return { reference, body };
  }

  async create(fields: Record<string, unknown> = {}, key: string | null = randomUUID()): Promise<string> {
    const { reference, body } = this.paymentBody(fields);
    const reply = await this.call('POST', '/epayment/v1/payments', { body, ...(key ? { idempotencyKey: key } : {}) });
    if (reply.status !== 201) throw new Error(`create answered ${reply.status}: ${reply.text}`);
    return reference;
  }

  get(reference: string): Promise<Reply> {
    return this.call('GET', `/epayment/v1/payments/${reference}`);
  }

  events(reference: string): Promise<Reply> {
    return this.call('GET', `/epayment/v1/payments/${reference}/events`);
  }

  modify(
    operation: 'capture' | 'refund' | 'cancel',
    reference: string,
    value: number | null,
    key: string | null = randomUUID(),
  ): Promise<Reply> {
    const body = value === null ? {} : { modificationAmount: { currency: this.currency, value } };
    return this.call('POST', `/epayment/v1/payments/${reference}/${operation}`, { body, ...(key ? { idempotencyKey: key } : {}) });
  }

  registerWebhook(url: string, events: string[]): Promise<Reply> {
    return this.call('POST', '/webhooks/v1/webhooks', { body: { url, events }, idempotencyKey: randomUUID() });
  }

  /** Polls like the guidelines say (§5): 5 s after create, then every 2 s, `polls` times. */
  async pollNicely(reference: string, polls = 4): Promise<void> {
    for (let i = 0; i < polls; i++) {
      this.server.clock.advance(i === 0 ? 5000 : 2000);
      if (this.polls) await this.get(reference);
    }
  }
}
