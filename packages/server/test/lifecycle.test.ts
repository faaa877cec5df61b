import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

test('a payment goes through create, approve, capture, refund and cancel with the aggregate of spec §11.4', async () => {
  const created = await server.createPayment({ amount: { currency: 'NOK', value: 49900 } });
  assert.equal(created.status, 201);
  assertMatchesOpenApi('POST', '/epayment/v1/payments', 201, created.body);
  assert.match(created.body.redirectUrl, /\/landing\?token=[\w-]+$/);
  const path = `/epayment/v1/payments/${created.reference}`;

  const approved = await server.approve(created.reference);
  assert.equal(approved.status, 200);
  assert.equal(approved.text, '');

  const capture = await server.call('POST', `${path}/capture`, {
    idempotencyKey: 'cap-1',
    body: { modificationAmount: { currency: 'NOK', value: 10000 } },
  });
  assert.equal(capture.status, 200);
  assert.equal(capture.headers.get('content-type'), 'application/json; charset=utf-8');
  assertMatchesOpenApi('POST', `${path}/capture`, 200, capture.body);
  const refund = await server.call('POST', `${path}/refund`, {
    idempotencyKey: 'ref-1',
    body: { modificationAmount: { currency: 'NOK', value: 10000 } },
  });
  assert.equal(refund.status, 200);
  const cancel = await server.call('POST', `${path}/cancel`, { idempotencyKey: 'can-1', body: {} });
  assert.equal(cancel.status, 200);
  const nok = (value: number) => ({ currency: 'NOK', value });
  assert.deepEqual(cancel.body.aggregate, {
    authorizedAmount: nok(49900),
    cancelledAmount: nok(39900),
    capturedAmount: nok(10000),
    refundedAmount: nok(10000),
  });

  const got = await server.call('GET', path);
  assert.equal(got.status, 200);
  assertMatchesOpenApi('GET', path, 200, got.body);
  assert.equal(got.body.state, 'AUTHORIZED');
  assert.equal(got.body.redirectUrl, undefined);
  assert.match(got.body.captureGuaranteedUntil, /^\d{4}-\d\d-\d\dT/);
  assert.equal(got.body.paymentMethod.cardBin.length, 6);

  const events = await server.call('GET', `${path}/events`);
  assertMatchesOpenApi('GET', `${path}/events`, 200, events.body);
  assert.deepEqual(
    events.body.map((e: { name: string; amount: { value: number } }) => [e.name, e.amount.value]),
    [
      ['CREATED', 49900],
      ['AUTHORIZED', 49900],
      ['CAPTURED', 10000],
      ['REFUNDED', 10000],
      ['CANCELLED', 39900],
    ],
  );
  assert.equal(events.body[0].pspReference, got.body.pspReference);
  assert.equal(new Set(events.body.map((e: { pspReference: string }) => e.pspReference)).size, 5);
  assert.deepEqual(events.body.map((e: { idempotencyKey: string | null }) => e.idempotencyKey).slice(2), ['cap-1', 'ref-1', 'can-1']);
});
