/**
 * The go-live checklist report over real traffic (issue 7; docs/checklist.md). One correct integration
 * gets every exercised item met; each deliberately flawed integration — the same script with one thing
 * done wrong — gets exactly the item it violates reported as not met, and nothing else. Each
 * integration has its own sales unit, so its evidence is its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { ChecklistReport } from '../src/checklist/types.ts';
import { newSalesUnit, ScriptedIntegration, type SystemHeaders } from './support/scriptedIntegration.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const SECOND = 1000;
const DAY = 24 * 60 * 60 * SECOND;
const ALL_EVENTS = ['created', 'authorized', 'aborted', 'expired', 'terminated', 'captured', 'cancelled', 'refunded'].map(
  (name) => `epayments.payment.${name}.v1`,
);
const NORWEGIAN = '4791234567';
const DANISH = '4511223344';

let server: TestServer;
let receiver: WebhookReceiver;

before(async () => {
  [server, receiver] = await Promise.all([
    startTestServer(),
    WebhookReceiver.start({ answer: (request) => ({ status: request.path.startsWith('/failing') ? 500 : 200 }) }),
  ]);
});
after(async () => {
  await receiver?.close();
  await server?.close();
});

type Flaw =
  | 'no-polling'
  | 'polls-too-fast'
  | 'keeps-polling'
  | 'missing-system-headers'
  | 'new-key-on-retry'
  | 'cancel-without-key'
  | 'blind-repeat-after-4xx'
  | 'no-webhooks'
  | 'failing-webhook-receiver'
  | 'misses-final-state'
  | 'never-cancels-the-rest'
  | 'captures-after-deadline'
  | 'bare-order-id-description'
  | 'session-return-url'
  | 'no-receipt'
  | 'qr-without-customer-present'
  | 'refuses-foreign-customers';

async function approve(integration: ScriptedIntegration, reference: string, phoneNumber: string): Promise<void> {
  const reply = await server.approve(reference, integration.unit, { customer: { phoneNumber } });
  assert.equal(reply.status, 200, reply.text);
}

async function expectStatus(reply: Promise<{ status: number; text: string }>, status: number): Promise<void> {
  const answer = await reply;
  assert.equal(answer.status, status, answer.text);
}

/**
 * The integration's session: register webhooks; a payment through its whole life (polled, approved by
 * a customer from another market, a refused capture fixed, a capture retried after a 503, refunded in
 * part, the rest cancelled); a payment cancelled before approval; a QR payment at a till. `flaw`
 * changes one step.
 */
async function runIntegration(flaw: Flaw | null): Promise<ChecklistReport> {
  const unit = await newSalesUnit(server, 'NO');
  const systemHeaders: SystemHeaders = flaw === 'missing-system-headers' ? 'none' : 'all';
  const shop = new ScriptedIntegration(server, unit, { systemHeaders, polls: flaw !== 'no-polling' });
  const deliver = () => server.deliverWebhooks();

  if (flaw !== 'no-webhooks') {
    const url = `http://127.0.0.1:${receiver.port}/${flaw === 'failing-webhook-receiver' ? 'failing' : 'ok'}/${unit.msn}`;
    await expectStatus(shop.registerWebhook(url, ALL_EVENTS), 201);
  }

  // Payment A: the whole life of a payment.
  const a = await shop.create({
    ...(flaw === 'bare-order-id-description' ? { paymentDescription: '100234' } : {}),
    ...(flaw === 'session-return-url' ? { returnUrl: 'https://shop.example/checkout/return' } : {}),
    ...(flaw === 'no-receipt' ? { receipt: undefined } : {}),
  });
  if (flaw === 'no-polling') server.clock.advance(12 * SECOND);
  else if (flaw === 'polls-too-fast') {
    for (let i = 0; i < 12; i++) {
      server.clock.advance(SECOND);
      await shop.get(a);
    }
  } else await shop.pollNicely(a);
  await approve(shop, a, flaw === 'refuses-foreign-customers' ? NORWEGIAN : DANISH);
  await deliver();
  await expectStatus(shop.get(a), 200);
  if (flaw === 'keeps-polling') {
    for (let i = 0; i < 20; i++) {
      server.clock.advance(2 * SECOND);
      await shop.get(a);
    }
  }

  // A refused capture, read and fixed (or, flawed, sent again unchanged).
  const tooMuch = shop.modify('capture', a, 999_999);
  await expectStatus(tooMuch, 400);
  if (flaw === 'blind-repeat-after-4xx') await expectStatus(shop.modify('capture', a, 999_999), 400);

  // The first capture meets a 503 (fault injection); the retry reuses the key (or, flawed, does not).
  const fault = await shop.call('POST', '/kassa/v1/faults', {
    body: {
      msn: unit.msn,
      target: 'api',
      kind: 'error',
      status: 503,
      when: 'before',
      match: { route: '/epayment/v1/payments/:reference/capture' },
      count: 1,
    },
  });
  assert.equal(fault.status, 201, fault.text);
  const captureKey = randomUUID();
  await expectStatus(shop.modify('capture', a, 6000, captureKey), 503);
  await expectStatus(shop.modify('capture', a, 6000, flaw === 'new-key-on-retry' ? randomUUID() : captureKey), 200);
  await expectStatus(shop.modify('refund', a, 2000), 200);
  if (flaw !== 'never-cancels-the-rest') {
    await expectStatus(shop.modify('cancel', a, null, flaw === 'cancel-without-key' ? null : randomUUID()), 200);
  }
  await deliver();
  await expectStatus(shop.events(a), 200);

  // Payment B: the order is given up before the customer pays; the integration reads the outcome.
  const b = await shop.create();
  await shop.pollNicely(b, 1);
  await expectStatus(shop.modify('cancel', b, null), 200);
  await deliver();
  await expectStatus(shop.get(b), 200);

  // Payment Q: a QR code on the till's customer-facing screen, cancelled when the customer pays cash.
  const q = await shop.create({
    userFlow: 'QR',
    returnUrl: undefined,
    ...(flaw === 'qr-without-customer-present' ? {} : { customerInteraction: 'CUSTOMER_PRESENT' }),
  });
  await shop.pollNicely(q, 2);
  await expectStatus(shop.modify('cancel', q, null), 200);
  await expectStatus(shop.get(q), 200);

  if (flaw === 'refuses-foreign-customers') {
    const e = await shop.create();
    await shop.pollNicely(e, 2);
    await approve(shop, e, DANISH);
    await expectStatus(shop.get(e), 200);
    server.clock.advance(30 * SECOND);
    await expectStatus(shop.modify('cancel', e, null), 200);
  }
  if (flaw === 'misses-final-state') {
    // The expired webhook is lost (fault injection) and the integration gave up polling after 11 s.
    const drop = await shop.call('POST', '/kassa/v1/faults', {
      body: { msn: unit.msn, target: 'webhook', kind: 'drop', match: { eventType: 'epayments.payment.expired.v1' } },
    });
    assert.equal(drop.status, 201, drop.text);
    const c = await shop.create();
    await shop.pollNicely(c, 4);
    server.clock.advance(11 * 60 * SECOND);
    await server.sweep();
  }
  if (flaw === 'captures-after-deadline') {
    const d = await shop.create();
    await shop.pollNicely(d);
    await approve(shop, d, NORWEGIAN);
    await expectStatus(shop.get(d), 200);
    server.clock.advance(181 * DAY);
    const late = await shop.modify('capture', d, 10000);
    assert.equal(late.status, 400, late.text);
    assert.match(late.text, /6100/);
  }
  if (flaw === 'never-cancels-the-rest') {
    server.clock.advance(181 * DAY);
    await server.sweep();
  }
  await deliver();
  // Final states reached at the very end are judged once they are older than the grace period.
  server.clock.advance(3 * 60 * SECOND);
  return reportOf(unit.msn);
}

async function reportOf(msn: string): Promise<ChecklistReport> {
  await server.requestLog.flush();
  const reply = await server.call('GET', `/kassa/v1/report?msn=${msn}&since=2000-01-01`, { anonymous: true });
  assert.equal(reply.status, 200, reply.text);
  return reply.body as ChecklistReport;
}

const statusOf = (report: ChecklistReport) => Object.fromEntries(report.items.map((item) => [item.id, item.status]));
const notMet = (report: ChecklistReport) => report.items.filter((item) => item.status === 'not_met').map((item) => item.id);
const item = (report: ChecklistReport, id: string) => report.items.find((i) => i.id === id) as ChecklistReport['items'][number];

test('a correct integration: every exercised item is met, and the report shows its evidence', async () => {
  const report = await runIntegration(null);
  assert.deepEqual(
    notMet(report),
    [],
    JSON.stringify(
      report.items.filter((i) => i.status === 'not_met'),
      null,
      2,
    ),
  );
  assert.equal(report.passed, true);
  assert.deepEqual(statusOf(report), {
    endpoints: 'met',
    webhooks: 'met',
    polling: 'met',
    'rate-limits': 'met',
    'all-states': 'met',
    errors: 'met',
    'system-headers': 'met',
    idempotency: 'met',
    receipt: 'met',
    'customer-present': 'met',
    description: 'met',
    'return-url': 'met',
    'capture-before-expiry': 'met',
    'release-reservations': 'met',
    'cross-border': 'met',
  });
  const { get, ...calls } = item(report, 'endpoints').counts;
  assert.deepEqual(calls, { create: 3, events: 1, capture: 1, refund: 1, cancel: 3 }, 'successful calls per endpoint');
  assert.ok((get ?? 0) >= 10);
  const idempotency = item(report, 'idempotency');
  assert.equal(idempotency.counts.retries, 1, 'the capture after the 503 is recognised as a retry');
  assert.equal(item(report, 'release-reservations').counts.partialCaptureThenCancel, 1);
  const example = item(report, 'endpoints').examples[0];
  assert.equal(example?.headers.authorization, 'Bearer [redacted]', 'request examples keep secrets redacted');
  assert.equal(example?.headers['ocp-apim-subscription-key'], '[redacted]');
  assert.equal(example?.headers['vipps-system-name'], 'acme');
});

const flaws: [Flaw, string][] = [
  ['no-polling', 'polling'],
  ['polls-too-fast', 'polling'],
  ['keeps-polling', 'polling'],
  ['missing-system-headers', 'system-headers'],
  ['new-key-on-retry', 'idempotency'],
  ['cancel-without-key', 'idempotency'],
  ['blind-repeat-after-4xx', 'errors'],
  ['no-webhooks', 'webhooks'],
  ['failing-webhook-receiver', 'webhooks'],
  ['misses-final-state', 'all-states'],
  ['never-cancels-the-rest', 'release-reservations'],
  ['captures-after-deadline', 'capture-before-expiry'],
  ['bare-order-id-description', 'description'],
  ['session-return-url', 'return-url'],
  ['no-receipt', 'receipt'],
  ['qr-without-customer-present', 'customer-present'],
  ['refuses-foreign-customers', 'cross-border'],
];

for (const [flaw, violated] of flaws) {
  test(`a flawed integration (${flaw}) fails exactly "${violated}"`, async () => {
    const report = await runIntegration(flaw);
    assert.deepEqual(
      notMet(report),
      [violated],
      JSON.stringify(
        report.items.filter((i) => i.status === 'not_met'),
        null,
        2,
      ),
    );
    assert.equal(report.passed, false);
    const failed = item(report, violated);
    assert.ok(failed.offenders.length > 0, 'the offending payments or calls are named');
    assert.ok(failed.summary.length > 0);
  });
}
