/**
 * What fault injection is for: proving that a client recovers. The project's SDK (packages/sdk), which
 * retries 5xx, 429 and timeouts with the same Idempotency-Key (platform-guidelines §3.3), meets
 * faults after the operation committed — the answer lost to a 500, or to a timeout — and a 503 with
 * Retry-After before it, and every time the payment has exactly one effect of each call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError, type Client, createClient, silentLogger } from '@kassa/sdk';
import type { DemoSalesUnit } from '../src/seed.ts';
import { findPayment, listEvents } from '../src/store/paymentsStore.ts';
import { addSalesUnit } from './support/payments.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function sdkFor(unit: DemoSalesUnit, totalTimeoutMs = 30_000): Client {
  return createClient({
    baseUrl: server.url,
    clientId: unit.clientId,
    clientSecret: unit.clientSecret,
    subscriptionKey: unit.subscriptionKey,
    merchantSerialNumber: unit.msn,
    system: { name: 'fault-tests', version: '1.0.0' },
    timeouts: { totalMs: totalTimeoutMs },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
    logger: silentLogger,
  });
}

async function addRule(unit: DemoSalesUnit, body: Record<string, unknown>): Promise<{ id: number }> {
  const reply = await server.call('POST', '/kassa/v1/faults', { unit, body: { target: 'api', ...body } });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.rule;
}

async function eventNames(unit: DemoSalesUnit, reference: string): Promise<string[]> {
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  return (await listEvents(server.ctx.db, payment?.id ?? 0)).map((e) => e.name);
}

async function loggedCalls(unit: DemoSalesUnit, route: string) {
  await server.requestLog.flush();
  const { rows } = await server.ctx.db.query<{ status: number; idempotency_key: string; fault: string | null }>(
    'select status, idempotency_key, fault from request_log where msn = $1 and route = $2 order by id',
    [unit.msn, route],
  );
  return rows;
}

async function createAndApprove(client: Client, unit: DemoSalesUnit, reference: string): Promise<void> {
  await client.epayment.createPayment({
    amount: { currency: 'NOK', value: 10000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    paymentDescription: 'One pair of socks',
  });
  await client.epayment.forceApprovePayment(reference, {});
  assert.deepEqual(await eventNames(unit, reference), ['CREATED', 'AUTHORIZED']);
}

test('a 503 with Retry-After before creation, then a 500 after capture: the SDK retries with the same key, one effect each', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const client = sdkFor(unit);
  const unavailable = await addRule(unit, {
    kind: 'error',
    status: 503,
    retryAfterSeconds: 0,
    match: { operation: 'createPayment' },
    count: 2,
  });
  const lost = await addRule(unit, { kind: 'error', status: 500, when: 'after', match: { operation: 'capturePayment' }, count: 1 });
  const reference = `sdk-faults-${Date.now()}`;
  await createAndApprove(client, unit, reference);

  const captured = await client.epayment.capturePayment(reference, { modificationAmount: { currency: 'NOK', value: 2500 } });
  assert.equal(captured.aggregate.capturedAmount.value, 2500);
  assert.deepEqual(await eventNames(unit, reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);

  const creates = await loggedCalls(unit, '/epayment/v1/payments');
  assert.deepEqual(
    creates.map((row) => [row.status, row.fault]),
    [
      [503, `error 503 before (rule ${unavailable.id})`],
      [503, `error 503 before (rule ${unavailable.id})`],
      [201, null],
    ],
  );
  assert.equal(new Set(creates.map((row) => row.idempotency_key)).size, 1, 'one key for every attempt');
  const captures = await loggedCalls(unit, '/epayment/v1/payments/:reference/capture');
  assert.deepEqual(
    captures.map((row) => [row.status, row.fault]),
    [
      [500, `error 500 after (rule ${lost.id})`],
      [200, null],
    ],
  );
  assert.equal(captures[0]?.idempotency_key, captures[1]?.idempotency_key);
});

test('a timeout after the capture committed: the SDK gives up waiting, retries with the same key and gets the one capture', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const reference = `sdk-timeout-${Date.now()}`;
  await createAndApprove(sdkFor(unit), unit, reference);
  const held = await addRule(unit, { kind: 'timeout', when: 'after', delayMs: 60_000, match: { operation: 'capturePayment' }, count: 1 });

  const impatient = sdkFor(unit, 300);
  const captured = await impatient.epayment.capturePayment(reference, { modificationAmount: { currency: 'NOK', value: 10000 } });
  assert.equal(captured.aggregate.capturedAmount.value, 10000);
  assert.deepEqual(await eventNames(unit, reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);
  const captures = await loggedCalls(unit, '/epayment/v1/payments/:reference/capture');
  assert.deepEqual(
    captures.map((row) => [row.status, row.fault]),
    [
      [499, `timeout 60000 ms after (rule ${held.id})`],
      [200, null],
    ],
  );
  assert.equal(captures[0]?.idempotency_key, captures[1]?.idempotency_key);
});

test('captures the acquirer fails: 6280 the SDK retries by itself with the same key; 6260 reaches the caller, whose later retry captures', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const client = sdkFor(unit);
  const reference = `sdk-capture-faults-${Date.now()}`;
  await createAndApprove(client, unit, reference);
  await addRule(unit, { kind: 'captureFailed', count: 1 });
  const captured = await client.epayment.capturePayment(reference, { modificationAmount: { currency: 'NOK', value: 4000 } });
  assert.equal(captured.aggregate.capturedAmount.value, 4000);

  await addRule(unit, { kind: 'fundsUnavailable', count: 1 });
  const idempotencyKey = `later-${reference}`;
  const refused = await client.epayment
    .capturePayment(reference, { modificationAmount: { currency: 'NOK', value: 6000 } }, { idempotencyKey })
    .then(
      () => assert.fail('6260 is not retried by the SDK'),
      (error: unknown) => error,
    );
  assert.ok(refused instanceof ApiError);
  assert.deepEqual([refused.status, refused.errorCode], [400, 6260]);
  const later = await client.epayment.capturePayment(
    reference,
    { modificationAmount: { currency: 'NOK', value: 6000 } },
    { idempotencyKey },
  );
  assert.equal(later.aggregate.capturedAmount.value, 10000);

  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  const captures = (await listEvents(server.ctx.db, payment?.id ?? 0)).filter((e) => e.name === 'CAPTURED');
  assert.deepEqual(
    captures.map((e) => [e.amount, e.success]),
    [
      [4000, false],
      [4000, true],
      [6000, false],
      [6000, true],
    ],
  );
  const calls = await loggedCalls(unit, '/epayment/v1/payments/:reference/capture');
  assert.deepEqual(
    calls.map((row) => row.status),
    [503, 200, 400, 200],
  );
  assert.equal(calls[0]?.idempotency_key, calls[1]?.idempotency_key, 'the SDK retried with the same key');
  assert.deepEqual([calls[2]?.idempotency_key, calls[3]?.idempotency_key], [idempotencyKey, idempotencyKey]);
});
