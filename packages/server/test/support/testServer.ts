/** A real Kassa server on a loopback port for HTTP tests, with a client that speaks its API. */
import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { sweepDueTransitions } from '../../src/operations/sweepDueTransitions.ts';
import { type DemoSalesUnit, demoSalesUnits } from '../../src/seed.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { createTestDatabase } from './testDatabase.ts';

export const NO = demoSalesUnits[0] as DemoSalesUnit;
export const DK = demoSalesUnits[1] as DemoSalesUnit;
export const FI = demoSalesUnits[2] as DemoSalesUnit;

// biome-ignore lint/suspicious/noExplicitAny: tests read reply bodies field by field and check them with assertions and the OpenAPI schemas
export interface Reply<B = any> {
  status: number;
  headers: Headers;
  body: B;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  headers?: Record<string, string>;
  unit?: DemoSalesUnit;
  idempotencyKey?: string;
  /** Send no authentication headers at all. */
  anonymous?: boolean;
}

export interface TestServer extends RunningServer {
  clock: Clock;
  // biome-ignore lint/suspicious/noExplicitAny: tests read reply bodies field by field and check them with assertions and the OpenAPI schemas
  call<B = any>(method: string, path: string, options?: CallOptions): Promise<Reply<B>>;
  token(unit?: DemoSalesUnit): Promise<string>;
  /** Creates a WEB_REDIRECT payment (override any field); returns the reference and the reply. */
  createPayment(fields?: Record<string, unknown>, options?: CallOptions): Promise<Reply & { reference: string }>;
  approve(reference: string, unit?: DemoSalesUnit, body?: unknown): Promise<Reply>;
  /** Runs the background sweep once (expiry, capture deadlines) instead of waiting for it. */
  sweep(): Promise<number>;
  /** Delivers every webhook due by the server clock, in order; resolves to the number of attempts made. */
  deliverWebhooks(): Promise<number>;
}

let counter = 0;
export function newReference(prefix = 'test'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${randomUUID().slice(0, 8)}`;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: { backgroundWebhooks?: boolean } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const config = loadConfig({ KASSA_RATE_LIMITS: 'off', ...env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url ?? '' });
  const clock = new Clock();
  const server = await startServer(config, {
    db: database.db,
    clock,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    background: false,
    backgroundWebhooks: options.backgroundWebhooks ?? false,
  });
  // Tokens live 1 h of the server's clock (of the key set's sales unit); tests move that clock, so a cached
  // token is renewed when it would lapse.
  const tokens = new Map<string, { token: string; until: number }>();

  async function token(unit: DemoSalesUnit = NO): Promise<string> {
    const cached = tokens.get(unit.clientId);
    if (cached && cached.until > clock.nowMs(unit.msn)) return cached.token;
    const response = await fetch(`${server.url}/accesstoken/get`, {
      method: 'POST',
      headers: { client_id: unit.clientId, client_secret: unit.clientSecret, 'Ocp-Apim-Subscription-Key': unit.subscriptionKey },
    });
    const body = (await response.json()) as { access_token: string };
    tokens.set(unit.clientId, { token: body.access_token, until: clock.nowMs(unit.msn) + 30 * 60 * 1000 });
    return body.access_token;
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read reply bodies field by field and check them with assertions and the OpenAPI schemas
  async function call<B = any>(method: string, path: string, options: CallOptions = {}): Promise<Reply<B>> {
    const unit = options.unit ?? NO;
    const headers: Record<string, string> = {};
    if (!options.anonymous) {
      headers.Authorization = `Bearer ${await token(unit)}`;
      headers['Ocp-Apim-Subscription-Key'] = unit.subscriptionKey;
      headers['Merchant-Serial-Number'] = unit.msn;
    }
    if (options.body !== undefined || options.raw !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    Object.assign(headers, options.headers);
    for (const [name, value] of Object.entries(headers)) if (value === '<none>') delete headers[name];
    const response = await fetch(server.url + path, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body: body as B, text };
  }

  async function createPayment(fields: Record<string, unknown> = {}, options: CallOptions = {}) {
    const unit = options.unit ?? NO;
    const currency = unit.market === 'NO' ? 'NOK' : unit.market === 'DK' ? 'DKK' : 'EUR';
    const reference = (fields.reference as string) ?? newReference();
    const body = {
      amount: { currency, value: 10000 },
      paymentMethod: { type: 'WALLET' },
      reference,
      userFlow: 'WEB_REDIRECT',
      returnUrl: `https://shop.example/return?reference=${reference}`,
      paymentDescription: 'One pair of socks',
      ...fields,
    };
    const reply = await call('POST', '/epayment/v1/payments', { idempotencyKey: randomUUID(), ...options, body });
    return { ...reply, reference };
  }

  return {
    ...server,
    clock,
    call,
    token,
    createPayment,
    approve: (reference, unit = NO, body = {}) => call('POST', `/epayment/v1/test/payments/${reference}/approve`, { unit, body }),
    sweep: () => sweepDueTransitions(database.db, clock),
    deliverWebhooks: () => server.webhooks.deliverDue(),
    async close() {
      await server.close();
      await database.drop();
    },
  };
}
