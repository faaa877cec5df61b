/**
 * Create payment and the Idempotency-Key (spec §12.1) and the reference as a guard (§12.2): replays,
 * conflicts, concurrent identical requests, and references per MSN.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  assertCreated,
  bodyFor,
  create,
  getEvents,
  getPayment,
  inFuture,
  MINUTE,
  PAYMENTS,
  receiptIn,
} from './support/createPaymentSupport.ts';
import { assertErrorCode, assertFieldErrors } from './support/problems.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function countPayments(reference: string): Promise<number> {
  const { rows } = await server.ctx.db.query<{ n: number }>('select count(*)::int as n from payments where reference = $1', [reference]);
  return rows[0]?.n ?? 0;
}

async function createdEvents(reference: string, unit = NO): Promise<number> {
  const events = await getEvents(server, reference, unit);
  assert.equal(events.status, 200, events.text);
  return events.body.filter((e: { name: string }) => e.name === 'CREATED').length;
}

test('same key and same body: the same 201 body again, no second payment and no second event', async () => {
  const body = bodyFor(NO, { metadata: { order: '981' } });
  const key = randomUUID();
  const first = await create(server, body, { key });
  assertCreated(first, body.reference as string);
  const second = await create(server, body, { key });
  assertCreated(second, body.reference as string);
  assert.equal(second.text, first.text);
  assert.equal(await countPayments(body.reference as string), 1);
  assert.equal(await createdEvents(body.reference as string), 1);
});

test('a replay answers what the first call answered, even after the payment moved on or time passed', async () => {
  // Long-living with the shortest expiry: after 5 minutes the same body would be "too soon" (6120) if
  // the rules ran again; the replay must not run them.
  const body = bodyFor(NO, { userFlow: 'QR', expiresAt: inFuture(server, 10 * MINUTE + 30_000), receipt: receiptIn('NOK') });
  delete body.returnUrl;
  const key = randomUUID();
  const first = await create(server, body, { key });
  assertCreated(first, body.reference as string);
  server.clock.advance(5 * MINUTE);
  const approved = await server.approve(body.reference as string);
  assert.equal(approved.status, 200, approved.text);
  const replay = await create(server, body, { key });
  assertCreated(replay, body.reference as string);
  assert.deepEqual(replay.body, first.body);
  assert.equal((await getPayment(server, body.reference as string)).body.state, 'AUTHORIZED');
  assert.equal(await createdEvents(body.reference as string), 1);
});

test('same key, different body (another amount, another reference): 409 with 4020', async () => {
  const body = bodyFor();
  const key = randomUUID();
  assertCreated(await create(server, body, { key }), body.reference as string);

  const otherAmount = await create(server, { ...body, amount: { currency: 'NOK', value: 20000 } }, { key });
  assertErrorCode(otherAmount, 409, 4020, 'POST', PAYMENTS);
  assert.equal(otherAmount.body.title, 'Idempotency error');
  assert.match(otherAmount.body.detail, new RegExp(key));

  const otherReference = bodyFor();
  const conflict = await create(server, otherReference, { key });
  assertErrorCode(conflict, 409, 4020, 'POST', PAYMENTS);
  assert.equal((await getPayment(server, otherReference.reference as string)).status, 404);
  assert.deepEqual((await getPayment(server, body.reference as string)).body.amount, { currency: 'NOK', value: 10000 });
});

test('an existing reference with a new key (or after the payment ended): 409 with 4150', async () => {
  const body = bodyFor();
  assertCreated(await create(server, body), body.reference as string);
  const again = await create(server, body);
  assertErrorCode(again, 409, 4150, 'POST', PAYMENTS);
  assert.match(again.body.detail, new RegExp(body.reference as string));

  // Whatever became of the first payment, the reference is never reusable (§4.1).
  const cancelled = await server.call('POST', `${PAYMENTS}/${body.reference}/cancel`, { idempotencyKey: randomUUID(), body: {} });
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal((await getPayment(server, body.reference as string)).body.state, 'TERMINATED');
  assertErrorCode(await create(server, { ...body, amount: { currency: 'NOK', value: 500 } }), 409, 4150, 'POST', PAYMENTS);
  assert.equal(await countPayments(body.reference as string), 1);
  assert.equal(await createdEvents(body.reference as string), 1);
});

test('a coded refusal stays that refusal for its key: replayed with its original body and traceId', async () => {
  const body = bodyFor(NO, { amount: { currency: 'DKK', value: 10000 } });
  const key = randomUUID();
  const first = await create(server, body, { key });
  assertErrorCode(first, 400, 5040, 'POST', PAYMENTS);
  const replay = await create(server, body, { key });
  assertErrorCode(replay, 400, 5040, 'POST', PAYMENTS);
  assert.deepEqual(replay.body, first.body);
  // The key belongs to that request now: a corrected body needs a new key.
  const corrected = { ...body, amount: { currency: 'NOK', value: 10000 } };
  assertErrorCode(await create(server, corrected, { key }), 409, 4020, 'POST', PAYMENTS);
  assertCreated(await create(server, corrected), body.reference as string);

  // A refused reuse of a reference is also stored against its key.
  const reuseKey = randomUUID();
  const reuse = await create(server, corrected, { key: reuseKey });
  assertErrorCode(reuse, 409, 4150, 'POST', PAYMENTS);
  assert.deepEqual((await create(server, corrected, { key: reuseKey })).body, reuse.body);
});

test('a schema error stays the answer for its key (open question 4): the corrected body needs a new key', async () => {
  const body = bodyFor();
  const key = randomUUID();
  const wrong = { ...body, userFlow: 'FAX' };
  assertFieldErrors(await create(server, wrong, { key }), 'POST', PAYMENTS, ['userFlow']);
  assertFieldErrors(await create(server, wrong, { key }), 'POST', PAYMENTS, ['userFlow']);
  assertErrorCode(await create(server, { ...body, paymentDescription: 'ab' }, { key }), 409, 4020, 'POST', PAYMENTS);
  assertErrorCode(await create(server, body, { key }), 409, 4020, 'POST', PAYMENTS);
  assert.equal(await countPayments(body.reference as string), 0);
  assertCreated(await create(server, body, { key: randomUUID() }), body.reference as string);
  // Only header errors: the fingerprint does not cover headers, so nothing is stored against the key.
  const next = bodyFor();
  const headerKey = randomUUID();
  const longHeader = await create(server, next, { key: headerKey, headers: { 'Vipps-System-Name': 's'.repeat(31) } });
  assertFieldErrors(longHeader, 'POST', PAYMENTS, ['Vipps-System-Name']);
  assertCreated(await create(server, next, { key: headerKey }), next.reference as string);
});

test('two identical creates at the same moment: both 201 with the same body, one payment, one CREATED event', async () => {
  for (let round = 0; round < 3; round++) {
    const body = bodyFor();
    const key = randomUUID();
    const replies = await Promise.all([create(server, body, { key }), create(server, body, { key }), create(server, body, { key })]);
    for (const reply of replies) assertCreated(reply, body.reference as string);
    assert.equal(replies[1]?.text, replies[0]?.text);
    assert.equal(replies[2]?.text, replies[0]?.text);
    assert.equal(await countPayments(body.reference as string), 1);
    assert.equal(await createdEvents(body.reference as string), 1);
  }
});

test('two creates of one reference with different keys at the same moment: one 201, one 409 / 4150', async () => {
  const body = bodyFor();
  const replies = await Promise.all([create(server, body), create(server, body)]);
  const statuses = replies.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409]);
  const loser = replies.find((r) => r.status === 409);
  assert.ok(loser);
  assertErrorCode(loser, 409, 4150, 'POST', PAYMENTS);
  assert.equal(await createdEvents(body.reference as string), 1);
});

test('forty creates at once (written together): each its own payment, event and key, each replay its own answer', async () => {
  const bodies = Array.from({ length: 40 }, () => bodyFor());
  const keys = bodies.map(() => randomUUID());
  const replies = await Promise.all(bodies.map((body, i) => create(server, body, { key: keys[i] })));
  const replays = await Promise.all(bodies.map((body, i) => create(server, body, { key: keys[i] })));
  for (const [i, body] of bodies.entries()) {
    assertCreated(replies[i] as (typeof replies)[number], body.reference as string);
    assert.equal(replays[i]?.text, replies[i]?.text);
    assert.equal(await countPayments(body.reference as string), 1);
    assert.equal(await createdEvents(body.reference as string), 1);
  }
  const tokens = new Set(replies.map((reply) => new URL(reply.body.redirectUrl).searchParams.get('token')));
  assert.equal(tokens.size, bodies.length, 'every payment has its own landing token');
});

test('one key, several references at the same moment: one payment, the others 409 / 4020 and nothing of theirs stored', async () => {
  for (let round = 0; round < 3; round++) {
    const key = randomUUID();
    const bodies = [bodyFor(), bodyFor(), bodyFor(), bodyFor()];
    const replies = await Promise.all(bodies.map((body) => create(server, body, { key })));
    const winners = replies.filter((r) => r.status === 201);
    assert.equal(winners.length, 1, replies.map((r) => `${r.status} ${r.text}`).join('\n'));
    for (const reply of replies) if (reply.status !== 201) assertErrorCode(reply, 409, 4020, 'POST', PAYMENTS);
    const stored = await Promise.all(bodies.map((body) => countPayments(body.reference as string)));
    assert.deepEqual(
      stored,
      replies.map((r) => (r.status === 201 ? 1 : 0)),
    );
  }
});
test('the same reference in two sales units is two payments; keys are per sales unit too', async () => {
  const key = randomUUID();
  const no = bodyFor(NO);
  const reference = no.reference as string;
  const dk = bodyFor(DK, { reference });
  assertCreated(await create(server, no, { key, unit: NO }), reference);
  assertCreated(await create(server, dk, { key, unit: DK }), reference);
  assert.deepEqual((await getPayment(server, reference, NO)).body.amount.currency, 'NOK');
  assert.deepEqual((await getPayment(server, reference, DK)).body.amount.currency, 'DKK');
  assert.equal(await countPayments(reference), 2);
});
