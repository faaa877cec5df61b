/**
 * API authentication (epayment spec §2, platform-guidelines §1, §3.2): subscription key, Bearer token
 * of the same key set, and the sales unit a call acts for. A key set never reaches another unit's payments.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { issueAccessToken, TOKEN_RESOURCE } from '../src/auth/accessTokens.ts';
import { insertKeySet } from '../src/store/merchantsStore.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { assertErrorCode, assertFieldErrors, assertProblem } from './support/problems.ts';
import { DK, FI, NO, type Reply, startTestServer, type TestServer } from './support/testServer.ts';

const PSP = {
  clientId: 'kassa-test-psp-client',
  clientSecret: 'kassa-test-psp-secret',
  subscriptionKey: 'kassa-test-psp-subscription',
  pspId: 'C948DFD1546347568874C4DDC93A2E3C',
};

let server: TestServer;
let noReference: string;
let dkReference: string;
let pspToken: string;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

before(async () => {
  server = await startTestServer();
  noReference = (await server.createPayment()).reference;
  dkReference = (await server.createPayment({}, { unit: DK })).reference;
  // A PSP key set reaching the NO and DK units (not FI), as a PSP onboards merchants (§17).
  await insertKeySet(server.ctx.db, {
    clientId: PSP.clientId,
    clientSecretHash: sha256(PSP.clientSecret),
    subscriptionKeyHash: sha256(PSP.subscriptionKey),
    kind: 'psp',
    pspId: PSP.pspId,
    msns: [NO.msn, DK.msn],
  });
  const reply = await server.call('POST', '/accesstoken/get', {
    anonymous: true,
    headers: { client_id: PSP.clientId, client_secret: PSP.clientSecret, 'Ocp-Apim-Subscription-Key': PSP.subscriptionKey },
  });
  assert.equal(reply.status, 200);
  pspToken = reply.body.access_token;
});
after(() => server.close());

const paymentPath = (reference: string) => `/epayment/v1/payments/${reference}`;

/** GET of a payment with exactly these headers (none of the harness's defaults). */
function getWith(reference: string, headers: Record<string, string>): Promise<Reply> {
  return server.call('GET', paymentPath(reference), { anonymous: true, headers });
}

async function noHeaders(): Promise<Record<string, string>> {
  return {
    Authorization: `Bearer ${await server.token(NO)}`,
    'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
    'Merchant-Serial-Number': NO.msn,
  };
}

test('a missing or unknown subscription key gets the gateway 401', async () => {
  const { 'Ocp-Apim-Subscription-Key': _, ...withoutKey } = await noHeaders();
  const missing = await getWith(noReference, withoutKey);
  assertProblem(missing, 401, 'GET', paymentPath(noReference));
  assert.equal(missing.body.statusCode, 401);
  assert.match(missing.body.message, /missing subscription key/);

  const unknown = await getWith(noReference, { ...(await noHeaders()), 'Ocp-Apim-Subscription-Key': 'f'.repeat(32) });
  assertProblem(unknown, 401, 'GET', paymentPath(noReference));
  assert.match(unknown.body.message, /invalid subscription key/);
});

test('the access token must be sent as "Bearer <token>": missing, without Bearer, lower-case or garbage → 401', async () => {
  const headers = await noHeaders();
  const token = headers.Authorization?.slice('Bearer '.length) as string;
  const variants: Record<string, string | undefined> = {
    missing: undefined,
    'no Bearer': token,
    'lower-case bearer': `bearer ${token}`,
    'Bearer only': 'Bearer ',
    garbage: 'Bearer not.a.token',
    'truncated signature': `Bearer ${token.slice(0, -4)}`,
    'Basic scheme': `Basic ${Buffer.from('a:b').toString('base64')}`,
  };
  for (const [label, authorization] of Object.entries(variants)) {
    const { Authorization: _, ...rest } = headers;
    const reply = await getWith(noReference, authorization === undefined ? rest : { ...rest, Authorization: authorization });
    assert.equal(reply.status, 401, label);
    assertProblem(reply, 401, 'GET', paymentPath(noReference));
  }
  // The same headers with the intact token pass.
  assert.equal((await getWith(noReference, headers)).status, 200);
});

test('tokens the server did not sign, or that have expired, are refused with 401', async () => {
  const headers = await noHeaders();
  const now = Math.floor(Date.now() / 1000);
  const forged = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(NO.clientId)
    .setIssuer('kassa')
    .setAudience(TOKEN_RESOURCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(randomBytes(32));
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({ sub: NO.clientId, iss: 'kassa', aud: TOKEN_RESOURCE, exp: now + 3600 }),
  ).toString('base64url')}.`;
  // Signed with the server's own key, but issued two hours ago: one hour past its expiry.
  const expired = (await issueAccessToken(server.ctx.tokenKey, NO.clientId, server.clock.nowMs() - 2 * 3600_000, 'test')).access_token;
  for (const token of [forged, unsigned, expired]) {
    const reply = await getWith(noReference, { ...headers, Authorization: `Bearer ${token}` });
    assertProblem(reply, 401, 'GET', paymentPath(noReference));
  }
});

test("a token used with another key set's subscription key is refused with 401", async () => {
  const reply = await getWith(dkReference, {
    Authorization: `Bearer ${await server.token(NO)}`,
    'Ocp-Apim-Subscription-Key': DK.subscriptionKey,
    'Merchant-Serial-Number': DK.msn,
  });
  assertProblem(reply, 401, 'GET', paymentPath(dkReference));
  assert.match(reply.body.detail, /another key set/);
});

test('merchant keys acting for another sales unit get 403 and never reach its payments', async () => {
  // NO keys naming the DK unit, or a unit that does not exist.
  for (const msn of [DK.msn, '999999']) {
    const reply = await server.call('GET', paymentPath(dkReference), { headers: { 'Merchant-Serial-Number': msn } });
    assertProblem(reply, 403, 'GET', paymentPath(dkReference));
    const capture = await server.call('POST', `${paymentPath(dkReference)}/capture`, {
      headers: { 'Merchant-Serial-Number': msn },
      idempotencyKey: 'steal-1',
      body: { modificationAmount: { currency: 'DKK', value: 100 } },
    });
    assertProblem(capture, 403, 'POST', `${paymentPath(dkReference)}/capture`);
  }
  // For its own unit, a DK reference simply does not exist: 404 with 5090, on every operation.
  const get = await server.call('GET', paymentPath(dkReference));
  assertErrorCode(get, 404, 5090, 'GET', paymentPath(dkReference));
  const events = await server.call('GET', `${paymentPath(dkReference)}/events`);
  assertErrorCode(events, 404, 5090, 'GET', `${paymentPath(dkReference)}/events`);
  for (const operation of ['capture', 'refund', 'cancel']) {
    const reply = await server.call('POST', `${paymentPath(dkReference)}/${operation}`, {
      idempotencyKey: `steal-${operation}`,
      body: operation === 'cancel' ? {} : { modificationAmount: { currency: 'NOK', value: 100 } },
    });
    assertErrorCode(reply, 404, 5090, 'POST', `${paymentPath(dkReference)}/${operation}`);
  }
  const approve = await server.approve(dkReference, NO);
  assertProblem(approve, 404, 'POST', `/epayment/v1/test/payments/${dkReference}/approve`);
  // The DK unit's own keys still see it untouched.
  const own = await server.call('GET', paymentPath(dkReference), { unit: DK });
  assert.equal(own.status, 200);
  assertMatchesOpenApi('GET', paymentPath(dkReference), 200, own.body);
  assert.equal(own.body.state, 'CREATED');
});

test('merchant keys without Merchant-Serial-Number act for their own sales unit', async () => {
  const got = await server.call('GET', paymentPath(noReference), { headers: { 'Merchant-Serial-Number': '<none>' } });
  assert.equal(got.status, 200);
  assertMatchesOpenApi('GET', paymentPath(noReference), 200, got.body);
  assert.equal(got.body.reference, noReference);
  const created = await server.createPayment({}, { headers: { 'Merchant-Serial-Number': '<none>' } });
  assert.equal(created.status, 201);
  assert.equal((await server.call('GET', paymentPath(created.reference))).status, 200, 'created in the NO unit');
  // An empty header counts as absent (the official SDK sends "" for unset headers).
  assert.equal((await server.call('GET', paymentPath(noReference), { headers: { 'Merchant-Serial-Number': '' } })).status, 200);
});

test('a malformed Merchant-Serial-Number is a 400 field error', async () => {
  for (const msn of ['abc', '123', '12345678', '12 456', '-123456']) {
    const reply = await server.call('GET', paymentPath(noReference), { headers: { 'Merchant-Serial-Number': msn } });
    assertFieldErrors(reply, 'GET', paymentPath(noReference), ['Merchant-Serial-Number']);
  }
});

test('Psp-Id sent with merchant keys is refused with 403', async () => {
  const reply = await server.call('GET', paymentPath(noReference), { headers: { 'Psp-Id': PSP.pspId } });
  assertProblem(reply, 403, 'GET', paymentPath(noReference));
  assert.match(reply.body.detail, /Psp-Id/);
});

test('PSP keys need their own Psp-Id and a Merchant-Serial-Number the PSP onboarded', async () => {
  const psp = (msn: string | undefined, pspId: string | undefined) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${pspToken}`, 'Ocp-Apim-Subscription-Key': PSP.subscriptionKey };
    if (msn) headers['Merchant-Serial-Number'] = msn;
    if (pspId) headers['Psp-Id'] = pspId;
    return headers;
  };
  assertProblem(await getWith(noReference, psp(NO.msn, undefined)), 403, 'GET', paymentPath(noReference));
  assertProblem(await getWith(noReference, psp(NO.msn, 'D948DFD1546347568874C4DDC93A2E3C')), 403, 'GET', paymentPath(noReference));
  assertProblem(await getWith(noReference, psp(undefined, PSP.pspId)), 403, 'GET', paymentPath(noReference));
  assertProblem(await getWith(noReference, psp(FI.msn, PSP.pspId)), 403, 'GET', paymentPath(noReference));
  // Within its reach the PSP sees each unit's own payments, and only those.
  const no = await getWith(noReference, psp(NO.msn, PSP.pspId));
  assert.equal(no.status, 200);
  assert.equal(no.body.reference, noReference);
  assert.equal((await getWith(dkReference, psp(DK.msn, PSP.pspId))).status, 200);
  assertErrorCode(await getWith(dkReference, psp(NO.msn, PSP.pspId)), 404, 5090, 'GET', paymentPath(dkReference));
});
