/**
 * Structured logs (platform-guidelines §15.1: "headers minus secrets"): every line is JSON, requests
 * are logged by method, path and status, and no client secret, subscription key, access token or
 * landing token ever appears. Client errors are not logged as errors; a real fault is, once, while
 * its client still gets a Problem (3010) that reveals nothing of it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { assertProblem } from './support/problems.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';
import { NO } from './support/testServer.ts';

/** One parsed log line, as far as these tests look at it. */
interface LogEntry {
  level: number;
  reqId?: string;
  req?: { method: string; path: string; traceId: string };
  res?: { status: number };
  err?: { message: string; stack: string };
}

/** A pino destination that keeps every line written to it. */
function captureStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

let database: TestDatabase;
let server: RunningServer;
const log = captureStream();

before(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', KASSA_RATE_LIMITS: 'off', DATABASE_URL: database.url ?? '' });
  // The most verbose level, so nothing that could ever be logged escapes the check.
  server = await startServer(config, { db: database.db, logger: createLogger('trace', log.stream), background: false });
});
after(async () => {
  await server.close();
  await database.drop();
});

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  // biome-ignore lint/suspicious/noExplicitAny: replies are read field by field in the assertions
  return { status: response.status, headers: response.headers, body: parsed as any, text };
}

test('logs never contain client secrets, subscription keys, access tokens or landing tokens', async () => {
  const credentials = { client_id: NO.clientId, client_secret: NO.clientSecret, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey };
  const token = (await call('POST', '/accesstoken/get', credentials)).body.access_token as string;
  assert.ok(token);
  const wrongSecret = 'a-wrong-secret-that-must-not-be-logged';
  assert.equal((await call('POST', '/accesstoken/get', { ...credentials, client_secret: wrongSecret })).status, 401);
  const unknownKey = 'an-unknown-subscription-key-not-to-log';
  assert.equal((await call('POST', '/accesstoken/get', { ...credentials, 'Ocp-Apim-Subscription-Key': unknownKey })).status, 401);

  const api = { Authorization: `Bearer ${token}`, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey, 'Merchant-Serial-Number': NO.msn };
  const reference = `logging-${Date.now()}`;
  const created = await call(
    'POST',
    '/epayment/v1/payments',
    { ...api, 'Idempotency-Key': reference },
    {
      amount: { currency: 'NOK', value: 10000 },
      paymentMethod: { type: 'WALLET' },
      reference,
      userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/return',
    },
  );
  assert.equal(created.status, 201);
  const redirect = new URL(created.body.redirectUrl);
  const landingToken = redirect.searchParams.get('token') as string;
  assert.ok(landingToken.length >= 16);
  // The customer's browser follows the redirect URL, token in the query.
  await call('GET', `${redirect.pathname}${redirect.search}`, {});
  await call('GET', `/epayment/v1/nothing${redirect.search}`, {});
  await call('GET', `/epayment/v1/payments/%zz${redirect.search}`, api);
  assert.equal((await call('POST', `/epayment/v1/test/payments/${reference}/approve`, api, { token: landingToken })).status, 200);
  // Client errors of several kinds, with the secrets in the places they travel.
  assert.equal((await call('GET', `/epayment/v1/payments/${reference}`, { ...api, Authorization: `Bearer ${token}x` })).status, 401);
  const tooMuch = { modificationAmount: { currency: 'NOK', value: 999999 } };
  assert.equal(
    (await call('POST', `/epayment/v1/payments/${reference}/capture`, { ...api, 'Idempotency-Key': 'c1' }, tooMuch)).status,
    400,
  );
  assert.equal((await call('GET', `/epayment/v1/payments/${reference}`, api)).status, 200);

  assert.ok(log.lines.length > 10, 'the traffic was logged');
  const entries = log.lines.map((line) => JSON.parse(line) as LogEntry);
  const text = log.lines.join('\n');
  for (const [what, secret] of Object.entries({
    'client secret': NO.clientSecret,
    'wrong client secret': wrongSecret,
    'subscription key': NO.subscriptionKey,
    'unknown subscription key': unknownKey,
    'access token': token,
    'access token signature': token.split('.')[2] as string,
    'landing token': landingToken,
  })) {
    assert.ok(!text.includes(secret), `the log contains the ${what}`);
  }
  // Requests are logged by method and path (without query) with their trace id and status.
  const requests = entries.filter((e) => e.req);
  assert.ok(requests.some((e) => e.req?.method === 'POST' && e.req?.path === '/epayment/v1/payments'));
  assert.ok(requests.some((e) => e.req?.path === redirect.pathname));
  for (const e of requests) assert.match(e.req?.traceId ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.ok(entries.some((e) => e.res?.status === 401) && entries.some((e) => e.res?.status === 400));
  // None of those client errors is logged as a warning or an error.
  const loud = entries.filter((e) => e.level >= 40);
  assert.deepEqual(loud, []);
});

test('a real server fault is logged once as an error; its client gets a 3010 Problem that reveals nothing', async () => {
  const faults = captureStream();
  const { app } = buildApp({ ...server.ctx, log: createLogger('info', faults.stream), tokenKey: randomBytes(32) });
  // A route that fails the way a bug does (a plain Error, no status), added only to this test's app.
  app.post('/epayment/v1/payments/:reference/explode', async () => {
    throw new Error('internal detail: connection to replica-7 refused');
  });
  try {
    const reply = await app.inject({ method: 'POST', url: '/epayment/v1/payments/abcdefgh12/explode?token=abc', payload: {} });
    const body = reply.json();
    assertProblem(
      { status: reply.statusCode, headers: new Headers(reply.headers as Record<string, string>), body, text: reply.body },
      500,
      'POST',
      '/epayment/v1/payments/abcdefgh12/explode?token=abc',
    );
    assert.deepEqual(body.extraDetails, [{ name: 'ErrorCode', reason: '3010' }]);
    assert.ok(!reply.body.includes('replica-7'), 'the fault stays in the log');

    const errors = faults.lines.map((line) => JSON.parse(line) as LogEntry).filter((e) => e.level >= 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.reqId, body.traceId, 'the log line carries the trace id the client got');
    assert.match(errors[0]?.err?.message ?? '', /replica-7/);
    assert.match(errors[0]?.err?.stack ?? '', /logging\.test\.ts/);
  } finally {
    await app.close();
  }
});
