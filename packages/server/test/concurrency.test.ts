/**
 * Concurrent requests on one payment (spec §12.1, §13.4): identical requests have one effect,
 * competing ones never over-capture, time-driven transitions happen once however many requests and
 * sweeps race for them, and the aggregate always equals the event log. These matter on PostgreSQL,
 * where requests really run in parallel on several connections and serialize on the payment's row
 * lock; run this file with DATABASE_URL set as well as without.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyTransition } from '../src/operations/applyTransition.ts';
import type { SalesUnit } from '../src/payments/salesUnits.ts';
import { capturePayment } from '../src/payments/stateMachine.ts';
import { findSalesUnit } from '../src/store/merchantsStore.ts';
import { findPayment, lockPayment, updatePayment } from '../src/store/paymentsStore.ts';
import {
  assertModified,
  assertProblem,
  authorizedPayment,
  cancel,
  capture,
  DAY,
  errorCodeOf,
  MINUTE,
  paymentPath,
  readConsistent,
  refund,
} from './support/payments.ts';
import type { Reply } from './support/testServer.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const N = 12;
const capturePath = (reference: string) => `${paymentPath(reference)}/capture`;

function allAtOnce<T>(n: number, call: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => call(i)));
}

/** Every reply is a success or one of the refusals a loser may get; never a 5xx. */
function outcomes(replies: Reply[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const reply of replies) {
    assert.ok(reply.status < 500, reply.text);
    const label = reply.status === 200 ? '200' : `${reply.status}/${errorCodeOf(reply)}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

describe('identical requests at once have one effect', () => {
  test(`${N} identical captures (same key and body): all answer the same 200, one CAPTURED event`, async () => {
    const reference = await authorizedPayment(server, 10000);
    const replies = await allAtOnce(N, () => capture(server, reference, 2500, { key: `${reference}-same` }));
    for (const reply of replies) {
      assertModified(reply, capturePath(reference));
      assert.deepEqual(reply.body, replies[0]?.body);
    }
    const { aggregate, events } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, 2500);
    assert.equal(events.filter((e) => e.name === 'CAPTURED').length, 1);
  });

  test(`${N} captures with one key and different amounts: one effect, the others 409/4010`, async () => {
    const reference = await authorizedPayment(server, 10000);
    const replies = await allAtOnce(N, (i) => capture(server, reference, 100 + i, { key: `${reference}-one` }));
    const counts = outcomes(replies);
    assert.equal(counts.get('200'), 1, JSON.stringify([...counts]));
    assert.equal((counts.get('409/4010') ?? 0) + (counts.get('423/6160') ?? 0), N - 1);
    const winner = replies.find((r) => r.status === 200);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, winner?.body.aggregate.capturedAmount.value);
  });

  test(`${N} cancels without a key: one CANCELLED event, the others 6190`, async () => {
    const reference = await authorizedPayment(server, 10000);
    const counts = outcomes(await allAtOnce(N, () => cancel(server, reference)));
    assert.equal(counts.get('200'), 1, JSON.stringify([...counts]));
    assert.equal((counts.get('400/6190') ?? 0) + (counts.get('423/6160') ?? 0), N - 1);
    const { events } = await readConsistent(server, reference);
    assert.equal(events.filter((e) => e.name === 'CANCELLED').length, 1);
  });

  test(`${N} force approves: one authorization, the others 10010`, async () => {
    const created = await server.createPayment();
    const counts = outcomes(await allAtOnce(N, () => server.approve(created.reference)));
    assert.equal(counts.get('200'), 1, JSON.stringify([...counts]));
    assert.equal((counts.get('400/10010') ?? 0) + (counts.get('423/6160') ?? 0), N - 1);
    const { events } = await readConsistent(server, created.reference);
    assert.equal(events.filter((e) => e.name === 'AUTHORIZED').length, 1);
  });
});

describe('competing requests never break the aggregate', () => {
  test(`${N} different captures whose sum exceeds the authorization: never over-captured`, async () => {
    const reference = await authorizedPayment(server, 10000);
    const amounts = Array.from({ length: N }, (_, i) => 1500 + 250 * i); // sum 37 500
    const replies = await allAtOnce(N, (i) => capture(server, reference, amounts[i] as number));
    const counts = outcomes(replies);
    for (const label of counts.keys()) assert.ok(['200', '400/6090', '400/6170', '423/6160'].includes(label), label);
    const won = amounts.filter((_, i) => replies[i]?.status === 200).reduce((a, b) => a + b, 0);
    const { aggregate, events } = await readConsistent(server, reference);
    assert.ok(won <= 10000, `captured ${won}`);
    assert.equal(aggregate.captured, won);
    assert.equal(events.filter((e) => e.name === 'CAPTURED').length, counts.get('200'));
    // Serialized, each loser saw the winners' aggregate: what is left is less than every refused amount.
    const left = 10000 - won;
    amounts.forEach((amount, i) => {
      if (replies[i]?.status !== 200 && errorCodeOf(replies[i] as Reply) === 6090) assert.ok(amount > left);
    });
  });

  test('captures, refunds and a cancel at once: invariants hold and the aggregate equals the events', async () => {
    const reference = await authorizedPayment(server, 20000);
    assertModified(await capture(server, reference, 5000), capturePath(reference));
    const replies = await Promise.all([
      ...Array.from({ length: 5 }, () => capture(server, reference, 3000)),
      ...Array.from({ length: 5 }, () => refund(server, reference, 1500)),
      cancel(server, reference),
      cancel(server, reference, { body: { cancelTransactionOnly: true } }),
    ]);
    outcomes(replies);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured + aggregate.cancelled, 20000, 'the cancel released whatever was left');
    assert.ok(aggregate.refunded <= aggregate.captured);
    assertProblem(replies.at(-1) as Reply, 'POST', `${paymentPath(reference)}/cancel`, 400, 6060);
  });

  test('approve and cancel racing on a CREATED payment: one story or the other, never both', async () => {
    for (const cancelTransactionOnly of [true, false]) {
      const created = await server.createPayment();
      const [approved, cancelled] = await Promise.all([
        server.approve(created.reference),
        cancel(server, created.reference, { body: { cancelTransactionOnly } }),
      ]);
      const { payment, events } = await readConsistent(server, created.reference);
      const names = events.map((e) => e.name);
      if (payment.state === 'TERMINATED') {
        assert.equal(errorCodeOf(approved), 10010);
        assert.deepEqual(names, ['CREATED', 'TERMINATED']);
      } else {
        assert.equal(payment.state, 'AUTHORIZED');
        assert.equal(approved.status, 200);
        if (cancelTransactionOnly) {
          assert.equal(errorCodeOf(cancelled), 6060, 'a POS cancel never releases what the user just approved');
          assert.deepEqual(names, ['CREATED', 'AUTHORIZED']);
        } else {
          assert.equal(cancelled.status, 200);
          assert.deepEqual(names, ['CREATED', 'AUTHORIZED', 'CANCELLED']);
        }
      }
    }
  });

  test('a request arriving while another transaction holds the payment waits for it and sees its result', async () => {
    const reference = await authorizedPayment(server, 10000);
    const unit = (await findSalesUnit(server.ctx.db, NO.msn)) as SalesUnit;
    let waiting: Promise<Reply> | undefined;
    await server.ctx.db.transaction(async (tx) => {
      const payment = await lockPayment(tx, NO.msn, reference);
      assert.ok(payment);
      waiting = capture(server, reference, 6000); // blocks on the row lock (PostgreSQL) or the connection (PGlite)
      const now = server.clock.now();
      await applyTransition(tx, capturePayment(payment, unit, 5000, 'held-capture', now), now);
    });
    assertProblem(await (waiting as Promise<Reply>), 'POST', capturePath(reference), 400, 6090);
    const { aggregate } = await readConsistent(server, reference);
    assert.equal(aggregate.captured, 5000);
  });

  // PGlite has a single connection, so a second transaction can never find the row locked there: the
  // 423 path exists only on PostgreSQL, and this test runs when the suite runs on it.
  if (process.env.DATABASE_URL) {
    test('a payment locked for longer than the lock wait → 423/6160, not stored against the key', async () => {
      const reference = await authorizedPayment(server, 10000);
      const key = `${reference}-locked`;
      await server.ctx.db.transaction(async (tx) => {
        assert.ok(await lockPayment(tx, NO.msn, reference));
        const locked = await capture(server, reference, 1000, { key });
        assertProblem(locked, 'POST', capturePath(reference), 423, 6160);
        assert.equal(locked.body.detail, 'Order locked and is already processing.');
      });
      assertModified(await capture(server, reference, 1000, { key }), capturePath(reference));
      const { aggregate } = await readConsistent(server, reference);
      assert.equal(aggregate.captured, 1000);
    });
  }

  test('the database itself refuses an over-capture (check constraints guard the state machine)', async () => {
    const reference = await authorizedPayment(server, 10000);
    const payment = await findPayment(server.ctx.db, NO.msn, reference);
    assert.ok(payment);
    const over = { ...payment, aggregate: { ...payment.aggregate, captured: 10001 } };
    await assert.rejects(updatePayment(server.ctx.db, over), { code: '23514' });
    const overRefund = { ...payment, aggregate: { ...payment.aggregate, captured: 100, refunded: 101 } };
    await assert.rejects(updatePayment(server.ctx.db, overRefund), { code: '23514' });
    const { aggregate } = await readConsistent(server, reference);
    assert.deepEqual(aggregate, { authorized: 10000, captured: 0, cancelled: 0, refunded: 0 });
  });
});

describe('time-driven transitions happen once, however many race for them', () => {
  test('expiry: sweeps, reads, a capture, a cancel and a force approve at the expiry instant → one EXPIRED event', async () => {
    const created = await server.createPayment();
    server.clock.advance(10 * MINUTE);
    const path = paymentPath(created.reference);
    const replies = await Promise.all([
      server.sweep(),
      server.sweep(),
      ...Array.from({ length: 4 }, () => server.call('GET', path)),
      ...Array.from({ length: 2 }, () => server.call('GET', `${path}/events`)),
      capture(server, created.reference, 100),
      cancel(server, created.reference),
      server.approve(created.reference),
    ]);
    for (const reply of replies.slice(2) as Reply[]) assert.ok(reply.status < 500, reply.text);
    const { payment, events } = await readConsistent(server, created.reference);
    assert.equal(payment.state, 'EXPIRED');
    assert.deepEqual(
      events.map((e) => e.name),
      ['CREATED', 'EXPIRED'],
    );
  });

  test('capture deadline: sweeps, reads and modifications at the deadline → one automatic CANCELLED event', async () => {
    const reference = await authorizedPayment(server, 10000, DK);
    assertModified(await capture(server, reference, 1000, { unit: DK }), capturePath(reference));
    server.clock.advance(14 * DAY);
    const path = paymentPath(reference);
    const replies = await Promise.all([
      server.sweep(),
      server.sweep(),
      ...Array.from({ length: 4 }, () => server.call('GET', path, { unit: DK })),
      ...Array.from({ length: 3 }, () => capture(server, reference, 100, { unit: DK })),
      cancel(server, reference, { unit: DK }),
      refund(server, reference, 500, { unit: DK }),
    ]);
    const counts = outcomes(replies.slice(6) as Reply[]);
    assert.equal(counts.get('400/6100'), 3, JSON.stringify([...counts]));
    assert.equal(counts.get('400/6030'), 1);
    assert.equal(counts.get('200'), 1, 'the refund');
    const { aggregate, events } = await readConsistent(server, reference, DK);
    assert.deepEqual(aggregate, { authorized: 10000, captured: 1000, cancelled: 9000, refunded: 500 });
    assert.equal(events.filter((e) => e.name === 'CANCELLED').length, 1);
  });
});
