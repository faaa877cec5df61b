/**
 * The payment tracker: first poll 5 s after creation, then every 2 s, stop at a final state or after the
 * payment's time plus a minute (platform-guidelines §5); each state change reported once, whichever of
 * webhook and poll saw it first. A real HTTP server answers the polls; time is a ManualScheduler.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { type Client, createClient, createPaymentTracker, type PaymentTracker, type StateChange, type WebhookEvent } from '../src/index.ts';
import { ManualScheduler } from '../src/scheduler.ts';
import { captureLogs, type LogCapture } from './support/logCapture.ts';
import { type MisbehavingServer, problem, respond, startMisbehavingServer } from './support/misbehavingServer.ts';

const REF = 'order-2002-tracker';
const PATH = `/epayment/v1/payments/${REF}`;

function payment(state: string) {
  const amount = { currency: 'NOK', value: 10000 };
  const zero = { currency: 'NOK', value: 0 };
  return {
    aggregate: {
      authorizedAmount: state === 'AUTHORIZED' ? amount : zero,
      cancelledAmount: zero,
      capturedAmount: zero,
      refundedAmount: zero,
    },
    amount,
    state,
    paymentMethod: { type: 'WALLET' },
    profile: {},
    pspReference: 'payment-psp-ref',
    reference: REF,
  };
}

function webhook(name: WebhookEvent['name'], pspReference: string, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    msn: '123456',
    reference: REF,
    pspReference,
    name,
    amount: { currency: 'NOK', value: 10000 },
    timestamp: '2026-01-05T09:00:03.000Z',
    idempotencyKey: null,
    success: true,
    ...overrides,
  };
}

let server: MisbehavingServer;
let scheduler: ManualScheduler;
let logs: LogCapture;
let client: Client;
let tracker: PaymentTracker;
let changes: StateChange[];

before(async () => {
  server = await startMisbehavingServer();
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  scheduler = new ManualScheduler();
  logs = captureLogs();
  changes = [];
  client = createClient({
    baseUrl: server.url,
    clientId: 'c',
    clientSecret: 's',
    subscriptionKey: 'k',
    merchantSerialNumber: '123456',
    scheduler,
    // The tracker does its own pacing of failed polls (Retry-After); one attempt per poll keeps that visible.
    retry: { maxAttempts: 1 },
  });
  tracker = createPaymentTracker({
    epayment: client.epayment,
    scheduler,
    logger: logs.logger,
    onChange: (change) => void changes.push(change),
  });
});

const polls = () => server.requestsTo('GET', PATH).length;

async function advance(ms: number, tracking: { idle(): Promise<void> }): Promise<void> {
  await scheduler.advance(ms);
  await tracking.idle();
}

test('the first poll comes 5 s after creation, then every 2 s; CREATED is reported once, AUTHORIZED ends it', async () => {
  server.script('GET', PATH, respond(200, payment('CREATED')), respond(200, payment('CREATED')), respond(200, payment('AUTHORIZED')));
  const tracking = tracker.track(REF);
  await advance(4999, tracking);
  assert.equal(polls(), 0, 'no poll before 5 s');
  await advance(1, tracking);
  assert.equal(polls(), 1);
  assert.deepEqual(
    changes.map((c) => [c.state, c.source]),
    [['CREATED', 'poll']],
  );
  await advance(1999, tracking);
  assert.equal(polls(), 1, 'next poll 2 s later, not sooner');
  await advance(1, tracking);
  assert.equal(polls(), 2);
  assert.equal(changes.length, 1, 'CREATED again is no change');
  await advance(2000, tracking);
  assert.equal(polls(), 3);
  const outcome = await tracking.done;
  assert.equal(outcome.state, 'AUTHORIZED');
  assert.equal(outcome.final, true);
  assert.equal(outcome.timedOut, false);
  assert.deepEqual(
    changes.map((c) => [c.previous, c.state]),
    [
      [undefined, 'CREATED'],
      ['CREATED', 'AUTHORIZED'],
    ],
  );
  await advance(60_000, tracking);
  assert.equal(polls(), 3, 'no polling after a final state');
  assert.equal(scheduler.pendingTimers, 0);
});

test('a webhook that arrives first reports the change; the same event delivered again reports nothing', async () => {
  server.script('GET', PATH, respond(200, payment('AUTHORIZED')));
  const tracking = tracker.track(REF);
  await advance(3000, tracking);
  assert.equal(tracker.handleWebhook(webhook('CREATED', 'psp-created')), true);
  assert.equal(tracker.handleWebhook(webhook('CREATED', 'psp-created')), false, 'duplicate delivery');
  assert.equal(tracker.handleWebhook(webhook('AUTHORIZED', 'psp-authorized')), true);
  assert.equal(tracker.handleWebhook(webhook('AUTHORIZED', 'psp-authorized')), false);
  const outcome = await tracking.done;
  assert.equal(outcome.state, 'AUTHORIZED');
  assert.deepEqual(
    changes.map((c) => [c.state, c.source]),
    [
      ['CREATED', 'webhook'],
      ['AUTHORIZED', 'webhook'],
    ],
  );
  assert.equal(changes[1]?.event?.pspReference, 'psp-authorized');
  await advance(10_000, tracking);
  assert.equal(polls(), 0, 'the webhook made polling unnecessary');
});

test('when the poll sees it first, the later webhook for the same change is not reported again', async () => {
  server.script('GET', PATH, respond(200, payment('CREATED')), respond(200, payment('AUTHORIZED')));
  const tracking = tracker.track(REF);
  await advance(5000, tracking);
  assert.equal(tracker.handleWebhook(webhook('CREATED', 'psp-created')), false, 'CREATED was already seen by the poll');
  await advance(2000, tracking);
  await tracking.done;
  assert.equal(tracker.handleWebhook(webhook('AUTHORIZED', 'psp-authorized')), false, 'already reported, and no longer tracked');
  assert.deepEqual(
    changes.map((c) => [c.state, c.source]),
    [
      ['CREATED', 'poll'],
      ['AUTHORIZED', 'poll'],
    ],
  );
});

test('a final state never moves back: a late CREATED delivery after ABORTED is ignored', async () => {
  const tracking = tracker.track(REF);
  assert.equal(tracker.handleWebhook(webhook('ABORTED', 'psp-aborted')), true);
  assert.equal((await tracking.done).state, 'ABORTED');
  assert.equal(tracker.handleWebhook(webhook('CREATED', 'psp-created')), false);
  assert.deepEqual(
    changes.map((c) => c.state),
    ['ABORTED'],
  );
});

test('a webhook that is not a state change triggers a poll at once; other sales units and failed events change nothing', async () => {
  server.script('GET', PATH, respond(200, payment('AUTHORIZED')));
  const tracking = tracker.track(REF, { msn: '123456' });
  await advance(1000, tracking);
  assert.equal(tracker.handleWebhook(webhook('AUTHORIZED', 'other-unit', { msn: '654321' })), false, 'same reference, other sales unit');
  assert.equal(
    tracker.handleWebhook(webhook('AUTHORIZED', 'failed', { success: false })),
    false,
    'an unsuccessful event is no state change',
  );
  await advance(0, tracking);
  assert.equal(polls(), 1, 'the failed event made the tracker read the truth at once');
  assert.equal((await tracking.done).state, 'AUTHORIZED');
  assert.deepEqual(
    changes.map((c) => [c.state, c.source]),
    [['AUTHORIZED', 'poll']],
  );
});

test('polling stops when the payment time is up plus a minute, without a final state', async () => {
  server.script('GET', PATH, respond(200, payment('CREATED')));
  const start = scheduler.now();
  const tracking = tracker.track(REF);
  // Step through the 11 minutes poll by poll (each poll is a real HTTP exchange).
  await advance(5000, tracking);
  for (let t = 5000; t + 2000 < 11 * 60_000; t += 2000) await advance(2000, tracking);
  await advance(11 * 60_000 - 1 - scheduler.now() + start, tracking);
  const pollsBefore = polls();
  assert.equal(pollsBefore, 1 + Math.floor((11 * 60_000 - 1 - 5000) / 2000), 'every 2 s from 5 s on');
  assert.equal(tracker.tracked().includes(REF), true);
  await advance(1, tracking);
  const outcome = await tracking.done;
  assert.equal(outcome.timedOut, true);
  assert.equal(outcome.final, false);
  assert.equal(outcome.state, 'CREATED');
  await advance(10_000, tracking);
  assert.equal(polls(), pollsBefore);
  assert.equal(logs.of('tracker.timed_out').length, 1);
});

test('a long-living payment is followed until its expiresAt plus a minute', async () => {
  server.script('GET', PATH, respond(200, payment('CREATED')));
  const expiresAt = new Date(scheduler.now() + 60 * 60_000).toISOString();
  const tracking = tracker.track(REF, { expiresAt });
  await advance(30 * 60_000, tracking);
  assert.equal(tracker.tracked().includes(REF), true);
  await advance(31 * 60_000, tracking);
  assert.equal((await tracking.done).timedOut, true);
});

test('a 429 on a poll is honoured: the next poll waits for Retry-After; other failures keep the 2 s rhythm', async () => {
  server.script(
    'GET',
    PATH,
    problem(429, 'Too Many Requests', undefined, { 'Retry-After': '10' }),
    problem(500, 'Internal error', 3010),
    respond(200, payment('AUTHORIZED')),
  );
  const tracking = tracker.track(REF);
  await advance(5000, tracking);
  assert.equal(polls(), 1);
  await advance(9999, tracking);
  assert.equal(polls(), 1, 'Retry-After: 10 is waited out');
  await advance(1, tracking);
  assert.equal(polls(), 2);
  await advance(2000, tracking);
  assert.equal(polls(), 3);
  assert.equal((await tracking.done).state, 'AUTHORIZED');
  assert.equal(logs.of('tracker.poll_failed').length, 2);
});

test('a 429 without Retry-After on a poll slows the polling down: the next poll waits twice the interval', async () => {
  server.script('GET', PATH, respond(429, { statusCode: 429, message: 'Rate limit is exceeded.' }), respond(200, payment('AUTHORIZED')));
  const tracking = tracker.track(REF);
  await advance(5000, tracking);
  assert.equal(polls(), 1);
  await advance(3999, tracking);
  assert.equal(polls(), 1, 'not after the usual 2 s');
  await advance(1, tracking);
  assert.equal(polls(), 2);
  assert.equal((await tracking.done).state, 'AUTHORIZED');
});

test('tracking the same reference twice shares one tracking; stop() ends it', async () => {
  const first = tracker.track(REF);
  assert.equal(tracker.track(REF), first);
  first.stop();
  const outcome = await first.done;
  assert.equal(outcome.stopped, true);
  assert.equal(scheduler.pendingTimers, 0);
  assert.deepEqual(tracker.tracked(), []);
});
