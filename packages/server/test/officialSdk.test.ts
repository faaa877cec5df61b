/**
 * The official TypeScript SDK (`@vippsmobilepay/sdk` 2.4.2, platform-guidelines §20) runs unchanged
 * against Kassa: its base URL is fixed to apitest.vipps.no, so `globalThis.fetch` is wrapped for the
 * duration of this file to send its requests to the test server instead. Nothing else is altered:
 * its headers (empty `Authorization: Bearer `, "" system headers, a random Idempotency-Key, JSON
 * content type without a body) reach the server exactly as the SDK builds them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@vippsmobilepay/sdk';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

const SDK_ORIGIN = 'https://apitest.vipps.no';

let server: TestServer;
const realFetch = globalThis.fetch;
/** Every request the SDK made, as it left the SDK. */
const sent: { method: string; path: string; headers: Headers; body: string }[] = [];

before(async () => {
  server = await startTestServer();
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== SDK_ORIGIN) return realFetch(input, init);
    const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    sent.push({ method: request.method, path: url.pathname, headers: request.headers, body });
    return realFetch(new URL(url.pathname + url.search, server.url), {
      method: request.method,
      headers: request.headers,
      ...(body ? { body } : {}),
    });
  };
});
after(async () => {
  globalThis.fetch = realFetch;
  await server.close();
});

const sdk = (unit = NO) => Client({ merchantSerialNumber: unit.msn, subscriptionKey: unit.subscriptionKey, useTestMode: true });

/** The data of a successful SDK result, or a failure that shows what the server said. */
function data<T>(result: { ok: true; data: T } | { ok: false; error: unknown }, label: string): T {
  if (!result.ok) assert.fail(`${label}: ${result.error instanceof Error ? result.error.message : JSON.stringify(result.error)}`);
  return result.data;
}

async function tokenFor(unit = NO): Promise<string> {
  return data(await sdk(unit).auth.getToken(unit.clientId, unit.clientSecret), 'getToken').access_token;
}

const createRequest = {
  amount: { currency: 'NOK' as const, value: 10000 },
  paymentMethod: { type: 'WALLET' as const },
  userFlow: 'WEB_REDIRECT' as const,
  returnUrl: 'https://shop.example/return',
  paymentDescription: 'Official SDK',
};

test('getToken: the SDK gets a token despite its odd headers on the token call', async () => {
  const token = data(await sdk().auth.getToken(NO.clientId, NO.clientSecret), 'getToken');
  assert.equal(token.token_type, 'Bearer');
  assert.equal(token.expires_in, '3600');
  assert.match(token.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  // Proof that the odd headers were really sent (platform-guidelines §2.1, "Server compatibility notes").
  const call = sent.findLast((r) => r.path === '/accesstoken/get');
  assert.ok(call);
  // `Bearer ` with an empty token (the Headers class trims the trailing space).
  assert.equal(call.headers.get('authorization'), 'Bearer');
  assert.equal(call.headers.get('content-type'), 'application/json');
  assert.equal(call.headers.get('vipps-system-name'), '');
  assert.match(call.headers.get('idempotency-key') ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(call.body, '');
});

test('create, info, forceApprove, capture, refund, cancel and history all work through the SDK', async () => {
  const client = sdk();
  const token = await tokenFor();

  const created = data(await client.payment.create(token, { ...createRequest }), 'create');
  assertMatchesOpenApi('POST', '/epayment/v1/payments', 201, created);
  const reference = created.reference;
  assert.match(reference, /^[0-9a-f-]{36}$/, 'the SDK fills in a UUID reference');
  const path = `/epayment/v1/payments/${reference}`;

  const info = data(await client.payment.info(token, reference), 'info');
  assertMatchesOpenApi('GET', path, 200, info);
  assert.equal(info.state, 'CREATED');

  data(await client.payment.forceApprove(token, reference, { customer: { phoneNumber: '4791234567' } }), 'forceApprove');
  assert.equal(data(await client.payment.info(token, reference), 'info').state, 'AUTHORIZED');

  const captured = data(
    await client.payment.capture(token, reference, { modificationAmount: { currency: 'NOK', value: 4000 } }),
    'capture',
  );
  assertMatchesOpenApi('POST', `${path}/capture`, 200, captured);
  assert.equal(captured.aggregate.capturedAmount.value, 4000);

  const refunded = data(await client.payment.refund(token, reference, { modificationAmount: { currency: 'NOK', value: 1000 } }), 'refund');
  assertMatchesOpenApi('POST', `${path}/refund`, 200, refunded);
  assert.equal(refunded.aggregate.refundedAmount.value, 1000);

  // The SDK's cancel sends Content-Type: application/json and no body at all.
  const cancelled = data(await client.payment.cancel(token, reference), 'cancel');
  assertMatchesOpenApi('POST', `${path}/cancel`, 200, cancelled);
  assert.equal(cancelled.aggregate.cancelledAmount.value, 6000);
  assert.equal(sent.findLast((r) => r.path === `${path}/cancel`)?.body, '');

  const history = data(await client.payment.history(token, reference), 'history');
  assertMatchesOpenApi('GET', `${path}/events`, 200, history);
  assert.deepEqual(
    history.map((event) => event.name),
    ['CREATED', 'AUTHORIZED', 'CAPTURED', 'REFUNDED', 'CANCELLED'],
  );
  // Every call carried the SDK's own fresh Idempotency-Key, so each capture/refund was new.
  assert.equal(history.find((event) => event.name === 'CAPTURED')?.idempotencyKey?.length, 36);
});

test('forceApprove without a body and cancel before approval work through the SDK', async () => {
  const client = sdk();
  const token = await tokenFor();
  const approved = data(await client.payment.create(token, { ...createRequest }), 'create').reference;
  // Its types ask for a body, but JavaScript callers omit it; the SDK then sends none with its JSON content type.
  const withoutBody = client.payment.forceApprove as unknown as (
    token: string,
    reference: string,
  ) => ReturnType<typeof client.payment.forceApprove>;
  data(await withoutBody(token, approved), 'forceApprove without body');
  assert.equal(data(await client.payment.info(token, approved), 'info').state, 'AUTHORIZED');

  const abandoned = data(
    await client.payment.create(token, { ...createRequest, reference: `sdk-cancel-${Date.now()}` }),
    'create',
  ).reference;
  const cancelled = data(await client.payment.cancel(token, abandoned), 'cancel');
  assert.equal(cancelled.state, 'TERMINATED');
});

test("the SDK receives the server's errors in the shapes it types", async () => {
  const client = sdk();
  const token = await tokenFor();

  const wrongSecret = await client.auth.getToken(NO.clientId, 'wrong');
  assert.equal(wrongSecret.ok, false);
  assert.equal((wrongSecret as { error: { error: string } }).error.error, 'invalid_client');

  const unknown = await client.payment.info(token, 'no-such-payment-ref');
  assert.equal(unknown.ok, false);
  const problem = (unknown as { error: { extraDetails: unknown } }).error;
  assertMatchesOpenApi('GET', '/epayment/v1/payments/no-such-payment-ref', 404, problem);
  assert.deepEqual(problem.extraDetails, [{ name: 'ErrorCode', reason: '5090' }]);

  const reference = data(await client.payment.create(token, { ...createRequest }), 'create').reference;
  const early = await client.payment.capture(token, reference, { modificationAmount: { currency: 'NOK', value: 100 } });
  assert.equal(early.ok, false);
  assert.deepEqual((early as { error: { extraDetails: unknown } }).error.extraDetails, [{ name: 'ErrorCode', reason: '6080' }]);

  // Keys used for another sales unit: 403, which the SDK turns into its own message.
  const foreign = Client({ merchantSerialNumber: DK.msn, subscriptionKey: NO.subscriptionKey, useTestMode: true });
  const refused = await foreign.payment.info(token, reference);
  assert.equal(refused.ok, false);
  assert.match(String((refused as { error: Error }).error.message), /not authorized for this product/);
});
