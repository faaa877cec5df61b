/**
 * Webhook fault injection (docs/time-and-faults.md), watched by a real receiver on a loopback port:
 * a delivery dropped (never sent; the payment's later events go on), duplicated (sent twice), delayed
 * (sent later, order kept) or reordered (overtaken by the payment's next event). Delays run on the
 * clock of the event's sales unit, so the tests move that clock instead of waiting. Each test uses a
 * sales unit and receiver of its own.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DemoSalesUnit } from '../src/seed.ts';
import { addSalesUnit } from './support/payments.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const CREATED = 'epayments.payment.created.v1';
const AUTHORIZED = 'epayments.payment.authorized.v1';

let server: TestServer;
const receivers: WebhookReceiver[] = [];
before(async () => {
  server = await startTestServer();
});
after(async () => {
  for (const receiver of receivers) await receiver.close();
  await server.close();
});

/** A fresh sales unit whose CREATED and AUTHORIZED events go to a fresh receiver. */
async function unitWithReceiver(): Promise<{ unit: DemoSalesUnit; receiver: WebhookReceiver }> {
  const unit = await addSalesUnit(server, 'NO', {});
  const receiver = await WebhookReceiver.start();
  receivers.push(receiver);
  const registered = await server.call('POST', '/webhooks/v1/webhooks', {
    unit,
    body: { url: receiver.url, events: [CREATED, AUTHORIZED] },
  });
  assert.equal(registered.status, 201, registered.text);
  return { unit, receiver };
}

async function addRule(unit: DemoSalesUnit, body: Record<string, unknown>): Promise<{ id: number; delayMs: number | null }> {
  const reply = await server.call('POST', '/kassa/v1/faults', { unit, body: { target: 'webhook', ...body } });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.rule;
}

async function createAndApprove(unit: DemoSalesUnit): Promise<string> {
  const created = await server.createPayment({}, { unit });
  assert.equal(created.status, 201, created.text);
  await server.deliverWebhooks();
  assert.equal((await server.approve(created.reference, unit)).status, 200);
  await server.deliverWebhooks();
  return created.reference;
}

async function advance(unit: DemoSalesUnit, seconds: number): Promise<void> {
  const moved = await server.call('POST', '/kassa/v1/clock', { unit, body: { msn: unit.msn, advanceSeconds: seconds } });
  assert.equal(moved.status, 200, moved.text);
}

interface DeliveryJson {
  id: number;
  eventType: string;
  state: string;
  fault: string | null;
  droppedReason: string | null;
  replayOf: number | null;
}

interface AttemptJson {
  eventType: string;
  outcome: string;
  httpStatus: number | null;
  final: string | null;
  fault: string | null;
  startedAt: string;
  committedAt: string;
}

/** The payment's deliveries, oldest first. */
async function deliveries(unit: DemoSalesUnit, reference: string): Promise<DeliveryJson[]> {
  const reply = await server.call('GET', `/kassa/v1/webhooks/deliveries?reference=${reference}`, { unit });
  assert.equal(reply.status, 200, reply.text);
  return (reply.body.deliveries as DeliveryJson[]).reverse();
}

/** The payment's delivery attempts, oldest first. */
async function attempts(unit: DemoSalesUnit, reference: string): Promise<AttemptJson[]> {
  const reply = await server.call('GET', `/kassa/v1/webhooks/attempts?reference=${reference}`, { unit });
  assert.equal(reply.status, 200, reply.text);
  return (reply.body.attempts as AttemptJson[]).reverse();
}

test('a dropped delivery is never sent, is recorded as dropped, and holds back none of the payment’s later events', async () => {
  const { unit, receiver } = await unitWithReceiver();
  const rule = await addRule(unit, { kind: 'drop', match: { eventType: CREATED } });
  const reference = await createAndApprove(unit);
  assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED']);

  const fault = `drop (rule ${rule.id})`;
  const [created, authorized] = await deliveries(unit, reference);
  assert.deepEqual([created?.eventType, created?.state, created?.fault, created?.droppedReason], [CREATED, 'dropped', fault, fault]);
  assert.deepEqual([authorized?.state, authorized?.fault], ['delivered', null]);
  const [dropped, sent] = await attempts(unit, reference);
  assert.deepEqual(
    [dropped?.eventType, dropped?.outcome, dropped?.httpStatus, dropped?.final, dropped?.fault],
    [CREATED, 'fault_dropped', null, 'dropped', fault],
  );
  assert.deepEqual([sent?.outcome, sent?.fault], ['delivered', null]);
});

test('a duplicated delivery reaches the receiver twice, the same event both times', async () => {
  const { unit, receiver } = await unitWithReceiver();
  const rule = await addRule(unit, { kind: 'duplicate', match: { eventType: AUTHORIZED } });
  const reference = await createAndApprove(unit);
  assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED', 'AUTHORIZED']);
  const [, first, second] = receiver.accepted.filter((r) => r.body?.reference === reference);
  assert.equal(first?.rawBody, second?.rawBody);
  assert.equal(first?.headers['webhook-id'], second?.headers['webhook-id']);

  const fault = `duplicate (rule ${rule.id})`;
  const listed = await deliveries(unit, reference);
  assert.deepEqual(
    listed.map((d) => [d.eventType, d.state, d.fault, d.replayOf === null ? null : 'copy']),
    [
      [CREATED, 'delivered', null, null],
      [AUTHORIZED, 'delivered', fault, null],
      [AUTHORIZED, 'delivered', fault, 'copy'],
    ],
  );
  assert.equal(listed[2]?.replayOf, listed[1]?.id);
  assert.deepEqual(
    (await attempts(unit, reference)).map((a) => [a.eventType, a.fault]),
    [
      [CREATED, null],
      [AUTHORIZED, fault],
      [AUTHORIZED, fault],
    ],
  );
});

test('a delayed delivery goes when its unit’s clock reaches the delay, and the payment’s later events wait behind it', async () => {
  const { unit, receiver } = await unitWithReceiver();
  const rule = await addRule(unit, { kind: 'delay', delayMs: 5000, match: { eventType: CREATED } });
  const reference = await createAndApprove(unit);
  assert.deepEqual(receiver.namesFor(reference), [], 'nothing yet: CREATED waits, AUTHORIZED queues behind it');
  await advance(unit, 4);
  assert.equal(await server.deliverWebhooks(), 0);
  await advance(unit, 1);
  await server.deliverWebhooks();
  assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED'], 'in order');
  const [created] = await attempts(unit, reference);
  assert.equal(created?.fault, `delay 5000 ms (rule ${rule.id})`);
  assert.ok(Date.parse(created?.startedAt ?? '') - Date.parse(created?.committedAt ?? '') >= 5000, 'sent 5 s (of the unit’s clock) late');
});

test('a reordered delivery is overtaken by the payment’s next event and follows it when the hold ends', async () => {
  const { unit, receiver } = await unitWithReceiver();
  const rule = await addRule(unit, { kind: 'reorder', match: { eventType: CREATED } });
  assert.equal(rule.delayMs, 10_000, 'held back 10 s at most by default');
  const reference = await createAndApprove(unit);
  assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED']);
  await advance(unit, 10);
  await server.deliverWebhooks();
  assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED', 'CREATED']);
  const [created] = await deliveries(unit, reference);
  assert.deepEqual([created?.eventType, created?.state, created?.fault], [CREATED, 'delivered', `reorder 10000 ms (rule ${rule.id})`]);
});

test('webhook faults are deterministic: every second delivery dropped, at most `count` times', async () => {
  const { unit, receiver } = await unitWithReceiver();
  const rule = await addRule(unit, { kind: 'drop', everyNth: 2, count: 2, match: { eventType: CREATED } });
  const references: string[] = [];
  for (let i = 0; i < 6; i++) {
    const created = await server.createPayment({}, { unit });
    references.push(created.reference);
    await server.deliverWebhooks();
  }
  assert.deepEqual(
    references.map((reference) => receiver.namesFor(reference).length),
    [1, 0, 1, 0, 1, 1],
  );
  const reply = await server.call('GET', `/kassa/v1/faults/${rule.id}`, { unit });
  assert.deepEqual([reply.body.rule.matched, reply.body.rule.injected, reply.body.rule.spent], [4, 2, true]);
});
