/**
 * POST /accesstoken/get (platform-guidelines §2.1, epayment spec Appendix A): the token's fields and
 * lifetime, the gateway and token-service errors of the "Server behaviour [rec]" table, the official
 * SDK's odd headers, expiry on the server clock, and credentials stored only as digests.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { newCredentials } from '../src/auth/credentials.ts';
import { insertKeySet, upsertSalesUnit } from '../src/store/merchantsStore.ts';
import { assertProblem } from './support/problems.ts';
import { DK, FI, NO, type Reply, startTestServer, type TestServer } from './support/testServer.ts';

const TOKEN_PATH = '/accesstoken/get';
const FIELDS = ['access_token', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'resource', 'token_type'];

let server: TestServer;
let production: TestServer;
before(async () => {
  // Token lifetime depends on the mode, so this file needs a production-mode server beside the test one.
  [server, production] = await Promise.all([startTestServer(), startTestServer({ KASSA_MODE: 'production' })]);
});
after(async () => {
  await Promise.all([server?.close(), production?.close()]);
});

type Credentials = { clientId: string; clientSecret: string; subscriptionKey: string };

function requestToken(on: TestServer, credentials: Partial<Credentials>, extra: Record<string, string> = {}, raw?: string): Promise<Reply> {
  const headers: Record<string, string> = { ...extra };
  if (credentials.clientId !== undefined) headers.client_id = credentials.clientId;
  if (credentials.clientSecret !== undefined) headers.client_secret = credentials.clientSecret;
  if (credentials.subscriptionKey !== undefined) headers['Ocp-Apim-Subscription-Key'] = credentials.subscriptionKey;
  return on.call('POST', TOKEN_PATH, { anonymous: true, headers, ...(raw === undefined ? {} : { raw }) });
}

/** An authenticated GET of an unknown reference: 404 (5090) proves the token was accepted, 401 that it was not. */
function probe(on: TestServer, token: string, unit: Credentials & { msn: string } = NO): Promise<Reply> {
  return on.call('GET', '/epayment/v1/payments/no-such-payment-1', {
    anonymous: true,
    headers: { Authorization: `Bearer ${token}`, 'Ocp-Apim-Subscription-Key': unit.subscriptionKey, 'Merchant-Serial-Number': unit.msn },
  });
}

function assertToken(reply: Reply, lifetime: number, nowSeconds: number): void {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(reply.body).sort(), FIELDS);
  for (const field of FIELDS) assert.equal(typeof reply.body[field], 'string', `${field} is served as a string (open question 1)`);
  assert.equal(reply.body.token_type, 'Bearer');
  assert.equal(reply.body.expires_in, String(lifetime));
  assert.equal(reply.body.ext_expires_in, '0');
  assert.equal(Number(reply.body.expires_on) - Number(reply.body.not_before), lifetime);
  assert.ok(Math.abs(Number(reply.body.not_before) - nowSeconds) <= 5, 'not_before is the issue time on the server clock');
  assert.equal(reply.body.resource, '00000002-0000-0000-c000-000000000000');
  assert.match(reply.body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
}

test('a token has all seven fields as strings and lives 3600 s in test mode', async () => {
  const reply = await requestToken(server, NO);
  assertToken(reply, 3600, Math.floor(server.clock.nowMs() / 1000));
  assert.equal((await probe(server, reply.body.access_token)).status, 404);
});

test('a token lives 86400 s in production mode', async () => {
  // Production mode seeds nothing: a sales unit gets its keys as `kassa merchants create` gives them.
  const credentials = newCredentials();
  const unit = { ...credentials, msn: '4242424' };
  await upsertSalesUnit(production.ctx.db, { msn: unit.msn, name: 'Produksjon AS', market: 'NO', currency: 'NOK' });
  await insertKeySet(production.ctx.db, {
    clientId: unit.clientId,
    clientSecretHash: createHash('sha256').update(unit.clientSecret).digest('hex'),
    subscriptionKeyHash: createHash('sha256').update(unit.subscriptionKey).digest('hex'),
    kind: 'merchant',
    pspId: null,
    msns: [unit.msn],
  });
  const reply = await requestToken(production, unit);
  assertToken(reply, 86400, Math.floor(production.clock.nowMs() / 1000));
  const probed = await probe(production, reply.body.access_token, unit);
  assert.equal(probed.status, 404);
  assert.deepEqual(probed.body.extraDetails, [{ name: 'ErrorCode', reason: '5090' }]);
  // The demo keys of test mode do not exist in production.
  assertProblem(await requestToken(production, NO), 401, 'POST', TOKEN_PATH);
});

test("the official SDK's headers on the token call are ignored: empty Bearer, JSON content type, Idempotency-Key, empty strings", async () => {
  const sdkHeaders = {
    'Content-Type': 'application/json',
    Authorization: 'Bearer ',
    'User-Agent': 'Vipps/Deno-SDK/npm-module/2.4.1',
    'Merchant-Serial-Number': '',
    'Vipps-System-Name': '',
    'Vipps-System-Version': '',
    'Vipps-System-Plugin-Name': '',
    'Vipps-System-Plugin-Version': '',
    'Idempotency-Key': randomUUID(),
  };
  assertToken(await requestToken(server, NO, sdkHeaders), 3600, Math.floor(server.clock.nowMs() / 1000));
  // Any body is ignored too, even one that is not JSON at all.
  assert.equal((await requestToken(server, NO, { 'Content-Type': 'application/json' }, '{not json')).status, 200);
  assert.equal((await requestToken(server, NO, { 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=x')).status, 200);
  // Empty credential headers count as absent.
  const emptyKey = await requestToken(server, { ...NO, subscriptionKey: '' });
  assertProblem(emptyKey, 401, 'POST', TOKEN_PATH);
  assert.match(emptyKey.body.message, /missing subscription key/);
});

test('a Merchant-Serial-Number outside the key set still gets a token; API calls with it are refused with 403', async () => {
  const reply = await requestToken(server, NO, { 'Merchant-Serial-Number': DK.msn });
  assert.equal(reply.status, 200);
  const refused = await server.call('GET', '/epayment/v1/payments/no-such-payment-1', {
    anonymous: true,
    headers: {
      Authorization: `Bearer ${reply.body.access_token}`,
      'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
      'Merchant-Serial-Number': DK.msn,
    },
  });
  assertProblem(refused, 403, 'GET', '/epayment/v1/payments/no-such-payment-1');
});

test('a missing or unknown subscription key gets the API gateway 401 body', async () => {
  const missing = await requestToken(server, { clientId: NO.clientId, clientSecret: NO.clientSecret });
  assertProblem(missing, 401, 'POST', TOKEN_PATH);
  assert.equal(missing.body.statusCode, 401);
  assert.match(missing.body.message, /^Access denied due to missing subscription key\./);

  // The gateway answers before the token service: even unknown credentials get the gateway's 401.
  for (const credentials of [
    { ...NO, subscriptionKey: 'not-a-key' },
    { clientId: 'nobody', clientSecret: 'x', subscriptionKey: 'not-a-key' },
  ]) {
    const invalid = await requestToken(server, credentials);
    assertProblem(invalid, 401, 'POST', TOKEN_PATH);
    assert.equal(invalid.body.statusCode, 401);
    assert.match(invalid.body.message, /^Access denied due to invalid subscription key\./);
  }
});

test('an unknown or missing client_id gets 400 unauthorized_client from the token service', async () => {
  for (const clientId of ['fb492b5e-7907-4d83-bc20-c7fb60ca35de', 'not-a-guid', undefined]) {
    const reply = await requestToken(server, { clientId, clientSecret: NO.clientSecret, subscriptionKey: NO.subscriptionKey });
    assertProblem(reply, 400, 'POST', TOKEN_PATH);
    assert.equal(reply.body.error, 'unauthorized_client');
    assert.deepEqual(reply.body.error_codes, [700016]);
    assert.match(reply.body.error_description, /^AADSTS700016: Application with identifier '.*' was not found/);
    if (clientId) assert.ok(reply.body.error_description.includes(clientId));
    assert.match(reply.body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.equal(reply.body.trace_id, reply.body.traceId);
    assert.equal(reply.body.correlation_id, reply.body.traceId);
    assert.equal(reply.body.error_uri, 'https://login.windows.net/error?code=700016');
  }
});

test('a wrong or missing client_secret gets 401 invalid_client', async () => {
  for (const clientSecret of [DK.clientSecret, 'kassa-demo-secret-but-longer', undefined]) {
    const reply = await requestToken(server, { clientId: NO.clientId, clientSecret, subscriptionKey: NO.subscriptionKey });
    assertProblem(reply, 401, 'POST', TOKEN_PATH);
    assert.equal(reply.body.error, 'invalid_client');
    assert.deepEqual(reply.body.error_codes, [7000215]);
    assert.match(reply.body.error_description, /^AADSTS7000215: Invalid client secret provided\./);
  }
});

test("another key set's subscription key is refused: a token only works with its own key set", async () => {
  const reply = await requestToken(server, { ...NO, subscriptionKey: DK.subscriptionKey });
  assertProblem(reply, 401, 'POST', TOKEN_PATH);
  assert.match(reply.body.message, /invalid subscription key/);
});

test('the token endpoint answers only POST', async () => {
  const reply = await server.call('GET', TOKEN_PATH, { anonymous: true });
  assertProblem(reply, 405, 'GET', TOKEN_PATH);
  assert.equal(reply.headers.get('allow'), 'POST');
});

test('client secrets and subscription keys are stored only as SHA-256 digests; no table holds them in plain text', async () => {
  const db = server.ctx.db;
  const { rows: keySets } = await db.query<{ client_id: string; client_secret_hash: string; subscription_key_hash: string }>(
    'select client_id, client_secret_hash, subscription_key_hash from key_sets',
  );
  for (const unit of [NO, DK, FI]) {
    const row = keySets.find((k) => k.client_id === unit.clientId);
    assert.ok(row, `key set ${unit.clientId} is seeded`);
    assert.equal(row.client_secret_hash, createHash('sha256').update(unit.clientSecret).digest('hex'));
    assert.equal(row.subscription_key_hash, createHash('sha256').update(unit.subscriptionKey).digest('hex'));
  }
  // Every row of every table, including after tokens were issued and payments created.
  await server.createPayment();
  const { rows: tables } = await db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
  );
  assert.ok(tables.length > 3);
  const token = (await requestToken(server, NO)).body.access_token as string;
  for (const { table_name } of tables) {
    const { rows } = await db.query(`select * from "${table_name}"`);
    const text = JSON.stringify(rows);
    for (const unit of [NO, DK, FI]) {
      assert.ok(!text.includes(unit.clientSecret), `${table_name} holds a client secret`);
      assert.ok(!text.includes(unit.subscriptionKey), `${table_name} holds a subscription key`);
    }
    assert.ok(!text.includes(token), `${table_name} holds an access token`);
  }
});

// Moves the server clock, so it runs last.
test('a token expires when the server clock passes expires_on', async () => {
  const reply = await requestToken(server, NO);
  const token = reply.body.access_token as string;
  const expiresOnMs = Number(reply.body.expires_on) * 1000;
  server.clock.advance(expiresOnMs - server.clock.nowMs() - 1000);
  assert.equal((await probe(server, token)).status, 404, 'valid one second before expires_on');
  server.clock.advance(1000);
  const expired = await probe(server, token);
  assertProblem(expired, 401, 'GET', '/epayment/v1/payments/no-such-payment-1');
  assert.match(expired.body.detail, /expired/);
  // A fresh token works at once.
  const fresh = await requestToken(server, NO);
  assertToken(fresh, 3600, Math.floor(server.clock.nowMs() / 1000));
  assert.equal((await probe(server, fresh.body.access_token)).status, 404);
});
