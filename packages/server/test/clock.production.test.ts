/**
 * Time control and fault injection exist only in test mode (ARCHITECTURE "Test mode"): in production
 * mode every control route answers 404 whoever asks, the clock is real time whatever the database
 * holds, and nothing is ever faulted.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem } from './support/problems.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ KASSA_MODE: 'production' });
});
after(() => server.close());

test('in production mode the clock and fault routes are 404 Not Found', async () => {
  const calls: [string, string, unknown][] = [
    ['GET', '/kassa/v1/clock', undefined],
    ['POST', '/kassa/v1/clock', { advanceSeconds: 600 }],
    ['GET', '/kassa/v1/faults', undefined],
    ['POST', '/kassa/v1/faults', { msn: '123456', target: 'api', kind: 'error', status: 503 }],
    ['GET', '/kassa/v1/faults/1', undefined],
    ['DELETE', '/kassa/v1/faults/1', undefined],
    ['DELETE', '/kassa/v1/faults', undefined],
  ];
  for (const [method, path, body] of calls) {
    const reply = await server.call(method, path, { anonymous: true, body });
    assertProblem(reply, 404, method, path);
    assert.match(reply.body.detail, /only in test mode/);
  }
});

test('in production mode the clock is real time, whatever offsets the database holds', async () => {
  await server.ctx.db.query('update clock_offsets set offset_ms = 86400000, version = version + 1 where msn is null');
  await server.ctx.db.query("select pg_notify('kassa_clock', '')");
  assert.ok(Math.abs(server.ctx.clock.nowMs() - Date.now()) < 1000);
  assert.equal(server.ctx.faults, undefined, 'no fault rules are loaded');
});
