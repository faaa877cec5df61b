/**
 * After the card callback the PSP reports capture, refund and cancel through the ordinary ePayment
 * endpoints with its Psp-Id (epayment-api §17.3, platform-guidelines §18): they move the aggregate and
 * the event log, show in the user's app, and reach the PSP's webhook registrations — PSP-wide and per
 * sales unit (platform-guidelines §4.1, open question 26) — including the failed authorizations of
 * PSP callback failures (`success: false`, open question 12).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { listAppPayments } from '../src/store/customerStore.ts';
import { verifySignature } from '../src/webhooks/signWebhook.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { createPassthrough, DEMO_PSP, FakePsp, forceApprove, pspCall, reserve } from './support/pspSupport.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const EVENTS = ['created', 'authorized', 'aborted', 'captured', 'refunded', 'cancelled', 'terminated'].map(
  (name) => `epayments.payment.${name}.v1`,
);
let server: TestServer;
let psp: FakePsp;
let pspWide: WebhookReceiver;
let perUnit: WebhookReceiver;
const secrets = new Map<WebhookReceiver, string>();

before(async () => {
  [server, psp, pspWide, perUnit] = await Promise.all([
    startTestServer(),
    FakePsp.start(),
    WebhookReceiver.start({ path: '/psp/all' }),
    WebhookReceiver.start({ path: '/psp/223344' }),
  ]);
  for (const [receiver, msnHeader] of [
    [pspWide, '<none>'],
    [perUnit, DEMO_PSP.msn],
  ] as const) {
    const reply = await pspCall(server, DEMO_PSP, 'POST', '/webhooks/v1/webhooks', {
      body: { url: receiver.url, events: EVENTS },
      headers: { 'Merchant-Serial-Number': msnHeader },
    });
    assert.equal(reply.status, 201, reply.text);
    secrets.set(receiver, reply.body.secret);
  }
});
after(async () => {
  await Promise.all([psp?.close(), pspWide?.close(), perUnit?.close()]);
  await server?.close();
});

async function modify(reference: string, operation: 'capture' | 'refund' | 'cancel', value?: number) {
  const path = `/epayment/v1/payments/${reference}/${operation}`;
  const reply = await pspCall(server, DEMO_PSP, 'POST', path, {
    idempotencyKey: randomUUID(),
    body: value === undefined ? {} : { modificationAmount: { currency: 'NOK', value } },
  });
  assertMatchesOpenApi('POST', path, reply.status, reply.body);
  return reply;
}

/** Webhooks both registrations received for the payment: [name, success] in arrival order, checked signed. */
async function webhooksOf(reference: string): Promise<[string, boolean][]> {
  await server.deliverWebhooks();
  const seen: [string, boolean][][] = [];
  for (const receiver of [pspWide, perUnit]) {
    const mine = receiver.accepted.filter((r) => r.body?.reference === reference);
    for (const request of mine) {
      const url = `http://127.0.0.1:${receiver.port}${request.path}`;
      assert.ok(verifySignature({ headers: request.headers, rawBody: request.rawBody, secret: secrets.get(receiver) as string, url }).ok);
      assert.equal(request.body.msn, DEMO_PSP.msn);
    }
    seen.push(mine.map((r) => [r.body.name, r.body.success]));
  }
  assert.deepEqual(seen[0], seen[1], 'PSP-wide and per-unit registrations got the same events');
  return seen[0] as [string, boolean][];
}

test('capture, partial refund and cancel by the PSP: aggregate, event log, the app and both webhook registrations', async () => {
  psp.answer(reserve);
  const reference = await createPassthrough(server, DEMO_PSP, psp.url, { customer: { phoneNumber: '4791234567' } });
  assert.equal((await forceApprove(server, DEMO_PSP, reference)).status, 200);

  const captured = await modify(reference, 'capture', 10000);
  assert.equal(captured.status, 200, captured.text);
  const refunded = await modify(reference, 'refund', 4000);
  assert.equal(refunded.status, 200, refunded.text);
  const cancelled = await modify(reference, 'cancel');
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.deepEqual(Object.fromEntries(Object.entries(cancelled.body.aggregate).map(([k, v]) => [k, (v as { value: number }).value])), {
    authorizedAmount: 25000,
    cancelledAmount: 15000,
    capturedAmount: 10000,
    refundedAmount: 4000,
  });
  assert.equal(cancelled.body.state, 'AUTHORIZED');

  const events = await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}/events`);
  assert.deepEqual(
    events.body.map((e: { name: string; amount: { value: number } }) => [e.name, e.amount.value]),
    [
      ['CREATED', 25000],
      ['AUTHORIZED', 25000],
      ['CAPTURED', 10000],
      ['REFUNDED', 4000],
      ['CANCELLED', 15000],
    ],
  );
  assert.deepEqual(await webhooksOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', true],
    ['CAPTURED', true],
    ['REFUNDED', true],
    ['CANCELLED', true],
  ]);

  // The user's app history follows what the PSP reported.
  const [inApp] = (await listAppPayments(server.ctx.db, '4791234567')).filter((p) => p.reference === reference);
  assert.deepEqual([inApp?.state, inApp?.captured, inApp?.refunded, inApp?.cancelled], ['AUTHORIZED', 10000, 4000, 15000]);
  const home = await fetch(`${server.url}/app`, { headers: { cookie: 'kassa_app_user=4791234567' } });
  const html = await home.text();
  assert.match(html, /Kassa Demo Kortbutikk/);
  assert.match(html, /captured NOK\s*100\.00/);
  assert.match(html, /refunded NOK\s*40\.00/);
});

test('failed callbacks reach the PSP as webhooks too: AUTHORIZED with success false, then ABORTED', async () => {
  psp.answer(() => ({ status: 500, text: 'boom' }));
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  assert.equal((await forceApprove(server, DEMO_PSP, reference)).status, 400);
  assert.deepEqual(await webhooksOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['ABORTED', true],
  ]);
  // Nothing can be captured from an aborted payment.
  const capture = await modify(reference, 'capture', 100);
  assert.equal(capture.status, 400);
  assert.deepEqual(capture.body.extraDetails, [{ name: 'ErrorCode', reason: '6200' }]);
});

test('cancel by the PSP while the user is at 3-D Secure: 6250, then TERMINATED once the step lapses', async () => {
  psp.answer(() => ({ status: 200, json: { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds/lapsed' } }));
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const count = psp.callbacks.length;
  assert.equal((await forceApprove(server, DEMO_PSP, reference)).status, 400);
  const busy = await modify(reference, 'cancel');
  assert.equal(busy.status, 409);
  assert.deepEqual(busy.body.extraDetails, [{ name: 'ErrorCode', reason: '6250' }]);

  server.clock.advance(5 * 60 * 1000);
  const cancelled = await modify(reference, 'cancel');
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.state, 'TERMINATED');
  // The user finishing 3-D Secure now is too late: no second callback.
  const late = await fetch(psp.callbacks[count]?.body.softDeclineCompletedRedirectUrl);
  assert.match(await late.text(), /no longer valid|TERMINATED/);
  assert.equal(psp.callbacks.length, count + 1);
  assert.deepEqual(await webhooksOf(reference), [
    ['CREATED', true],
    ['TERMINATED', true],
  ]);
});
