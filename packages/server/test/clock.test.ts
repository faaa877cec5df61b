/**
 * Time control (docs/time-and-faults.md): POST /kassa/v1/clock moves one sales unit's clock or the
 * global one, forward only, and everything that depends on time follows — expiry, capture deadlines,
 * token expiry, webhook retries, the request log. Each test uses sales units of its own, so moving
 * their clocks touches no other test.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DemoSalesUnit } from '../src/seed.ts';
import { findPayment, listEvents } from '../src/store/paymentsStore.ts';
import { addSalesUnit, authorizedPayment, capture, DAY, MINUTE, money, paymentPath, readConsistent } from './support/payments.ts';
import { assertFieldErrors, assertProblem } from './support/problems.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const CLOCK = '/kassa/v1/clock';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

interface ClockView {
  wallClock: string;
  global: { now: string; offsetMs: number };
  salesUnits: { msn: string; now: string; offsetMs: number; aheadOfGlobalMs: number }[];
}

async function moveClock(unit: DemoSalesUnit, body: Record<string, unknown>): Promise<ClockView> {
  const reply = await server.call<ClockView>('POST', CLOCK, { unit, body });
  assert.equal(reply.status, 200, reply.text);
  return reply.body;
}

function unitIn(view: ClockView, unit: DemoSalesUnit) {
  const found = view.salesUnits.find((u) => u.msn === unit.msn);
  assert.ok(found, `the view shows sales unit ${unit.msn}: ${JSON.stringify(view)}`);
  return found;
}

async function stateOf(reference: string, unit: DemoSalesUnit): Promise<string | undefined> {
  return (await findPayment(server.ctx.db, unit.msn, reference))?.state;
}

test("advancing one sales unit's clock expires its payments, and no other unit's", async () => {
  const [moved, still] = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  const read = await server.createPayment({}, { unit: moved });
  const swept = await server.createPayment({}, { unit: moved });
  const other = await server.createPayment({}, { unit: still });

  const view = await moveClock(moved, { msn: moved.msn, advanceSeconds: 600 });
  assert.deepEqual(
    view.salesUnits.map((u) => [u.msn, u.aheadOfGlobalMs]),
    [[moved.msn, 600_000]],
    'the keys see their own unit',
  );
  const movedNow = Date.parse(unitIn(view, moved).now);
  assert.equal(movedNow - Date.parse(view.global.now), 600_000);
  assert.equal(server.clock.nowMs(moved.msn) - server.clock.nowMs(), 600_000, 'the process clock follows at once');
  assert.equal(server.clock.nowMs(still.msn), server.clock.nowMs(), 'other units stay on global time');

  // Lazily, when a request touches the payment ...
  const { payment, events } = await readConsistent(server, read.reference, moved);
  assert.equal(payment.state, 'EXPIRED');
  assert.deepEqual(
    events.map((e) => e.name),
    ['CREATED', 'EXPIRED'],
  );
  assert.ok(Date.parse(events[1]?.timestamp ?? '') >= movedNow, 'the event carries the unit’s time');
  // ... and by the sweeper, which reads each payment on its own unit's clock.
  assert.equal(await server.sweep(), 1);
  assert.equal(await stateOf(swept.reference, moved), 'EXPIRED');
  assert.equal(await stateOf(other.reference, still), 'CREATED');
  assert.equal((await readConsistent(server, other.reference, still)).payment.state, 'CREATED');

  // New payments of the moved unit live on its time: created at it, expiring 10 minutes after it.
  const fresh = await server.createPayment({}, { unit: moved });
  const stored = await findPayment(server.ctx.db, moved.msn, fresh.reference);
  assert.ok(stored && Math.abs(stored.createdAt.getTime() - server.clock.nowMs(moved.msn)) < 5000);
  assert.equal(stored?.expiresAt.getTime(), (stored?.createdAt.getTime() ?? 0) + 10 * MINUTE);

  // The request log dates a unit's calls on that unit's clock (the checklist compares them with deadlines).
  await server.requestLog.flush();
  const { rows } = await server.ctx.db.query<{ at: Date }>(
    "select at from request_log where msn = $1 and method = 'POST' and reference = $2",
    [moved.msn, fresh.reference],
  );
  assert.equal(rows.length, 1);
  assert.ok(Math.abs((rows[0]?.at.getTime() ?? 0) - (stored?.createdAt.getTime() ?? 0)) < 5000);
});

test("setting a unit's clock past the capture deadline cancels the uncaptured remainder; time never goes back", async () => {
  const unit = await addSalesUnit(server, 'DK', {});
  const reference = await authorizedPayment(server, 10000, unit);
  const captured = await capture(server, reference, 4000, { unit });
  assert.equal(captured.status, 200, captured.text);
  const deadline = (await findPayment(server.ctx.db, unit.msn, reference))?.captureDeadline;
  assert.ok(deadline, 'an authorized payment has a capture deadline');

  const justBefore = new Date(deadline.getTime() - 1000).toISOString();
  const view = await moveClock(unit, { msn: unit.msn, set: justBefore });
  assert.ok(Math.abs(Date.parse(unitIn(view, unit).now) - Date.parse(justBefore)) < 1000);
  assert.equal(await server.sweep(), 0, 'a second before the deadline nothing is due');

  await moveClock(unit, { msn: unit.msn, advanceSeconds: 1 });
  assert.equal(await server.sweep(), 1);
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  const events = await listEvents(server.ctx.db, payment?.id ?? 0);
  assert.deepEqual(
    events.map((e) => [e.name, e.amount]),
    [
      ['CREATED', 10000],
      ['AUTHORIZED', 10000],
      ['CAPTURED', 4000],
      ['CANCELLED', 6000],
    ],
  );
  const { aggregate } = await readConsistent(server, reference, unit);
  assert.deepEqual(aggregate, { authorized: 10000, captured: 4000, cancelled: 6000, refunded: 0 });
  const late = await capture(server, reference, 1000, { unit });
  assert.equal(late.status, 400);

  // Backwards is refused, for the unit and for global time.
  const back = await server.call('POST', CLOCK, { unit, body: { msn: unit.msn, set: justBefore } });
  assertProblem(back, 409, 'POST', CLOCK);
  assert.match(back.body.detail, /only moves forward/);
  const yesterday = new Date(Date.now() - DAY).toISOString();
  assertProblem(await server.call('POST', CLOCK, { unit, body: { set: yesterday } }), 409, 'POST', CLOCK);
});

test('access tokens expire on the clock of their key set’s sales unit', async () => {
  const [moved, still] = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  const tokens = new Map<DemoSalesUnit, string>();
  for (const unit of [moved, still]) tokens.set(unit, await server.token(unit));
  const getWith = (unit: DemoSalesUnit, token: string) =>
    server.call('GET', paymentPath('no-such-payment-1'), { unit, headers: { Authorization: `Bearer ${token}` } });

  await moveClock(moved, { msn: moved.msn, advanceSeconds: 3600 });
  const expired = await getWith(moved, tokens.get(moved) as string);
  assertProblem(expired, 401, 'GET', paymentPath('no-such-payment-1'));
  assert.match(expired.body.detail, /expired/);
  assert.equal((await getWith(still, tokens.get(still) as string)).status, 404, 'the other unit’s token is still good');

  // A new token is issued on the unit's time, so it is good there for the usual hour.
  const issued = await server.call('POST', '/accesstoken/get', {
    anonymous: true,
    headers: { client_id: moved.clientId, client_secret: moved.clientSecret, 'Ocp-Apim-Subscription-Key': moved.subscriptionKey },
  });
  assert.equal(issued.status, 200, issued.text);
  assert.ok(Math.abs(Number(issued.body.not_before) * 1000 - server.clock.nowMs(moved.msn)) < 5000);
  assert.equal((await getWith(moved, issued.body.access_token)).status, 404);
});

test("webhook retries come due on the clock of the event's sales unit", async () => {
  const [moved, other] = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  const receiver = await WebhookReceiver.start({ answer: (_request, index) => ({ status: index === 0 ? 503 : 200 }) });
  try {
    const registered = await server.call('POST', '/webhooks/v1/webhooks', {
      unit: moved,
      body: { url: receiver.url, events: ['epayments.payment.created.v1'] },
    });
    assert.equal(registered.status, 201, registered.text);
    const { reference } = await server.createPayment({}, { unit: moved });
    assert.equal(await server.deliverWebhooks(), 1);
    assert.equal(receiver.requests.length, 1, 'the first attempt failed; the retry waits 2 s (§4.5)');
    assert.equal(await server.deliverWebhooks(), 0);

    await moveClock(other, { msn: other.msn, advanceSeconds: 60 });
    assert.equal(await server.deliverWebhooks(), 0, 'another unit’s clock does not bring the retry');
    await moveClock(moved, { msn: moved.msn, advanceSeconds: 2 });
    assert.equal(await server.deliverWebhooks(), 1);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED']);
    const attempts = await server.call('GET', `/kassa/v1/webhooks/attempts?reference=${reference}`, { unit: moved });
    const [second, first] = attempts.body.attempts;
    assert.equal(first.httpStatus, 503);
    assert.equal(Date.parse(first.nextAttemptAt) - Date.parse(first.startedAt) >= 2000, true, 'scheduled on the unit’s time');
    assert.ok(Date.parse(second.startedAt) >= Date.parse(first.nextAttemptAt));
  } finally {
    await receiver.close();
  }
});

test('advancing global time moves every unit; setting it brings units behind it up and leaves units ahead alone', async () => {
  const [ahead, behind] = [await addSalesUnit(server, 'FI', {}), await addSalesUnit(server, 'FI', {})];
  const payment = await server.createPayment({ amount: money(behind, 1000) }, { unit: behind });
  await moveClock(ahead, { msn: ahead.msn, advanceSeconds: 2 * 3600 });
  const before = server.clock.offsetMs;

  const advanced = await moveClock(behind, { advanceSeconds: 600 });
  assert.equal(advanced.global.offsetMs - before, 600_000);
  assert.equal(unitIn(advanced, behind).aheadOfGlobalMs, 0);
  assert.equal((await readConsistent(server, payment.reference, behind)).payment.state, 'EXPIRED', 'global time expires everyone’s');
  assert.equal(server.clock.nowMs(ahead.msn) - server.clock.nowMs(), 2 * 3600_000, 'a unit ahead moves along');

  const aheadAt = server.clock.nowMs(ahead.msn);
  const target = new Date(server.clock.nowMs() + 3600_000);
  const set = await server.call<ClockView>('POST', CLOCK, { unit: ahead, body: { set: target.toISOString() } });
  assert.equal(set.status, 200, set.text);
  assert.ok(Math.abs(Date.parse(set.body.global.now) - target.getTime()) < 1000, 'global time is at the target');
  const aheadView = unitIn(set.body, ahead);
  assert.ok(Math.abs(Date.parse(aheadView.now) - aheadAt) < 1000, 'a unit past the target stays where it was');
  assert.ok(Math.abs(aheadView.aheadOfGlobalMs - 3600_000) < 1000);
  assert.ok(server.clock.nowMs(behind.msn) >= target.getTime(), 'a unit behind it arrives at it');

  const read = await server.call<ClockView>('GET', CLOCK, { unit: behind });
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(Object.keys(read.body).sort(), ['global', 'salesUnits', 'wallClock']);
  assert.ok(Math.abs(Date.parse(read.body.wallClock) - Date.now()) < 5000, 'real time is shown as well');
  assert.ok(read.body.global.offsetMs >= 3600_000);
});

test("QR codes and the customer's countdown live on their sales unit's clock", async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const poster = await server.call('POST', '/qr/v1/merchant-redirect', {
    unit,
    headers: { Accept: 'text/targetUrl' },
    body: { id: 'poster-ttl', redirectUrl: 'https://shop.example/spring', ttl: 900 },
  });
  assert.equal(poster.status, 201, poster.text);
  assert.equal(poster.body.expiresIn, 900);
  await moveClock(unit, { msn: unit.msn, advanceSeconds: 600 });
  const read = await server.call('GET', '/qr/v1/merchant-redirect/poster-ttl', { unit });
  assert.equal(read.status, 200, read.text);
  assert.ok(read.body.expiresIn <= 300 && read.body.expiresIn > 290, `10 of its 15 minutes are gone: ${read.body.expiresIn}`);

  // A payment created now expires 10 minutes after the unit's time; its one-time QR and the landing
  // page's countdown say so, although global time is 10 minutes behind.
  const payment = await server.createPayment({}, { unit });
  const oneTime = await server.call('POST', '/qr/v1', {
    unit,
    headers: { Accept: 'text/targetUrl' },
    body: { url: payment.body.redirectUrl },
  });
  assert.equal(oneTime.status, 200, oneTime.text);
  assert.ok(oneTime.body.expiresIn <= 600 && oneTime.body.expiresIn > 590, `expiresIn ${oneTime.body.expiresIn}`);
  const token = new URL(payment.body.redirectUrl).searchParams.get('token');
  const sent = await fetch(`${server.url}/landing`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: token ?? '', phone: '4791234567' }),
    redirect: 'manual',
  });
  assert.equal(sent.status, 303, await sent.text());
  const waiting = await (await fetch(`${server.url}${sent.headers.get('location')}`)).text();
  const secondsLeft = Number(/data-seconds-left="(\d+)"/.exec(waiting)?.[1]);
  assert.ok(secondsLeft <= 600 && secondsLeft > 590, `the countdown starts at 10 minutes: ${secondsLeft}`);

  await moveClock(unit, { msn: unit.msn, advanceSeconds: 301 });
  const gone = await server.call('GET', '/qr/v1/merchant-redirect/poster-ttl', { unit });
  assert.equal(gone.status, 404, 'expired on the unit’s clock, though not on global time');
  const printed = await fetch(poster.body.url, { redirect: 'manual' });
  assert.equal(printed.status, 404, 'a camera that scans it finds nothing either');
});

test('the clock API refuses what it cannot do, with Problems', async () => {
  const [mine, theirs] = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  assertFieldErrors(await server.call('POST', CLOCK, { unit: mine, body: {} }), 'POST', CLOCK, ['advanceSeconds']);
  assertFieldErrors(
    await server.call('POST', CLOCK, { unit: mine, body: { advanceSeconds: 1, set: '2030-01-01T00:00:00Z' } }),
    'POST',
    CLOCK,
    ['advanceSeconds'],
  );
  assertFieldErrors(
    await server.call('POST', CLOCK, { unit: mine, body: { advanceSeconds: -5, set: 'tomorrow', minutes: 3 } }),
    'POST',
    CLOCK,
    ['advanceSeconds', 'set', 'minutes'],
  );
  assertFieldErrors(await server.call('POST', CLOCK, { unit: mine, body: { advanceSeconds: 1e12 } }), 'POST', CLOCK, ['advanceSeconds']);
  assertFieldErrors(await server.call('POST', CLOCK, { unit: mine, body: { msn: 'abc', advanceSeconds: 1 } }), 'POST', CLOCK, ['msn']);
  const foreign = await server.call('POST', CLOCK, { unit: mine, body: { msn: theirs.msn, advanceSeconds: 1 } });
  assertProblem(foreign, 403, 'POST', CLOCK);
  assert.equal(server.clock.nowMs(theirs.msn), server.clock.nowMs(), 'nothing moved');
  assertProblem(await server.call('POST', CLOCK, { anonymous: true, body: { advanceSeconds: 1 } }), 401, 'POST', CLOCK);
  assertProblem(await server.call('GET', CLOCK, { anonymous: true }), 401, 'GET', CLOCK);
  assertProblem(
    await server.call('POST', CLOCK, { unit: mine, raw: 'advance please', headers: { 'Content-Type': 'text/plain' } }),
    415,
    'POST',
    CLOCK,
  );
});
