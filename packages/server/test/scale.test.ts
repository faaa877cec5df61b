/**
 * Scale-out and crash safety (performance issue): lifecycle load on two worker processes sharing one
 * PostgreSQL, and a server killed with SIGKILL in the middle of the load. Afterwards every aggregate
 * equals its event log, nothing is over-captured, every acknowledged request is durable and every
 * event reaches the webhook receiver. Short, bounded versions of what `npm run bench` does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Database } from '../src/store/database.ts';
import { openPgliteDatabase } from '../src/store/pgliteDatabase.ts';
import { lostAcknowledgements, paymentsBreakingInvariants, runLifecycleLoad } from './support/lifecycleLoad.ts';
import { startServerProcess } from './support/serverProcess.ts';
import { createTestDatabase } from './support/testDatabase.ts';
import { NO } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const EVENTS = ['created', 'authorized', 'captured', 'refunded'].map((name) => `epayments.payment.${name}.v1`);

async function accessToken(baseUrl: string): Promise<string> {
  const token = await fetch(`${baseUrl}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: NO.clientId, client_secret: NO.clientSecret, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey },
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

async function registerWebhook(baseUrl: string, url: string): Promise<void> {
  const access_token = await accessToken(baseUrl);
  const response = await fetch(`${baseUrl}/webhooks/v1/webhooks`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${access_token}`,
      'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
      'Merchant-Serial-Number': NO.msn,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ url, events: EVENTS }),
  });
  assert.equal(response.status, 201, await response.text());
}

async function waitUntilNothingPending(baseUrl: string): Promise<void> {
  const access_token = await accessToken(baseUrl);
  const until = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${baseUrl}/kassa/v1/webhooks/deliveries?state=pending&limit=1`, {
      headers: {
        Authorization: `Bearer ${access_token}`,
        'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
        'Merchant-Serial-Number': NO.msn,
      },
    });
    const { deliveries } = (await response.json()) as { deliveries: unknown[] };
    if (deliveries.length === 0) return;
    assert.ok(Date.now() < until, 'webhook deliveries still pending after 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** pspReference of every event the receiver subscribed to, and how often each arrived. */
async function deliveryCounts(db: Database, receiver: WebhookReceiver) {
  const { rows } = await db.query<{ psp_reference: string }>(
    "select psp_reference from payment_events where msn = $1 and name in ('CREATED', 'AUTHORIZED', 'CAPTURED', 'REFUNDED')",
    [NO.msn],
  );
  const received = new Map<string, number>();
  for (const request of receiver.accepted) received.set(request.body.pspReference, (received.get(request.body.pspReference) ?? 0) + 1);
  return { expected: rows.map((row) => row.psp_reference), received };
}

/** An API GET on a connection of its own, so that node:cluster hands each to the next worker in turn. */
function getOnNewConnection(url: string, headers: Record<string, string>): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] as string | undefined }),
      );
    });
    request.on('error', reject);
  });
}

test('two worker processes on one PostgreSQL keep every invariant, deliver each event once and share the rate limits', {
  timeout: 120_000,
}, async () => {
  if (!process.env.DATABASE_URL) {
    // The embedded store belongs to one process: asking for several must fail clearly, not corrupt it.
    const result = spawnSync(process.execPath, [new URL('../src/main.ts', import.meta.url).pathname, 'start', '--workers', '2'], {
      env: { ...process.env, DATABASE_URL: '', KASSA_DATA_DIR: mkdtempSync(join(tmpdir(), 'kassa-workers-')), PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /--workers needs PostgreSQL \(DATABASE_URL\)/);
    return;
  }
  const database = await createTestDatabase();
  const receiver = await WebhookReceiver.start();
  // Rate limits on: a lifecycle makes 4 writes per reference (limit 5), and the last step needs them.
  const server = await startServerProcess({ DATABASE_URL: database.url as string, KASSA_RATE_LIMITS: 'on' }, ['--workers', '2']);
  try {
    await registerWebhook(server.url, receiver.url);
    const load = await runLifecycleLoad({ baseUrl: server.url, unit: NO, concurrency: 12, durationMs: 6000 });
    assert.deepEqual(load.unexpected, []);
    assert.equal(load.unanswered, 0);
    assert.ok(load.lifecycles >= 12, `only ${load.lifecycles} lifecycles completed`);

    assert.deepEqual(await paymentsBreakingInvariants(database.db), []);
    assert.deepEqual(await lostAcknowledgements(database.db, NO.msn, load.acknowledged), []);
    const { rows } = await database.db.query<{ count: number }>('select count(*)::int as count from payments');
    assert.equal(rows[0]?.count, load.acknowledged.filter((ack) => ack.operation === 'create').length);

    const expectedEvents = (await deliveryCounts(database.db, receiver)).expected.length;
    await receiver.waitFor(`${expectedEvents} webhooks`, (r) => r.accepted.length >= expectedEvents, 30_000);
    const { expected, received } = await deliveryCounts(database.db, receiver);
    assert.deepEqual(
      expected.filter((psp) => received.get(psp) !== 1),
      [],
      'every event is delivered exactly once to a healthy receiver',
    );

    // 120 reads a minute per reference (spec §13.6) whichever process answers: the workers take turns
    // with new connections, and the 121st read is refused although each worker saw only about 60.
    const headers = {
      Authorization: `Bearer ${await accessToken(server.url)}`,
      'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
      'Merchant-Serial-Number': NO.msn,
    };
    const reads = `${server.url}/epayment/v1/payments/never-created-${Date.now()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 120; i++) statuses.push((await getOnNewConnection(reads, headers)).status);
    assert.deepEqual(new Set(statuses), new Set([404]));
    const refused = await getOnNewConnection(reads, headers);
    assert.equal(refused.status, 429);
    assert.match(refused.retryAfter ?? '', /^\d+$/);
  } finally {
    await server.kill('SIGTERM');
    await receiver.stop();
    await database.drop();
  }
});

test('a server killed with SIGKILL under load loses no acknowledged request and no event', { timeout: 180_000 }, async () => {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'kassa-crash-'));
  const env: Record<string, string> = {
    ...(database ? { DATABASE_URL: database.url as string } : { DATABASE_URL: '', KASSA_DATA_DIR: dataDir }),
    // A short receiver deadline makes an interrupted delivery's lease expire quickly after the restart.
    KASSA_WEBHOOK_TIMEOUT_MS: '2000',
  };
  const receiver = await WebhookReceiver.start();
  let server = await startServerProcess(env);
  try {
    await registerWebhook(server.url, receiver.url);
    let killed = false;
    const load = runLifecycleLoad({ baseUrl: server.url, unit: NO, concurrency: 8, durationMs: 60_000, stop: () => killed });
    // Kill once real work is under way, in the middle of requests.
    await receiver.waitFor('load under way', (r) => r.accepted.length >= 40, 60_000);
    await server.kill('SIGKILL');
    killed = true;
    const outcome = await load;
    assert.deepEqual(outcome.unexpected, []);
    assert.ok(outcome.acknowledged.length > 0);

    server = await startServerProcess(env);
    // After the restart the server answers for everything it acknowledged before it died.
    const after = await runLifecycleLoad({ baseUrl: server.url, unit: NO, concurrency: 2, durationMs: 1000 });
    assert.deepEqual(after.unexpected, []);

    const check = async (db: Database) => {
      assert.deepEqual(await paymentsBreakingInvariants(db), []);
      assert.deepEqual(await lostAcknowledgements(db, NO.msn, [...outcome.acknowledged, ...after.acknowledged]), []);
    };
    if (database) {
      await check(database.db);
      const { expected } = await deliveryCounts(database.db, receiver);
      await receiver.waitFor(
        'every event delivered',
        (r) => {
          const seen = new Set(r.accepted.map((req) => req.body.pspReference));
          return expected.every((psp) => seen.has(psp));
        },
        60_000,
      );
    } else {
      // The embedded store is one process's: wait through the control API until nothing is pending, then read it.
      await waitUntilNothingPending(server.url);
      await server.kill('SIGTERM');
      const db = await openPgliteDatabase(dataDir);
      try {
        await check(db);
        const { expected, received } = await deliveryCounts(db, receiver);
        assert.deepEqual(
          expected.filter((psp) => !received.has(psp)),
          [],
          'every event reached the receiver',
        );
      } finally {
        await db.close();
      }
    }
  } finally {
    await server.kill('SIGTERM');
    await receiver.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
