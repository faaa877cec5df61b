/**
 * The request log keeps calls for KASSA_REQUEST_LOG_DAYS (default 14) days of real time: older ones
 * are pruned (every hour and at start), whatever the test clock says.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { pruneExpiredRequests } from '../src/http/requestLogRetention.ts';
import { insertRequestLog, type RequestLogEntry } from '../src/store/requestLogStore.ts';
import { DAY } from './support/payments.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function entry(at: Date, path: string): RequestLogEntry {
  return {
    at,
    msn: '123456',
    pspId: null,
    clientId: null,
    method: 'GET',
    route: path,
    path,
    reference: null,
    status: 200,
    latencyMs: 1,
    idempotencyKey: null,
    headers: {},
    body: undefined,
    problem: undefined,
    errorCode: null,
    fault: null,
    traceId: path,
  };
}

test('calls older than the retention are pruned by real time, not by the moved test clock', async () => {
  const now = Date.now();
  await insertRequestLog(server.ctx.db, [
    entry(new Date(now - 15 * DAY), '/retention/old'),
    entry(new Date(now - 13 * DAY), '/retention/recent'),
    entry(new Date(now + 30 * DAY), '/retention/on-a-moved-clock'),
  ]);
  server.clock.advance(60 * DAY);
  assert.equal(await pruneExpiredRequests(server.ctx.db, server.clock.wallNowMs(), 14), 1);
  const { rows } = await server.ctx.db.query<{ path: string }>("select path from request_log where path like '/retention/%' order by at");
  assert.deepEqual(
    rows.map((row) => row.path),
    ['/retention/recent', '/retention/on-a-moved-clock'],
  );
});

test('the retention is KASSA_REQUEST_LOG_DAYS, 14 days unless set', () => {
  assert.equal(loadConfig({}).requestLogRetentionDays, 14);
  assert.equal(loadConfig({ KASSA_REQUEST_LOG_DAYS: '3' }).requestLogRetentionDays, 3);
  assert.throws(() => loadConfig({ KASSA_REQUEST_LOG_DAYS: 'forever' }), /KASSA_REQUEST_LOG_DAYS/);
});
