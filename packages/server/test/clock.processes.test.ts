/**
 * Time control with several server processes on one database (ARCHITECTURE "Scale-out"): two servers,
 * each with its own clock, connections and LISTEN, share one database. A change made through one is
 * in force in the other by the time the changing call has answered, and a server started later
 * starts on the moved time. On PostgreSQL the servers have separate connection pools, as separate
 * processes do; on PGlite, which one process owns, they share the embedded database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Clock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { demoSalesUnits } from '../src/seed.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import type { Database } from '../src/store/database.ts';
import { findPayment } from '../src/store/paymentsStore.ts';
import { openPostgresDatabase } from '../src/store/postgresDatabase.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';

const NO = demoSalesUnits[0] as (typeof demoSalesUnits)[number];

let database: TestDatabase;
const opened: Database[] = [];
const servers: RunningServer[] = [];

async function startOne(): Promise<RunningServer> {
  let db = database.db;
  if (database.url) {
    db = await openPostgresDatabase(database.url, 4);
    opened.push(db);
  }
  const config = loadConfig({ KASSA_RATE_LIMITS: 'off', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url ?? '' });
  const server = await startServer(config, { db, clock: new Clock(), logger: createLogger('silent'), background: false });
  servers.push(server);
  return server;
}

before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  for (const server of servers) await server.close();
  for (const db of opened) await db.close();
  await database.drop();
});

async function call(server: RunningServer, method: string, path: string, body?: unknown) {
  const token = await fetch(`${server.url}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: NO.clientId, client_secret: NO.clientSecret, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey },
  });
  const { access_token } = (await token.json()) as { access_token: string };
  const response = await fetch(server.url + path, {
    method,
    headers: {
      Authorization: `Bearer ${access_token}`,
      'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
      'Merchant-Serial-Number': NO.msn,
      'Idempotency-Key': crypto.randomUUID(),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a clock view or a payment, checked field by field in the tests
  return { status: response.status, body: (await response.json()) as any };
}

test('a clock change made through one server is in force in the other when the call answers', async () => {
  const [a, b] = [await startOne(), await startOne()];
  for (let round = 1; round <= 10; round++) {
    const changed = await call(a, 'POST', '/kassa/v1/clock', round % 2 ? { msn: NO.msn, advanceSeconds: 60 } : { advanceSeconds: 30 });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const unitNow = Date.parse(changed.body.salesUnits[0].now);
    // Read straight from the other server's clock, with no request in between that could give it time.
    assert.ok(
      b.ctx.clock.nowMs(NO.msn) >= unitNow,
      `round ${round}: the other server is behind: ${b.ctx.clock.nowMs(NO.msn) - unitNow} ms, versions ${b.ctx.clock.sharedOffsets.version}/${a.ctx.clock.sharedOffsets.version}`,
    );
    assert.equal(b.ctx.clock.sharedOffsets.version, a.ctx.clock.sharedOffsets.version);
  }
  // Work done through the other server uses the moved time: 10 rounds moved the unit 7.5 minutes.
  assert.equal(b.ctx.clock.nowMs(NO.msn) - Date.now() >= 450_000 - 1000, true);
  const reference = `clock-processes-${Date.now()}`;
  const created = await call(b, 'POST', '/epayment/v1/payments', {
    amount: { currency: 'NOK', value: 1000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return',
    paymentDescription: 'Socks',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const stored = await findPayment(b.ctx.db, NO.msn, reference);
  assert.ok(stored && stored.createdAt.getTime() >= Date.now() + 450_000 - 1000, 'created on the moved clock');
  await call(a, 'POST', '/kassa/v1/clock', { msn: NO.msn, advanceSeconds: 600 });
  const read = await call(b, 'GET', `/epayment/v1/payments/${reference}`);
  assert.equal(read.body.state, 'EXPIRED');

  // A server that starts later starts on the moved time.
  const late = await startOne();
  assert.equal(late.ctx.clock.sharedOffsets.version, a.ctx.clock.sharedOffsets.version);
  assert.ok(Math.abs(late.ctx.clock.nowMs(NO.msn) - a.ctx.clock.nowMs(NO.msn)) < 1000);
});

test('a process that died without saying so holds a change back only while it still counts as alive', async () => {
  const [a] = servers as [RunningServer];
  // Gone for a minute: not waited for at all.
  await a.ctx.db.query(
    "insert into clock_listeners (listener, heard_version, alive_at) values ('died-long-ago', 0, clock_timestamp() - interval '1 minute')",
  );
  const started = performance.now();
  const changed = await call(a, 'POST', '/kassa/v1/clock', { advanceSeconds: 1 });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.ok(performance.now() - started < 1500, 'answered without waiting for the dead process');
  // Every live server has confirmed the newest version.
  const { rows } = await a.ctx.db.query<{ listener: string; heard_version: number }>(
    "select listener, heard_version from clock_listeners where listener <> 'died-long-ago'",
  );
  assert.equal(rows.length, servers.length);
  for (const row of rows) assert.equal(row.heard_version, a.ctx.clock.sharedOffsets.version);
});
