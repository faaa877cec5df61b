/**
 * PSP tenancy (platform-guidelines §1, §18; epayment-api §17.2): the seeded demo PSP, and the PSP
 * Merchant API — a PSP onboards sales units and acts only for those, never for another's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { demoPsp } from '../src/psp/demoPsp.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { addPsp, DEMO_PSP, FakePsp, forceApprove, type PspUnit, passthroughBody, pspCall, reserve } from './support/pspSupport.ts';
import { NO, startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const MERCHANTS = '/merchant-management/psp/v1/merchants';
let server: TestServer;
let psp: FakePsp;

before(async () => {
  [server, psp] = await Promise.all([startTestServer(), FakePsp.start()]);
  psp.answer(reserve);
});
after(async () => {
  await psp?.close();
  await server?.close();
});

function createFor(unit: PspUnit, msn: string, fields: Record<string, unknown> = {}) {
  const body = passthroughBody(unit, psp.url, fields);
  return pspCall(server, unit, 'POST', '/epayment/v1/payments', {
    body,
    idempotencyKey: randomUUID(),
    headers: { 'Merchant-Serial-Number': msn },
  });
}

test('test mode seeds the demo PSP with one onboarded Norwegian sales unit', async () => {
  const token = await fetch(`${server.url}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: demoPsp.clientId, client_secret: demoPsp.clientSecret, 'Ocp-Apim-Subscription-Key': demoPsp.subscriptionKey },
  });
  assert.equal(token.status, 200);
  assert.equal(DEMO_PSP.msn, '223344');
  const created = await createFor(DEMO_PSP, '223344');
  assert.equal(created.status, 201, created.text);
  assertMatchesOpenApi('POST', '/epayment/v1/payments', 201, created.body);
  // The Norwegian unit takes NOK (and, for card passthrough, the PSP's other currencies).
  const reference = created.body.reference;
  assert.equal((await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`)).body.amount.currency, 'NOK');
  // Not for the merchant's own demo unit it never onboarded.
  const foreign = await createFor(DEMO_PSP, NO.msn);
  assert.equal(foreign.status, 403, foreign.text);
  // Its keys need their Psp-Id; merchant keys may not send one.
  assert.equal(
    (await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`, { headers: { 'Psp-Id': '<none>' } })).status,
    403,
  );
  assert.equal((await server.call('GET', `/epayment/v1/payments/${reference}`, { headers: { 'Psp-Id': demoPsp.pspId } })).status, 403);
});

test('POST merchants onboards a sales unit the PSP can use at once; another PSP cannot', async () => {
  const reply = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, {
    body: { name: 'Fjellbua Kafé', country: 'NO' },
    headers: { 'Merchant-Serial-Number': '<none>' },
  });
  assert.equal(reply.status, 201, reply.text);
  const { merchantSerialNumber } = reply.body;
  assert.match(merchantSerialNumber, /^\d{6}$/);
  assert.deepEqual(reply.body, { merchantSerialNumber, name: 'Fjellbua Kafé', country: 'NO', currency: 'NOK' });

  const created = await createFor(DEMO_PSP, merchantSerialNumber);
  assert.equal(created.status, 201, created.text);
  const onNew = { ...DEMO_PSP, msn: merchantSerialNumber };
  assert.equal((await forceApprove(server, onNew, created.body.reference)).status, 200);
  assert.equal(psp.callbacks.at(-1)?.body.merchantSerialNumber, merchantSerialNumber);

  const other = await addPsp(server, [], DEMO_PSP);
  assert.equal((await createFor(other, merchantSerialNumber)).status, 403);
  const patch = await pspCall(server, other, 'PATCH', `${MERCHANTS}/${merchantSerialNumber}`, { body: { name: 'Taken over' } });
  assert.equal(patch.status, 404, patch.text);
  assert.equal(patch.headers.get('content-type'), 'application/problem+json; charset=utf-8');

  const danish = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { name: 'Hygge Butik', country: 'DK' } });
  assert.equal(danish.status, 201);
  assert.deepEqual([danish.body.country, danish.body.currency], ['DK', 'DKK']);
});

test("PATCH merchants renames one of the PSP's own merchants; users see the new name", async () => {
  const { body } = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { name: 'Old name' } });
  const msn = body.merchantSerialNumber;
  const renamed = await pspCall(server, DEMO_PSP, 'PATCH', `${MERCHANTS}/${msn}`, { body: { name: 'Ny Bakeri' } });
  assert.equal(renamed.status, 200, renamed.text);
  assert.deepEqual(renamed.body, { merchantSerialNumber: msn, name: 'Ny Bakeri', country: 'NO', currency: 'NOK' });
  const created = await createFor(DEMO_PSP, msn);
  const landing = await fetch(created.body.redirectUrl);
  assert.match(await landing.text(), /Ny Bakeri/);
});

test('the Merchant API refuses what it should, with Problems', async () => {
  const missing = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { country: 'NO' } });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.extraDetails, [{ name: 'name', reason: 'The Name field is required.' }]);
  const country = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { name: 'X', country: 'SE' } });
  assert.equal(country.status, 400);
  assert.equal(country.body.extraDetails[0].name, 'country');
  assert.equal((await pspCall(server, DEMO_PSP, 'PATCH', `${MERCHANTS}/abc`, { body: {} })).status, 400);
  assert.equal((await pspCall(server, DEMO_PSP, 'PATCH', `${MERCHANTS}/999999`, { body: { name: 'Y' } })).status, 404);
  // Merchant keys cannot onboard; PSP keys need their Psp-Id; no keys at all is 401.
  assert.equal((await server.call('POST', MERCHANTS, { unit: NO, body: { name: 'X' } })).status, 403);
  assert.equal((await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { name: 'X' }, headers: { 'Psp-Id': '<none>' } })).status, 403);
  assert.equal((await server.call('POST', MERCHANTS, { anonymous: true, body: { name: 'X' } })).status, 401);
  const text = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { raw: 'name=X', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
});

test('a PSP-wide webhook registration also reaches merchants onboarded after it (open question 26)', async () => {
  const receiver = await WebhookReceiver.start();
  try {
    const registered = await pspCall(server, DEMO_PSP, 'POST', '/webhooks/v1/webhooks', {
      body: { url: receiver.url, events: ['epayments.payment.created.v1'] },
      headers: { 'Merchant-Serial-Number': '<none>' },
    });
    assert.equal(registered.status, 201, registered.text);
    const { body } = await pspCall(server, DEMO_PSP, 'POST', MERCHANTS, { body: { name: 'Later Merchant' } });
    const created = await createFor(DEMO_PSP, body.merchantSerialNumber);
    assert.equal(created.status, 201);
    await server.deliverWebhooks();
    await receiver.waitFor('the CREATED webhook', (r) => r.namesFor(created.body.reference).length === 1);
    assert.equal(receiver.accepted.at(-1)?.body.msn, body.merchantSerialNumber);
  } finally {
    await receiver.close();
  }
});
