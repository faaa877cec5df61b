/**
 * Durability across restarts (ARCHITECTURE: the database is the only source of truth): a server is
 * stopped and a new one started on the same store, and every payment, event, idempotency record and
 * issued access token is still there. Runs on the embedded PGlite store in a data directory, and on
 * PostgreSQL as well when DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { createTestDatabase } from './support/testDatabase.ts';
import { NO } from './support/testServer.ts';

type Env = Record<string, string>;

/** A server as `kassa start` runs it: the store comes from the configuration, nothing is handed in. */
function start(env: Env): Promise<RunningServer> {
  const config = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', KASSA_RATE_LIMITS: 'off' });
  return startServer(config, { logger: createLogger('silent') });
}

async function fetchToken(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: NO.clientId, client_secret: NO.clientSecret, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function call(server: RunningServer, token: string, method: string, path: string, body?: unknown, idempotencyKey?: string) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
    'Merchant-Serial-Number': NO.msn,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  const response = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function survivesRestart(env: Env): Promise<void> {
  const reference = `persist-${randomUUID()}`;
  const path = `/epayment/v1/payments/${reference}`;
  const captureKey = randomUUID();
  const capture = { modificationAmount: { currency: 'NOK', value: 4000 } };

  const first = await start(env);
  let token: string;
  let captured: { status: number; body: unknown };
  let snapshot: { status: number; body: unknown };
  let events: { status: number; body: { name: string }[] };
  try {
    token = await fetchToken(first);
    const created = await call(
      first,
      token,
      'POST',
      '/epayment/v1/payments',
      {
        amount: { currency: 'NOK', value: 10000 },
        paymentMethod: { type: 'WALLET' },
        reference,
        userFlow: 'WEB_REDIRECT',
        returnUrl: 'https://shop.example/return',
        paymentDescription: 'Survives a restart',
        metadata: { orderId: '1001' },
      },
      randomUUID(),
    );
    assert.equal(created.status, 201);
    assert.equal((await call(first, token, 'POST', `/epayment/v1/test/payments/${reference}/approve`, {})).status, 200);
    captured = await call(first, token, 'POST', `${path}/capture`, capture, captureKey);
    assert.equal(captured.status, 200);
    snapshot = await call(first, token, 'GET', path);
    events = await call(first, token, 'GET', `${path}/events`);
    assert.deepEqual(
      events.body.map((e) => e.name),
      ['CREATED', 'AUTHORIZED', 'CAPTURED'],
    );
  } finally {
    await first.close();
  }

  const second = await start(env);
  try {
    // The token signing key lives in the database, so tokens survive the restart (and work on every process).
    const again = await call(second, token, 'GET', path);
    assert.equal(again.status, 200);
    assertMatchesOpenApi('GET', path, 200, again.body);
    assert.deepEqual(again.body, snapshot.body);
    assert.deepEqual(await call(second, token, 'GET', `${path}/events`), events);

    // The idempotency record survived too: the same capture is a replay, not a second capture.
    const replay = await call(second, token, 'POST', `${path}/capture`, capture, captureKey);
    assert.deepEqual(replay, captured);
    assert.deepEqual(await call(second, token, 'GET', `${path}/events`), events);

    // And the payment carries on where it was.
    const more = await call(second, token, 'POST', `${path}/capture`, capture, randomUUID());
    assert.equal(more.status, 200);
    assert.equal(more.body.aggregate.capturedAmount.value, 8000);
  } finally {
    await second.close();
  }
}

test('the embedded PGlite store keeps everything in KASSA_DATA_DIR across a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kassa-persistence-'));
  try {
    await survivesRestart({ KASSA_DATA_DIR: dataDir });
    assert.ok((await readdir(dataDir)).length > 0, 'the data directory holds the database files');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

// PostgreSQL needs a server; the suite runs on it when DATABASE_URL names one (scripts/test).
if (process.env.DATABASE_URL) {
  test('PostgreSQL keeps everything across a restart', async () => {
    const database = await createTestDatabase();
    try {
      await survivesRestart({ DATABASE_URL: database.url as string });
    } finally {
      await database.drop();
    }
  });
}
