/**
 * Production mode without KASSA_ADMIN_TOKEN (docs/dashboard.md): there is nothing to log in with, so the
 * dashboard does not exist — 404 for every page, loopback callers included.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ KASSA_MODE: 'production' });
});
after(() => server?.close());

test('production without an admin token: every dashboard page is 404, the report needs keys', async () => {
  for (const path of ['/dashboard', '/dashboard/login', '/dashboard/requests', '/dashboard/control', '/dashboard/checklist?msn=123456']) {
    const reply = await fetch(server.url + path, { redirect: 'manual', headers: { 'kassa-admin-token': 'anything' } });
    assert.equal(reply.status, 404, path);
    assert.equal((await reply.json()).title, 'Not Found');
  }
  const post = await fetch(`${server.url}/dashboard/webhooks/deliveries/1/replay`, {
    method: 'POST',
    body: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(post.status, 404);
  const report = await fetch(`${server.url}/kassa/v1/report?msn=123456`);
  assert.equal(report.status, 401);
});
