/**
 * What time does to payments (spec §11.3, §11.6): expiry of CREATED payments after 10 minutes or at
 * `expiresAt`, the capture deadline per market with automatic cancellation of the remainder, the
 * 365-day refund window, and `captureGuaranteedUntil`. Both paths are covered: lazily when a request
 * touches the payment, and by the sweeper. Time moves with the server's clock, never by sleeping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DemoSalesUnit } from '../src/seed.ts';
import { findPayment, listEvents } from '../src/store/paymentsStore.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import {
  addSalesUnit,
  assertModified,
  assertProblem,
  authorizedPayment,
  cancel,
  capture,
  DAY,
  type EventBody,
  MINUTE,
  paymentPath,
  readConsistent,
  refund,
} from './support/payments.ts';
import { DK, FI, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const capturePath = (reference: string) => `${paymentPath(reference)}/capture`;
const cancelPath = (reference: string) => `${paymentPath(reference)}/cancel`;
const refundPath = (reference: string) => `${paymentPath(reference)}/refund`;

async function stored(reference: string, unit: DemoSalesUnit = NO) {
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  assert.ok(payment, `payment ${reference} is stored`);
  return payment;
}

describe('expiry of CREATED payments (spec §11.3)', () => {
  test('a payment expires 10 minutes after creation, not a moment earlier; approval works until then', async () => {
    const watched = await server.createPayment();
    const approvedLate = await server.createPayment();
    server.clock.advance(10 * MINUTE - 1000);
    const before = await readConsistent(server, watched.reference);
    assert.equal(before.payment.state, 'CREATED');
    assert.match(before.payment.redirectUrl, /token=/);
    assert.equal((await server.approve(approvedLate.reference)).status, 200, 'the user may approve until the expiry instant');

    server.clock.advance(1000);
    const { payment, events } = await readConsistent(server, watched.reference);
    assert.equal(payment.state, 'EXPIRED');
    assert.equal(payment.redirectUrl, undefined);
    assert.deepEqual(
      events.map((e) => [e.name, e.amount.value, e.idempotencyKey, e.success]),
      [
        ['CREATED', 10000, events[0]?.idempotencyKey, true],
        ['EXPIRED', 10000, null, true],
      ],
    );
    const late = await readConsistent(server, approvedLate.reference);
    assert.equal(late.payment.state, 'AUTHORIZED', 'an approved payment never expires');
  });

  test('a refused request still leaves the expiry behind (force approve and capture of an expired payment)', async () => {
    const a = await server.createPayment();
    const b = await server.createPayment();
    server.clock.advance(10 * MINUTE);
    const approve = await server.approve(a.reference);
    assertProblem(approve, 'POST', `/epayment/v1/test/payments/${a.reference}/approve`, 400, 10010);
    assert.match(approve.body.detail, /EXPIRED/);
    assert.equal((await stored(a.reference)).state, 'EXPIRED', 'written by the refused request itself, not by a later read');
    assertProblem(await capture(server, b.reference, 100), 'POST', capturePath(b.reference), 400, 6200);
    assert.equal((await stored(b.reference)).state, 'EXPIRED');
    for (const reference of [a.reference, b.reference]) {
      const { events } = await readConsistent(server, reference);
      assert.deepEqual(
        events.map((e) => e.name),
        ['CREATED', 'EXPIRED'],
      );
    }
  });

  test('the sweeper expires payments nobody looks at, once', async () => {
    const created = await server.createPayment();
    server.clock.advance(10 * MINUTE);
    assert.equal((await stored(created.reference)).state, 'CREATED', 'nothing moves before someone acts');
    assert.ok((await server.sweep()) >= 1);
    const payment = await stored(created.reference);
    assert.equal(payment.state, 'EXPIRED');
    assert.equal(await server.sweep(), 0, 'a second pass finds nothing');
    const { events } = await readConsistent(server, created.reference);
    assert.deepEqual(
      events.map((e) => e.name),
      ['CREATED', 'EXPIRED'],
    );
    assert.deepEqual(
      (await listEvents(server.ctx.db, payment.id)).map((e) => e.name),
      ['CREATED', 'EXPIRED'],
    );
  });

  test('a long-living payment (expiresAt) lives until expiresAt, by read and by sweep', async () => {
    const expiresAt = new Date(server.clock.nowMs() + 2 * 60 * MINUTE).toISOString();
    const fields = (reference: string) => ({
      reference,
      userFlow: 'QR',
      returnUrl: undefined,
      expiresAt,
      receipt: {
        orderLines: [
          { name: 'Socks', id: 'socks-1', totalAmount: 10000, totalAmountExcludingTax: 8000, totalTaxAmount: 2000, taxRate: 2500 },
        ],
        bottomLine: { currency: 'NOK' },
      },
    });
    const read = await server.createPayment(fields(`long-read-${Date.now()}`));
    assert.equal(read.status, 201, read.text);
    const swept = await server.createPayment(fields(`long-sweep-${Date.now()}`));
    assert.equal(swept.status, 201, swept.text);
    server.clock.advance(60 * MINUTE);
    await server.sweep();
    assert.equal((await readConsistent(server, read.reference)).payment.state, 'CREATED');
    assert.equal((await stored(swept.reference)).state, 'CREATED');
    server.clock.advance(60 * MINUTE);
    assert.equal((await readConsistent(server, read.reference)).payment.state, 'EXPIRED');
    assert.ok((await server.sweep()) >= 1);
    assert.equal((await stored(swept.reference)).state, 'EXPIRED');
  });
});

describe('capture deadline (spec §11.6)', () => {
  const markets: [string, DemoSalesUnit, number][] = [
    ['Norway', NO, 180],
    ['Denmark', DK, 14],
    ['Finland', FI, 14],
  ];
  for (const [name, unit, days] of markets) {
    test(`${name}: ${days} days from authorization, then the remainder is cancelled and capture/cancel are over`, async () => {
      const created = await server.createPayment({}, { unit });
      server.clock.advance(5 * MINUTE); // the deadline counts from authorization, not creation
      assert.equal((await server.approve(created.reference, unit)).status, 200);
      const reference = created.reference;
      const payment = await stored(reference, unit);
      assert.equal(payment.captureDeadline?.getTime(), (payment.authorizedAt?.getTime() ?? 0) + days * DAY);

      assertModified(await capture(server, reference, 1000, { unit }), capturePath(reference));
      const lateKey = `${reference}-late`;
      server.clock.advance(days * DAY - 1000);
      const last = await capture(server, reference, 2000, { unit, key: lateKey });
      assertModified(last, capturePath(reference));

      server.clock.advance(1000);
      const { payment: got, events } = await readConsistent(server, reference, unit);
      assert.equal(got.state, 'AUTHORIZED');
      assert.equal(got.aggregate.cancelledAmount.value, 7000);
      const cancelled = events.at(-1) as EventBody;
      assert.deepEqual(
        [cancelled.name, cancelled.amount.value, cancelled.idempotencyKey, cancelled.success],
        ['CANCELLED', 7000, null, true],
      );

      assertProblem(await capture(server, reference, 100, { unit }), 'POST', capturePath(reference), 400, 6100);
      for (const cancelTransactionOnly of [false, true]) {
        assertProblem(await cancel(server, reference, { unit, body: { cancelTransactionOnly } }), 'POST', cancelPath(reference), 400, 6030);
      }
      // The stored outcome of a key outlives the deadline (§12.1); refunds go on (365 days).
      const replay = await capture(server, reference, 2000, { unit, key: lateKey });
      assert.deepEqual([replay.status, replay.body], [200, last.body]);
      assertModified(await refund(server, reference, 3000, { unit }), refundPath(reference));
      const after = await readConsistent(server, reference, unit);
      assert.deepEqual(after.aggregate, { authorized: 10000, captured: 3000, cancelled: 7000, refunded: 3000 });
      assert.equal(after.events.filter((e) => e.name === 'CANCELLED').length, 1);
    });
  }

  test('Denmark with late capture: 180 days', async () => {
    const unit = await addSalesUnit(server, 'DK', { lateCapture: true });
    const reference = await authorizedPayment(server, 10000, unit);
    server.clock.advance(14 * DAY);
    assertModified(await capture(server, reference, 1000, { unit }), capturePath(reference));
    server.clock.advance(166 * DAY - 1000);
    assertModified(await capture(server, reference, 1000, { unit }), capturePath(reference));
    server.clock.advance(1000);
    assertProblem(await capture(server, reference, 1000, { unit }), 'POST', capturePath(reference), 400, 6100);
    const { aggregate } = await readConsistent(server, reference, unit);
    assert.deepEqual(aggregate, { authorized: 10000, captured: 2000, cancelled: 8000, refunded: 0 });
  });

  test('a capture refused after the deadline still leaves the automatic CANCELLED event behind', async () => {
    const reference = await authorizedPayment(server, 10000, DK);
    server.clock.advance(14 * DAY);
    assertProblem(await capture(server, reference, 100, { unit: DK }), 'POST', capturePath(reference), 400, 6100);
    const payment = await stored(reference, DK);
    assert.equal(payment.aggregate.cancelled, 10000, 'written by the refused capture itself');
    const { events } = await readConsistent(server, reference, DK);
    assert.deepEqual(
      events.map((e) => [e.name, e.idempotencyKey]),
      [
        ['CREATED', events[0]?.idempotencyKey],
        ['AUTHORIZED', events[0]?.idempotencyKey],
        ['CANCELLED', null],
      ],
    );
  });

  test('the sweeper cancels the remainder at the deadline, once; nothing is cancelled when nothing remains', async () => {
    const partly = await authorizedPayment(server, 10000, DK);
    const fully = await authorizedPayment(server, 10000, DK);
    assertModified(await capture(server, partly, 4000, { unit: DK }), capturePath(partly));
    assertModified(await capture(server, fully, 10000, { unit: DK }), capturePath(fully));
    server.clock.advance(14 * DAY);
    assert.ok((await server.sweep()) >= 1);
    assert.equal(await server.sweep(), 0);
    const swept = await stored(partly, DK);
    assert.deepEqual(swept.aggregate, { authorized: 10000, captured: 4000, cancelled: 6000, refunded: 0 });
    const partlyEvents = await listEvents(server.ctx.db, swept.id);
    assert.deepEqual(
      partlyEvents.slice(2).map((e) => [e.name, e.amount, e.idempotencyKey]),
      [
        ['CAPTURED', 4000, partlyEvents[2]?.idempotencyKey],
        ['CANCELLED', 6000, null],
      ],
    );
    await readConsistent(server, partly, DK);
    const untouched = await readConsistent(server, fully, DK);
    assert.deepEqual(untouched.aggregate, { authorized: 10000, captured: 10000, cancelled: 0, refunded: 0 });
    assert.ok(!untouched.events.some((e) => e.name === 'CANCELLED'));
  });
});

describe('refund window (spec §11.6, open question 13)', () => {
  test('refunds are possible for 365 days from authorization, then 6220', async () => {
    const reference = await authorizedPayment(server, 10000);
    server.clock.advance(10 * DAY); // captured later: the window still counts from authorization
    assertModified(await capture(server, reference, 10000), capturePath(reference));
    server.clock.advance(355 * DAY - 1000);
    assertModified(await refund(server, reference, 1000), refundPath(reference));
    server.clock.advance(1000);
    const late = await refund(server, reference, 1000);
    assertProblem(late, 'POST', refundPath(reference), 400, 6220);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.refunded, 1000);
  });
});

describe('captureGuaranteedUntil (spec §11.6)', () => {
  const cases: { label: string; unit: DemoSalesUnit; phone: string; guaranteeDays: number }[] = [
    { label: 'Norway, Visa (7 days)', unit: NO, phone: '4791234567', guaranteeDays: 7 },
    { label: 'Norway, Mastercard (30 days, within 180)', unit: NO, phone: '358401234567', guaranteeDays: 30 },
    { label: 'Denmark, Dankort (14 days = deadline)', unit: DK, phone: '4511223344', guaranteeDays: 14 },
    { label: 'Finland, Mastercard (30 days, capped at the 14-day deadline)', unit: FI, phone: '358401234567', guaranteeDays: 14 },
  ];
  for (const { label, unit, phone, guaranteeDays } of cases) {
    test(label, async () => {
      const created = await server.createPayment({}, { unit });
      const approved = await server.approve(created.reference, unit, { customer: { phoneNumber: phone } });
      assert.equal(approved.status, 200, approved.text);
      const payment = await stored(created.reference, unit);
      const authorizedAt = payment.authorizedAt?.getTime() ?? 0;
      assert.equal(payment.captureGuaranteedUntil?.getTime(), authorizedAt + guaranteeDays * DAY);
      assert.ok((payment.captureGuaranteedUntil?.getTime() ?? 0) <= (payment.captureDeadline?.getTime() ?? 0));
      const got = await server.call('GET', paymentPath(created.reference), { unit });
      assertMatchesOpenApi('GET', paymentPath(created.reference), 200, got.body);
      assert.equal(new Date(got.body.captureGuaranteedUntil).getTime(), authorizedAt + guaranteeDays * DAY);
    });
  }
});
