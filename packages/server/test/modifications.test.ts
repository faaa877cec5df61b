/**
 * Capture, refund and cancel over HTTP (spec §8, §9, §11.4, §12.1): every rule row, in every state,
 * with the Problem shape of §13.3, and the aggregate checked against the event log after each story.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertMatchesOpenApi } from './support/openapi.ts';
import {
  addSalesUnit,
  assertModified,
  assertProblem,
  authorizedPayment,
  cancel,
  capture,
  type EventBody,
  MINUTE,
  markProcessing,
  money,
  paymentPath,
  readConsistent,
  refund,
  rejectByUser,
  values,
} from './support/payments.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const capturePath = (reference: string) => `${paymentPath(reference)}/capture`;
const refundPath = (reference: string) => `${paymentPath(reference)}/refund`;
const cancelPath = (reference: string) => `${paymentPath(reference)}/cancel`;

async function createdPayment(value = 10000): Promise<string> {
  const created = await server.createPayment({ amount: { currency: 'NOK', value } });
  assert.equal(created.status, 201, created.text);
  return created.reference;
}

async function expiredPayment(): Promise<string> {
  const reference = await createdPayment();
  server.clock.advance(10 * MINUTE);
  return reference;
}

async function terminatedPayment(): Promise<string> {
  const reference = await createdPayment();
  assertModified(await cancel(server, reference), cancelPath(reference));
  return reference;
}

async function abortedPayment(): Promise<string> {
  const reference = await createdPayment();
  await rejectByUser(server, reference);
  return reference;
}

async function eventNames(reference: string): Promise<string[]> {
  const log = await server.call<EventBody[]>('GET', `${paymentPath(reference)}/events`);
  return log.body.map((e) => e.name);
}

describe('capture (spec §8)', () => {
  test('partial captures add up until the authorization is used, each with its own CAPTURED event', async () => {
    const reference = await authorizedPayment(server, 10000);
    const first = await capture(server, reference, 2500, { key: `${reference}-c1` });
    assertModified(first, capturePath(reference));
    assert.equal(first.body.state, 'AUTHORIZED');
    assert.deepEqual(first.body.amount, money(NO, 10000), 'amount is the payment amount, not the capture');
    assert.deepEqual(values(first.body.aggregate), { authorized: 10000, captured: 2500, cancelled: 0, refunded: 0 });
    const second = await capture(server, reference, 7500, { key: `${reference}-c2` });
    assertModified(second, capturePath(reference));
    assert.deepEqual(values(second.body.aggregate), { authorized: 10000, captured: 10000, cancelled: 0, refunded: 0 });
    const { payment, events } = await readConsistent(server, reference);
    assert.equal(second.body.pspReference, payment.pspReference);
    const captured = events.filter((e) => e.name === 'CAPTURED');
    assert.deepEqual(
      captured.map((e) => [e.amount.value, e.idempotencyKey, e.success]),
      [
        [2500, `${reference}-c1`, true],
        [7500, `${reference}-c2`, true],
      ],
    );
  });

  test('6080 before reservation', async () => {
    const reference = await createdPayment();
    assertProblem(await capture(server, reference, 100), 'POST', capturePath(reference), 400, 6080);
    assert.deepEqual(await eventNames(reference), ['CREATED']);
  });

  test('6200 in ABORTED, EXPIRED and TERMINATED, naming the state', async () => {
    for (const [state, make] of [
      ['ABORTED', abortedPayment],
      ['EXPIRED', expiredPayment],
      ['TERMINATED', terminatedPayment],
    ] as const) {
      const reference = await make();
      const reply = await capture(server, reference, 100);
      assertProblem(reply, 'POST', capturePath(reference), 400, 6200);
      assert.match(reply.body.detail, new RegExp(state));
      const { payment } = await readConsistent(server, reference);
      assert.equal(payment.state, state);
    }
  });

  test('6070 after the remainder was cancelled (§9.3 worked example)', async () => {
    const reference = await authorizedPayment(server, 1000);
    assertModified(await capture(server, reference, 250), capturePath(reference));
    const cancelled = await cancel(server, reference, { body: {} });
    assertModified(cancelled, cancelPath(reference));
    assert.deepEqual(values(cancelled.body.aggregate), { authorized: 1000, captured: 250, cancelled: 750, refunded: 0 });
    assertProblem(await capture(server, reference, 1), 'POST', capturePath(reference), 400, 6070);
    const { events } = await readConsistent(server, reference);
    assert.deepEqual(
      events.map((e) => [e.name, e.amount.value]),
      [
        ['CREATED', 1000],
        ['AUTHORIZED', 1000],
        ['CAPTURED', 250],
        ['CANCELLED', 750],
      ],
    );
  });

  test('6170 when everything is captured', async () => {
    const reference = await authorizedPayment(server, 5000);
    assertModified(await capture(server, reference, 5000), capturePath(reference));
    assertProblem(await capture(server, reference, 1), 'POST', capturePath(reference), 400, 6170);
    await readConsistent(server, reference);
  });

  test('6090 above the capturable amount, and nothing is applied partially', async () => {
    const reference = await authorizedPayment(server, 5000);
    assertProblem(await capture(server, reference, 5001), 'POST', capturePath(reference), 400, 6090);
    assertModified(await capture(server, reference, 3000), capturePath(reference));
    const over = await capture(server, reference, 2001);
    assertProblem(over, 'POST', capturePath(reference), 400, 6090);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, 3000);
    assertModified(await capture(server, reference, 2000), capturePath(reference));
  });

  test('6140 for a partial capture on a full-capture-only sales unit; the full amount is captured', async () => {
    const unit = await addSalesUnit(server, 'DK', { fullCaptureOnly: true });
    const reference = await authorizedPayment(server, 8000, unit);
    assertProblem(await capture(server, reference, 4000, { unit }), 'POST', capturePath(reference), 400, 6140);
    assertModified(await capture(server, reference, 8000, { unit }), capturePath(reference));
    await readConsistent(server, reference, unit);
  });

  test('amount checks: currency, zero, decimals; unknown and foreign references are 404/5090', async () => {
    const reference = await authorizedPayment(server, 5000);
    const wrongCurrency = await capture(server, reference, 100, { currency: 'DKK' });
    assert.equal(wrongCurrency.status, 400);
    assertMatchesOpenApi('POST', capturePath(reference), 400, wrongCurrency.body);
    assert.equal(wrongCurrency.body.extraDetails[0].name, 'modificationAmount.currency');
    const zero = await capture(server, reference, 0);
    assert.equal(zero.status, 400);
    assert.equal(zero.body.extraDetails[0].name, 'modificationAmount.value');
    assertProblem(await capture(server, reference, 10.5), 'POST', capturePath(reference), 400, 4040);
    const unknown = 'unknown-reference-1';
    assertProblem(await capture(server, unknown, 100), 'POST', capturePath(unknown), 404, 5090);
    // Another sales unit's payment does not exist for this one.
    assertProblem(await capture(server, reference, 100, { unit: DK }), 'POST', capturePath(reference), 404, 5090);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, 0);
  });

  test('Idempotency-Key is required and at most 50 characters', async () => {
    const reference = await authorizedPayment(server, 5000);
    const missing = await capture(server, reference, 100, { key: null });
    assert.equal(missing.status, 400);
    assertMatchesOpenApi('POST', capturePath(reference), 400, missing.body);
    assert.equal(missing.body.extraDetails[0].name, 'Idempotency-Key');
    const long = await capture(server, reference, 100, { key: 'k'.repeat(51) });
    assert.equal(long.status, 400);
    assert.equal(long.body.extraDetails[0].name, 'Idempotency-Key');
    assertModified(await capture(server, reference, 100, { key: 'k'.repeat(50) }), capturePath(reference));
  });
});

describe('refund (spec §9.1)', () => {
  test('partial refunds repeat up to the captured amount; the state stays AUTHORIZED', async () => {
    const reference = await authorizedPayment(server, 10000);
    assertModified(await capture(server, reference, 6000), capturePath(reference));
    const first = await refund(server, reference, 1000, { key: `${reference}-r1` });
    assertModified(first, refundPath(reference));
    assert.deepEqual(values(first.body.aggregate), { authorized: 10000, captured: 6000, cancelled: 0, refunded: 1000 });
    const second = await refund(server, reference, 5000, { key: `${reference}-r2` });
    assertModified(second, refundPath(reference));
    assert.equal(second.body.state, 'AUTHORIZED');
    const { events } = await readConsistent(server, reference);
    assert.deepEqual(
      events.filter((e) => e.name === 'REFUNDED').map((e) => [e.amount.value, e.idempotencyKey]),
      [
        [1000, `${reference}-r1`],
        [5000, `${reference}-r2`],
      ],
    );
  });

  test('6020 before reservation; 6210 in ABORTED, EXPIRED and TERMINATED', async () => {
    const created = await createdPayment();
    assertProblem(await refund(server, created, 100), 'POST', refundPath(created), 400, 6020);
    for (const make of [abortedPayment, expiredPayment, terminatedPayment]) {
      const reference = await make();
      assertProblem(await refund(server, reference, 100), 'POST', refundPath(reference), 400, 6210);
      await readConsistent(server, reference);
    }
  });

  test('6150 above the refundable amount, including nothing captured yet; 6180 once all is refunded', async () => {
    const reference = await authorizedPayment(server, 10000);
    assertProblem(await refund(server, reference, 100), 'POST', refundPath(reference), 400, 6150);
    assertModified(await capture(server, reference, 3000), capturePath(reference));
    assertProblem(await refund(server, reference, 3001), 'POST', refundPath(reference), 400, 6150);
    assertModified(await refund(server, reference, 3000), refundPath(reference));
    assertProblem(await refund(server, reference, 1), 'POST', refundPath(reference), 400, 6180);
    const { aggregate } = await readConsistent(server, reference);
    assert.deepEqual(aggregate, { authorized: 10000, captured: 3000, cancelled: 0, refunded: 3000 });
  });

  test('5100 when the sales unit may not refund', async () => {
    const unit = await addSalesUnit(server, 'NO', { refundAllowed: false });
    const reference = await authorizedPayment(server, 5000, unit);
    assertModified(await capture(server, reference, 5000, { unit }), capturePath(reference));
    assertProblem(await refund(server, reference, 100, { unit }), 'POST', refundPath(reference), 400, 5100);
    await readConsistent(server, reference, unit);
  });

  test('magic refund amounts of the test environment: 123 → 5100, 124 → 6220 (spec §16)', async () => {
    const reference = await authorizedPayment(server, 10000);
    assertModified(await capture(server, reference, 10000), capturePath(reference));
    assertProblem(await refund(server, reference, 123), 'POST', refundPath(reference), 400, 5100);
    assertProblem(await refund(server, reference, 124), 'POST', refundPath(reference), 400, 6220);
    assertModified(await refund(server, reference, 125), refundPath(reference));
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.refunded, 125);
  });

  test('refunds still work after the remainder was cancelled', async () => {
    const reference = await authorizedPayment(server, 10000);
    assertModified(await capture(server, reference, 4000), capturePath(reference));
    assertModified(await cancel(server, reference), cancelPath(reference));
    assertModified(await refund(server, reference, 4000), refundPath(reference));
    const { aggregate } = await readConsistent(server, reference);
    assert.deepEqual(aggregate, { authorized: 10000, captured: 4000, cancelled: 6000, refunded: 4000 });
  });
});

describe('cancel (spec §9.2), every state and both cancelTransactionOnly values', () => {
  for (const cancelTransactionOnly of [false, true]) {
    test(`CREATED → TERMINATED with cancelled = amount and authorized 0 (cancelTransactionOnly ${cancelTransactionOnly})`, async () => {
      const reference = await createdPayment(4900);
      const reply = await cancel(server, reference, { body: { cancelTransactionOnly } });
      assertModified(reply, cancelPath(reference));
      assert.equal(reply.body.state, 'TERMINATED');
      assert.deepEqual(values(reply.body.aggregate), { authorized: 0, captured: 0, cancelled: 4900, refunded: 0 });
      const { payment, events } = await readConsistent(server, reference);
      assert.equal(payment.state, 'TERMINATED');
      assert.equal(payment.redirectUrl, undefined);
      assert.deepEqual(
        events.map((e) => [e.name, e.amount.value, e.idempotencyKey]),
        [
          ['CREATED', 4900, events[0]?.idempotencyKey],
          ['TERMINATED', 4900, null],
        ],
      );
    });
  }

  test('6250 while the user is inside authorization, for both flags; cancel works once that is over', async () => {
    const reference = await createdPayment();
    await markProcessing(server, reference, new Date(server.clock.now().getTime() + 30_000));
    for (const cancelTransactionOnly of [false, true]) {
      assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly } }), 'POST', cancelPath(reference), 409, 6250);
    }
    // "Retry later" with the same key: 6250 is not stored against it.
    const key = `${reference}-later`;
    assertProblem(await cancel(server, reference, { key }), 'POST', cancelPath(reference), 409, 6250);
    assert.deepEqual(await eventNames(reference), ['CREATED']);
    server.clock.advance(30_000);
    const reply = await cancel(server, reference, { key });
    assertModified(reply, cancelPath(reference));
    assert.equal(reply.body.state, 'TERMINATED');
  });

  test('AUTHORIZED, nothing captured: the whole authorization is released; cancelTransactionOnly refuses with 6060', async () => {
    const reference = await authorizedPayment(server, 7000);
    assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly: true } }), 'POST', cancelPath(reference), 400, 6060);
    const reply = await cancel(server, reference, { body: { cancelTransactionOnly: false }, key: `${reference}-cancel` });
    assertModified(reply, cancelPath(reference));
    assert.equal(reply.body.state, 'AUTHORIZED');
    assert.deepEqual(values(reply.body.aggregate), { authorized: 7000, captured: 0, cancelled: 7000, refunded: 0 });
    const { events } = await readConsistent(server, reference);
    assert.deepEqual(events.at(-1) && [events.at(-1)?.name, events.at(-1)?.amount.value, events.at(-1)?.idempotencyKey], [
      'CANCELLED',
      7000,
      `${reference}-cancel`,
    ]);
  });

  test('AUTHORIZED, partially captured: the remainder is released; cancelTransactionOnly → 6060', async () => {
    const reference = await authorizedPayment(server, 7000);
    assertModified(await capture(server, reference, 2000), capturePath(reference));
    assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly: true } }), 'POST', cancelPath(reference), 400, 6060);
    const reply = await cancel(server, reference);
    assertModified(reply, cancelPath(reference));
    assert.deepEqual(values(reply.body.aggregate), { authorized: 7000, captured: 2000, cancelled: 5000, refunded: 0 });
    await readConsistent(server, reference);
  });

  test('AUTHORIZED, fully captured: 6040 (refund instead); cancelTransactionOnly → 6060', async () => {
    const reference = await authorizedPayment(server, 7000);
    assertModified(await capture(server, reference, 7000), capturePath(reference));
    assertProblem(await cancel(server, reference), 'POST', cancelPath(reference), 400, 6040);
    assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly: true } }), 'POST', cancelPath(reference), 400, 6060);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.cancelled, 0);
  });

  test('AUTHORIZED, remainder already cancelled: 6190 for a new request, the original 200 for its own key', async () => {
    const reference = await authorizedPayment(server, 7000);
    const first = await cancel(server, reference, { key: `${reference}-k1` });
    assertModified(first, cancelPath(reference));
    const replay = await cancel(server, reference, { key: `${reference}-k1` });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body);
    assertProblem(await cancel(server, reference, { key: `${reference}-k2` }), 'POST', cancelPath(reference), 400, 6190);
    assertProblem(await cancel(server, reference), 'POST', cancelPath(reference), 400, 6190);
    assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly: true } }), 'POST', cancelPath(reference), 400, 6060);
    const { events } = await readConsistent(server, reference);
    assert.equal(events.filter((e) => e.name === 'CANCELLED').length, 1);
  });

  test('ABORTED and EXPIRED: 6050 for both flags', async () => {
    for (const make of [abortedPayment, expiredPayment]) {
      const reference = await make();
      for (const cancelTransactionOnly of [false, true]) {
        assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly } }), 'POST', cancelPath(reference), 400, 6050);
      }
      await readConsistent(server, reference);
    }
  });

  test('TERMINATED: 6190 for both flags; the first cancel replays for its key', async () => {
    const reference = await createdPayment();
    const first = await cancel(server, reference, { key: `${reference}-t1` });
    assertModified(first, cancelPath(reference));
    for (const cancelTransactionOnly of [false, true]) {
      assertProblem(await cancel(server, reference, { body: { cancelTransactionOnly } }), 'POST', cancelPath(reference), 400, 6190);
    }
    const replay = await cancel(server, reference, { key: `${reference}-t1` });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body);
    const { events } = await readConsistent(server, reference);
    assert.deepEqual(
      events.map((e) => e.name),
      ['CREATED', 'TERMINATED'],
    );
  });

  test('no body, {}, an empty JSON body, null and {"cancelTransactionOnly":false} are the same request', async () => {
    const variants: { label: string; body?: unknown; raw?: string; headers?: Record<string, string> }[] = [
      { label: 'no body' },
      { label: '{}', body: {} },
      { label: 'empty JSON body', raw: '' },
      { label: 'null', raw: 'null' },
      { label: 'false', body: { cancelTransactionOnly: false } },
      { label: 'cancelTransactionOnly null', body: { cancelTransactionOnly: null } },
    ];
    for (const variant of variants) {
      const reference = await authorizedPayment(server, 3000);
      const reply = await cancel(server, reference, variant);
      assertModified(reply, cancelPath(reference));
      assert.equal(reply.body.aggregate.cancelledAmount.value, 3000, variant.label);
    }
    // One key, first with no body and then with {}: a replay, not a conflict.
    const reference = await authorizedPayment(server, 3000);
    const first = await cancel(server, reference, { key: `${reference}-same` });
    const again = await cancel(server, reference, { key: `${reference}-same`, body: { cancelTransactionOnly: false } });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, first.body);
  });

  test('a body that is not a cancel request is a 400 validation error', async () => {
    const reference = await authorizedPayment(server, 3000);
    for (const raw of ['{"cancelTransactionOnly":"yes"}', '[]', '{"cancelTransactionOnly":', '"x"']) {
      const reply = await cancel(server, reference, { raw });
      assert.equal(reply.status, 400, `${raw}: ${reply.text}`);
      assertMatchesOpenApi('POST', cancelPath(reference), 400, reply.body);
      assert.ok(reply.body.extraDetails.length > 0);
    }
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.cancelled, 0);
  });

  test('without an Idempotency-Key the CANCELLED event has none', async () => {
    const reference = await authorizedPayment(server, 3000);
    assertModified(await cancel(server, reference), cancelPath(reference));
    const { events } = await readConsistent(server, reference);
    assert.equal(events.at(-1)?.name, 'CANCELLED');
    assert.equal(events.at(-1)?.idempotencyKey, null);
  });
});

describe('idempotency of modifications (spec §12.1)', () => {
  test('capture: same key and body → the stored 200 and no new event; different body → 409/4010', async () => {
    const reference = await authorizedPayment(server, 10000);
    const key = `${reference}-cap`;
    const first = await capture(server, reference, 4000, { key });
    assertModified(first, capturePath(reference));
    await capture(server, reference, 1000);
    const replay = await capture(server, reference, 4000, { key });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body, 'the stored body, not the current aggregate');
    assert.equal(replay.text, first.text, 'byte for byte, members in their order');
    assertProblem(await capture(server, reference, 4001, { key }), 'POST', capturePath(reference), 409, 4010);
    const { events, aggregate } = await readConsistent(server, reference);
    assert.equal(events.filter((e) => e.name === 'CAPTURED').length, 2);
    assert.equal(aggregate.captured, 5000);
  });

  test('refund: same key and body → the stored 200; different body → 409/4150', async () => {
    const reference = await authorizedPayment(server, 10000);
    assertModified(await capture(server, reference, 10000), capturePath(reference));
    const key = `${reference}-ref`;
    const first = await refund(server, reference, 2000, { key });
    assertModified(first, refundPath(reference));
    const replay = await refund(server, reference, 2000, { key });
    assert.deepEqual([replay.status, replay.body], [200, first.body]);
    assertProblem(await refund(server, reference, 3000, { key }), 'POST', refundPath(reference), 409, 4150);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.refunded, 2000);
  });

  test('cancel: same key, different body → 409/4020', async () => {
    const reference = await authorizedPayment(server, 10000);
    const key = `${reference}-can`;
    const refused = await cancel(server, reference, { key, body: { cancelTransactionOnly: true } });
    assertProblem(refused, 'POST', cancelPath(reference), 400, 6060);
    assertProblem(
      await cancel(server, reference, { key, body: { cancelTransactionOnly: false } }),
      'POST',
      cancelPath(reference),
      409,
      4020,
    );
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.cancelled, 0);
  });

  test('a 4xx stays 4xx for its key, body and all, even after the payment changed', async () => {
    const reference = await createdPayment();
    const key = `${reference}-early`;
    const early = await capture(server, reference, 1000, { key });
    assertProblem(early, 'POST', capturePath(reference), 400, 6080);
    assert.equal((await server.approve(reference)).status, 200);
    const replay = await capture(server, reference, 1000, { key });
    assert.equal(replay.status, 400);
    assert.deepEqual(replay.body, early.body);
    assertModified(await capture(server, reference, 1000), capturePath(reference));
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, 1000);
  });

  test('keys are scoped per sales unit and operation; the fingerprint includes the reference', async () => {
    const a = await authorizedPayment(server, 10000);
    const b = await authorizedPayment(server, 10000);
    const key = `${a}-shared`;
    assertModified(await capture(server, a, 1000, { key }), capturePath(a));
    // The same key on the refund endpoint is another record.
    assertProblem(await refund(server, a, 5000, { key }), 'POST', refundPath(a), 400, 6150);
    // The same key and body for another payment is another request.
    assertProblem(await capture(server, b, 1000, { key }), 'POST', capturePath(b), 409, 4010);
    // Another sales unit may use the same key freely.
    const dk = await authorizedPayment(server, 1000, DK);
    assertModified(await capture(server, dk, 1000, { key, unit: DK }), capturePath(dk));
  });

  test('a validation error stays the answer for its key (open question 4): the corrected request needs a new key', async () => {
    const reference = await authorizedPayment(server, 10000);
    const key = `${reference}-fix`;
    // The wrong currency (checked against the payment) and a value of 0 (the schema): both stored.
    const wrong = await capture(server, reference, 1000, { key, currency: 'EUR' });
    assert.equal(wrong.status, 400);
    assert.deepEqual((await capture(server, reference, 1000, { key, currency: 'EUR' })).body, wrong.body);
    assertProblem(await capture(server, reference, 1000, { key }), 'POST', capturePath(reference), 409, 4010);
    const zeroKey = `${reference}-zero`;
    assert.equal((await capture(server, reference, 0, { key: zeroKey })).status, 400);
    assertProblem(await capture(server, reference, 1000, { key: zeroKey }), 'POST', capturePath(reference), 409, 4010);
    assert.equal((await readConsistent(server, reference)).aggregate.captured, 0, 'nothing was captured');
    assertModified(await capture(server, reference, 1000, { key: `${reference}-new` }), capturePath(reference));
  });
});
