/**
 * The dashboard and the checklist report in production mode with KASSA_ADMIN_TOKEN (docs/dashboard.md):
 * loopback is not enough; a browser logs in once (an HttpOnly, SameSite=Strict cookie holding a digest
 * of the token), a script sends the Kassa-Admin-Token header; integrations may read their own report
 * with their own keys. Time control and fault injection do not exist.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DemoSalesUnit } from '../src/seed.ts';
import { newSalesUnit } from './support/scriptedIntegration.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

const TOKEN = 'a-long-admin-token-for-the-tests';
let server: TestServer;
let unit: DemoSalesUnit;
let other: DemoSalesUnit;

before(async () => {
  server = await startTestServer({ KASSA_MODE: 'production', KASSA_ADMIN_TOKEN: TOKEN });
  [unit, other] = [await newSalesUnit(server), await newSalesUnit(server)];
});
after(() => server?.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { redirect: 'manual', headers });

test('without the token a browser is sent to the login page; a wrong token is refused', async () => {
  const reply = await get('/dashboard?state=CREATED');
  assert.equal(reply.status, 303);
  assert.equal(reply.headers.get('location'), '/dashboard/login?next=%2Fdashboard%3Fstate%3DCREATED');
  const login = await get('/dashboard/login');
  assert.equal(login.status, 200);
  assert.match(await login.text(), /<input id="token" name="token" type="password"/);
  const wrong = await fetch(`${server.url}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    body: 'token=guess&next=%2Fdashboard',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const post = await fetch(`${server.url}/dashboard/control/clock`, {
    method: 'POST',
    body: 'advance=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(post.status, 401);
});

test('logging in sets a cookie that opens the dashboard; the header opens it too', async () => {
  const login = await fetch(`${server.url}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ token: TOKEN, next: '/dashboard/requests' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), '/dashboard/requests');
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^kassa_admin=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.ok(!cookie.includes(TOKEN), 'the cookie is not the token');
  const page = await get('/dashboard', { cookie: cookie.split(';')[0] as string });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /production mode/);
  assert.equal((await get('/dashboard/webhooks', { 'kassa-admin-token': TOKEN })).status, 200);
  const control = await get('/dashboard/control', { 'kassa-admin-token': TOKEN });
  assert.match(await control.text(), /exist only in test mode/);
  const clock = await fetch(`${server.url}/dashboard/control/clock`, {
    method: 'POST',
    body: 'advance=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'kassa-admin-token': TOKEN },
  });
  assert.equal(clock.status, 404);
  const bounced = await fetch(`${server.url}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ token: TOKEN, next: 'https://evil.example/' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(bounced.headers.get('location'), '/dashboard', 'never redirects off the dashboard');
});

test('the report: the admin token for any unit, the keys of a unit for that unit only, else 401', async () => {
  assert.equal((await get(`/kassa/v1/report?msn=${unit.msn}`)).status, 401);
  assert.equal((await get(`/kassa/v1/report?msn=${unit.msn}`, { 'kassa-admin-token': TOKEN })).status, 200);
  assert.equal((await get(`/kassa/v1/report?msn=${unit.msn}`, { 'kassa-admin-token': 'guess' })).status, 401);
  const own = await server.call('GET', `/kassa/v1/report?msn=${unit.msn}`, { unit });
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.scope, { msn: unit.msn });
  const implied = await server.call('GET', '/kassa/v1/report', { unit });
  assert.deepEqual(implied.body.scope, { msn: unit.msn }, 'merchant keys mean their own unit');
  const foreign = await server.call('GET', `/kassa/v1/report?msn=${other.msn}`, { unit });
  assert.equal(foreign.status, 403);
});
