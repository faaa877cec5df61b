/**
 * The SDK's ePayment operations against a real Kassa: the whole life of a payment, idempotent replays with
 * the caller's key, the platform's errors as typed errors, and PSP card passthrough with Psp-Id. Every
 * answer is also checked against the published OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError, type Client, type CreatePaymentRequest } from '../src/index.ts';
import {
  addPsp,
  assertMatchesOpenApi,
  clientFor,
  DK,
  NO,
  newReference,
  startTestServer,
  type TestServer,
  tokenOf,
} from './support/kassa.ts';
import { captureLogs } from './support/logCapture.ts';

let server: TestServer;
let client: Client;
const PAYMENTS = '/epayment/v1/payments';

before(async () => {
  server = await startTestServer();
  client = clientFor(server);
});
after(() => server.close());

function webPayment(reference: string, value = 10000): CreatePaymentRequest {
  return {
    amount: { currency: 'NOK', value },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    paymentDescription: 'One pair of socks',
  };
}

test('a payment from create to cancel of the remainder, every answer in the published shape', async () => {
  const reference = newReference('sdk');
  const created = await client.epayment.createPayment(webPayment(reference), { idempotencyKey: `create-${reference}`.slice(0, 50) });
  assertMatchesOpenApi('POST', PAYMENTS, 201, created);
  assert.equal(created.reference, reference);
  assert.match(created.redirectUrl ?? '', /token=/);

  const fresh = await client.epayment.getPayment(reference);
  assertMatchesOpenApi('GET', `${PAYMENTS}/${reference}`, 200, fresh);
  assert.equal(fresh.state, 'CREATED');

  await client.epayment.forceApprovePayment(reference, { token: tokenOf(created.redirectUrl) });
  const authorized = await client.epayment.getPayment(reference);
  assert.equal(authorized.state, 'AUTHORIZED');
  assert.equal(authorized.aggregate.authorizedAmount.value, 10000);

  const captured = await client.epayment.capturePayment(
    reference,
    { modificationAmount: { currency: 'NOK', value: 4000 } },
    { idempotencyKey: 'ship-1' },
  );
  assertMatchesOpenApi('POST', `${PAYMENTS}/${reference}/capture`, 200, captured);
  assert.equal(captured.aggregate.capturedAmount.value, 4000);

  const refunded = await client.epayment.refundPayment(reference, { modificationAmount: { currency: 'NOK', value: 1000 } });
  assertMatchesOpenApi('POST', `${PAYMENTS}/${reference}/refund`, 200, refunded);
  assert.equal(refunded.aggregate.refundedAmount.value, 1000);

  const cancelled = await client.epayment.cancelPayment(reference);
  assertMatchesOpenApi('POST', `${PAYMENTS}/${reference}/cancel`, 200, cancelled);
  assert.equal(cancelled.aggregate.cancelledAmount.value, 6000, 'cancel releases the uncaptured remainder (§9.3)');
  assert.equal(cancelled.state, 'AUTHORIZED');

  const events = await client.epayment.getPaymentEvents(reference);
  assertMatchesOpenApi('GET', `${PAYMENTS}/${reference}/events`, 200, events);
  assert.deepEqual(
    events.map((e) => [e.name, e.amount.value, e.success]),
    [
      ['CREATED', 10000, true],
      ['AUTHORIZED', 10000, true],
      ['CAPTURED', 4000, true],
      ['REFUNDED', 1000, true],
      ['CANCELLED', 6000, true],
    ],
  );
  assert.equal(events[2]?.idempotencyKey, 'ship-1');
});

test("the caller's Idempotency-Key makes a repeated capture one capture", async () => {
  const reference = newReference('sdk');
  await client.epayment.createPayment(webPayment(reference));
  await client.epayment.forceApprovePayment(reference, { customer: { phoneNumber: '4791234567' } });
  const body = { modificationAmount: { currency: 'NOK' as const, value: 2500 } };
  const first = await client.epayment.capturePayment(reference, body, { idempotencyKey: `cap-${reference}`.slice(0, 50) });
  const again = await client.epayment.capturePayment(reference, body, { idempotencyKey: `cap-${reference}`.slice(0, 50) });
  assert.deepEqual(again, first);
  const captures = (await client.epayment.getPaymentEvents(reference)).filter((e) => e.name === 'CAPTURED');
  assert.equal(captures.length, 1);
  // The same key with another body is the platform's 409 4010, typed.
  await assert.rejects(
    client.epayment.capturePayment(
      reference,
      { modificationAmount: { currency: 'NOK', value: 100 } },
      { idempotencyKey: `cap-${reference}`.slice(0, 50) },
    ),
    (error: ApiError) => error.status === 409 && error.errorCode === 4010,
  );
});

test("Kassa's errors arrive as typed errors with the Problem, the code and the traceId, and are logged", async () => {
  const logs = captureLogs();
  const logged = clientFor(server, NO, { logger: logs.logger });
  const reference = newReference('sdk');
  await logged.epayment.createPayment(webPayment(reference, 5000));
  await logged.epayment.forceApprovePayment(reference, { customer: { phoneNumber: '4791234567' } });

  await assert.rejects(
    logged.epayment.capturePayment(reference, { modificationAmount: { currency: 'NOK', value: 6000 } }),
    (error: ApiError) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 400);
      assert.equal(error.errorCode, 6090);
      assert.equal(error.title, 'Capture amount too high');
      assert.match(error.traceId ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assertMatchesOpenApi('POST', `${PAYMENTS}/${reference}/capture`, 400, error.problem);
      return true;
    },
  );
  const [failure] = logs.of('http.failed');
  assert.equal(failure?.errorCode, 6090);
  assert.equal(failure?.status, 400);
  assert.equal(failure?.endpoint, '/epayment/v1/payments/{reference}/capture');
  assert.deepEqual(failure?.requestBody, { modificationAmount: { currency: 'NOK', value: 6000 } });
  assert.ok(failure?.traceId);
  assert.ok(!JSON.stringify(logs.entries).includes(NO.clientSecret));

  await assert.rejects(
    logged.epayment.getPayment('no-such-payment-123'),
    (error: ApiError) => error.status === 404 && error.errorCode === 5090,
  );
  await assert.rejects(
    logged.epayment.createPayment(webPayment(reference)),
    (error: ApiError) => error.status === 409 && error.errorCode === 4150,
  );
  await assert.rejects(logged.epayment.createPayment(webPayment('short')), (error: ApiError) => {
    assert.equal(error.errorCode, undefined, 'schema errors carry no code (§13.2)');
    assert.deepEqual(
      error.fieldErrors.map((f) => f.name),
      ['reference'],
    );
    return true;
  });
});

test('a wrong secret is an AccessTokenError from the token service; wrong subscription keys the gateway 401', async () => {
  const wrongSecret = clientFor(server, NO, { clientSecret: 'not-the-secret' });
  await assert.rejects(wrongSecret.epayment.getPayment('whatever-123'), (error: ApiError & { error?: string }) => {
    assert.equal(error.name, 'AccessTokenError');
    assert.equal(error.status, 401);
    assert.equal(error.error, 'invalid_client');
    return true;
  });
  const wrongKey = clientFor(server, NO, { subscriptionKey: 'no-such-key' });
  await assert.rejects(
    wrongKey.accessToken.get(),
    (error: ApiError) => error.status === 401 && /subscription key/.test(error.detail ?? ''),
  );
});

test('PSP keys: card passthrough with Psp-Id on every call, for the merchant the PSP acts for', async () => {
  const psp = await addPsp(server, [DK.msn]);
  const pspClient = clientFor(server, DK, { ...psp, merchantSerialNumber: DK.msn });
  const reference = newReference('psp');
  const created = await pspClient.epayment.createPayment({
    amount: { currency: 'SEK', value: 12900 },
    paymentMethod: { type: 'CARD_PASSTHROUGH' },
    cardPassthrough: {
      pspReference: `psp-${reference}`.slice(0, 100),
      cardCallbackUrl: 'https://psp.example/vipps/card-callback',
      allowedCardTypes: ['VISA_DEBIT', 'MC_CREDIT', 'DANKORT'],
    },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
  });
  assert.equal(created.reference, reference);
  const payment = await pspClient.epayment.getPayment(reference);
  assert.equal(payment.paymentMethod.type, 'CARD_PASSTHROUGH');
  assert.equal(payment.amount.currency, 'SEK');

  // Merchant keys cannot pose as a PSP: Kassa refuses a Psp-Id with them (403).
  const merchantAsPsp = clientFor(server, NO, { pspId: psp.pspId });
  await assert.rejects(merchantAsPsp.epayment.getPayment(reference), (error: ApiError) => error.status === 403);
});

test('a per-call Merchant-Serial-Number acts for another sales unit of the same key set', async () => {
  const psp = await addPsp(server, [NO.msn, DK.msn]);
  const pspClient = clientFor(server, NO, { ...psp, merchantSerialNumber: NO.msn });
  const reference = newReference('psp');
  await pspClient.epayment.createPayment(
    {
      amount: { currency: 'DKK', value: 500 },
      paymentMethod: { type: 'CARD_PASSTHROUGH' },
      cardPassthrough: {
        pspReference: `p-${reference}`.slice(0, 100),
        cardCallbackUrl: 'https://psp.example/cb',
        allowedCardTypes: ['DANKORT'],
      },
      reference,
      userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/return',
    },
    { merchantSerialNumber: DK.msn },
  );
  assert.equal((await pspClient.epayment.getPayment(reference, { merchantSerialNumber: DK.msn })).reference, reference);
  await assert.rejects(pspClient.epayment.getPayment(reference), (error: ApiError) => error.status === 404, 'not a payment of the NO unit');
});
