/**
 * Webhooks end to end against Kassa: registration through the SDK's Webhooks API, real signed deliveries
 * verified by `verifyWebhook` (raw bytes, the registered URL with a query, clock-skew tolerance), and the
 * payment tracker fed by those deliveries and by its own polls.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type Client,
  createPaymentTracker,
  type PaymentTracker,
  RECOMMENDED_MAX_SKEW_MS,
  type StateChange,
  verifyWebhook,
  type WebhookPayload,
} from '../src/index.ts';
import { ManualScheduler } from '../src/scheduler.ts';
import { clientFor, newReference, startTestServer, type TestServer, tokenOf } from './support/kassa.ts';
import { startWebhookSink, type WebhookSink } from './support/webhookSink.ts';

const ALL_EPAYMENT_EVENTS = ['created', 'aborted', 'expired', 'cancelled', 'captured', 'refunded', 'authorized', 'terminated'].map(
  (name) => `epayments.payment.${name}.v1`,
);

let server: TestServer;
let client: Client;
let sink: WebhookSink;
let secret = '';
let webhookId = '';
const verified: WebhookPayload[] = [];
const rejected: string[] = [];
/** Where the sink hands verified events on (the tracker, in the tests that use one). */
let onVerified: (payload: WebhookPayload) => void = () => {};

before(async () => {
  server = await startTestServer();
  client = clientFor(server);
  sink = await startWebhookSink('/hooks/vipps?shop=sdk-tests', (delivery, url) => {
    const result = verifyWebhook(delivery.method, url, delivery.headers, delivery.rawBody, secret, { maxSkewMs: RECOMMENDED_MAX_SKEW_MS });
    if (!result.ok) {
      rejected.push(result.reason);
      return 401;
    }
    verified.push(result.event);
    onVerified(result.event);
    return 200;
  });
  const registration = await client.webhooks.register({ url: sink.url, events: ALL_EPAYMENT_EVENTS });
  secret = registration.secret;
  webhookId = registration.id;
});
after(async () => {
  await sink.close();
  await server.close();
});

function eventsFor(reference: string): string[] {
  return verified.flatMap((p) => (p.kind === 'epayment' && p.data.reference === reference ? [p.data.name] : []));
}

async function newPayment(): Promise<{ reference: string; token: string }> {
  const reference = newReference('hook');
  const created = await client.epayment.createPayment({
    amount: { currency: 'NOK', value: 30000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
  });
  return { reference, token: tokenOf(created.redirectUrl) };
}

test('the registration is listed with its URL and events, never its secret', async () => {
  const { webhooks } = await client.webhooks.list();
  const mine = webhooks.find((w) => w.id === webhookId);
  assert.deepEqual(mine, { id: webhookId, url: sink.url, events: ALL_EPAYMENT_EVENTS });
  assert.ok(!JSON.stringify(webhooks).includes(secret));
});

test("Kassa's real deliveries verify against the registered URL and parse into typed events", async () => {
  const { reference, token } = await newPayment();
  await client.epayment.forceApprovePayment(reference, { token });
  await client.epayment.capturePayment(
    reference,
    { modificationAmount: { currency: 'NOK', value: 30000 } },
    { idempotencyKey: 'hook-capture-1' },
  );
  await server.deliverWebhooks();
  assert.deepEqual(rejected, []);
  assert.deepEqual(eventsFor(reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);
  const captured = verified.find((p) => p.kind === 'epayment' && p.data.reference === reference && p.data.name === 'CAPTURED');
  assert.ok(captured?.kind === 'epayment');
  assert.equal(captured.eventType, 'epayments.payment.captured.v1');
  assert.equal(captured.data.amount.value, 30000);
  assert.equal(captured.data.idempotencyKey, 'hook-capture-1');
  assert.equal(captured.data.success, true);
  // A payment's events carry their own pspReferences, as the event log does (§4.3).
  const log = await client.epayment.getPaymentEvents(reference);
  const delivered = verified.flatMap((p) => (p.kind === 'epayment' && p.data.reference === reference ? [p.data.pspReference] : []));
  assert.deepEqual(
    delivered,
    log.map((e) => e.pspReference),
  );
});

test('a delivery that does not verify is refused with 401, and Kassa delivers it again, re-signed', async () => {
  const { reference, token } = await newPayment();
  const original = secret;
  secret = 'a-secret-that-does-not-match';
  await server.deliverWebhooks();
  secret = original;
  assert.deepEqual(rejected.splice(0), ['signature_mismatch']);
  assert.deepEqual(eventsFor(reference), []);
  // The refused delivery is retried (re-signed, §4.5); move Kassa's clock past the first back-off.
  server.clock.advance(3000);
  await client.epayment.forceApprovePayment(reference, { token });
  await server.deliverWebhooks();
  server.clock.advance(3000);
  await server.deliverWebhooks();
  assert.deepEqual(eventsFor(reference), ['CREATED', 'AUTHORIZED']);
});

test('the tracker reports a change once, from whichever channel saw it first', async () => {
  const scheduler = new ManualScheduler(Date.now());
  const changes: StateChange[] = [];
  const tracker: PaymentTracker = createPaymentTracker({ epayment: client.epayment, scheduler, onChange: (c) => void changes.push(c) });
  onVerified = (payload) => tracker.handleWebhook(payload);
  try {
    // 1. The poll at 5 s sees CREATED; the CREATED webhook, delivered after, repeats nothing.
    const { reference, token } = await newPayment();
    const tracking = tracker.track(reference);
    await scheduler.advance(5000);
    await tracking.idle();
    await server.deliverWebhooks();
    assert.deepEqual(eventsFor(reference), ['CREATED']);
    // 2. The approval reaches the tracker by webhook before the next poll.
    await client.epayment.forceApprovePayment(reference, { token });
    await server.deliverWebhooks();
    const outcome = await tracking.done;
    assert.equal(outcome.state, 'AUTHORIZED');
    assert.deepEqual(
      changes.map((c) => [c.state, c.source]),
      [
        ['CREATED', 'poll'],
        ['AUTHORIZED', 'webhook'],
      ],
    );

    // 3. With the webhooks held back, the polls alone find the approval.
    changes.length = 0;
    const second = await newPayment();
    const secondTracking = tracker.track(second.reference);
    await client.epayment.forceApprovePayment(second.reference, { token: second.token });
    await scheduler.advance(5000);
    await secondTracking.idle();
    assert.equal((await secondTracking.done).state, 'AUTHORIZED');
    await server.deliverWebhooks(); // the late webhooks change nothing
    assert.deepEqual(
      changes.map((c) => [c.state, c.source]),
      [['AUTHORIZED', 'poll']],
    );
  } finally {
    onVerified = () => {};
  }
});

test('a deleted registration is gone from the list', async () => {
  const extra = await client.webhooks.register({ url: `${sink.url}&extra=1`, events: ['epayments.payment.refunded.v1'] });
  await client.webhooks.delete(extra.id);
  const { webhooks } = await client.webhooks.list();
  assert.ok(!webhooks.some((w) => w.id === extra.id));
  assert.ok(webhooks.some((w) => w.id === webhookId));
});
