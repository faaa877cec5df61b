/**
 * The checklist's rules on hand-made evidence (docs/checklist.md): the edges the integration scripts in
 * checklist.test.ts cannot reach cheaply — tolerances, what fault injection excuses, what counts as a
 * retry, the text rules for descriptions and return URLs, the report period.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateChecklist } from '../src/checklist/evaluateChecklist.ts';
import { descriptionProblem } from '../src/checklist/items/descriptions.ts';
import { returnUrlIdentifiesPayment } from '../src/checklist/items/returnUrl.ts';
import { systemHeaderProblem } from '../src/checklist/items/systemHeaders.ts';
import { reportMarkdown } from '../src/checklist/renderReport.ts';
import { parseSince } from '../src/checklist/reportPeriod.ts';
import type { EventFacts, Evidence, LoggedRequest, PaymentFacts } from '../src/checklist/types.ts';

const T0 = Date.parse('2026-05-04T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const HEADERS = {
  'vipps-system-name': 'acme',
  'vipps-system-version': '1.0.0',
  'vipps-system-plugin-name': 'acme-shop',
  'vipps-system-plugin-version': '1.0.0',
};
let ids = 0;

function request(ms: number, method: string, route: string, fields: Partial<LoggedRequest> = {}): LoggedRequest {
  ids += 1;
  const reference = fields.reference === undefined ? 'acme-order-1001' : fields.reference;
  return {
    id: ids,
    at: at(ms),
    msn: '123456',
    pspId: null,
    clientId: 'client',
    method,
    route,
    path: route.replace(':reference', reference ?? ''),
    reference,
    status: 200,
    latencyMs: 3,
    idempotencyKey: method === 'POST' ? `key-${ids}` : null,
    headers: { ...HEADERS },
    body: undefined,
    errorCode: null,
    fault: null,
    traceId: `trace-${ids}`,
    ...fields,
  };
}

const GET = '/epayment/v1/payments/:reference';
const CAPTURE = '/epayment/v1/payments/:reference/capture';

function payment(fields: Partial<PaymentFacts> = {}): PaymentFacts {
  return {
    id: 1,
    msn: '123456',
    reference: 'acme-order-1001',
    state: 'CREATED',
    currency: 'NOK',
    amount: 10000,
    authorized: 0,
    captured: 0,
    cancelled: 0,
    refunded: 0,
    userFlow: 'WEB_REDIRECT',
    paymentMethodType: 'WALLET',
    request: { paymentDescription: 'Wool socks', returnUrl: 'https://shop.example/return?order=acme-order-1001', receipt: {} },
    customerPhone: null,
    customerMarket: null,
    createdAt: at(0),
    expiresAt: at(600_000),
    authorizedAt: null,
    captureDeadline: null,
    ...fields,
  };
}

function event(name: string, ms: number, fields: Partial<EventFacts> = {}): EventFacts {
  return {
    paymentId: 1,
    msn: '123456',
    reference: 'acme-order-1001',
    name,
    amount: 10000,
    occurredAt: at(ms),
    idempotencyKey: null,
    success: true,
    ...fields,
  };
}

function evidence(parts: Partial<Evidence>): Evidence {
  return {
    scope: { msn: '123456' },
    since: at(-86_400_000),
    now: at(3_600_000),
    salesUnits: [{ msn: '123456', name: 'Acme Sko', market: 'NO' }],
    requests: [],
    payments: [],
    olderReservations: [],
    events: [],
    registrations: [],
    deliveries: [],
    attempts: [],
    shortenedFrom: null,
    ...parts,
  };
}

const statusOf = (e: Evidence, id: string) => evaluateChecklist(e).items.find((item) => item.id === id)?.status;

test('polling: one early read (a return page) is tolerated, a loop of early reads is not', () => {
  const created = request(-10, 'POST', '/epayment/v1/payments', { status: 201 });
  const nice = [created, request(1000, 'GET', GET), request(5000, 'GET', GET), request(7000, 'GET', GET), request(9000, 'GET', GET)];
  const payments = [payment()];
  const events = [event('CREATED', 0), event('AUTHORIZED', 12_000)];
  assert.equal(statusOf(evidence({ requests: nice, payments, events }), 'polling'), 'met');
  const loop = [created, request(1000, 'GET', GET), request(2000, 'GET', GET), request(3000, 'GET', GET), request(5000, 'GET', GET)];
  assert.equal(statusOf(evidence({ requests: loop, payments, events }), 'polling'), 'not_met');
  // Network jitter: an answer 1.9 s after the previous one is still a 2-second interval.
  const jitter = [created, request(4600, 'GET', GET), request(6500, 'GET', GET), request(8400, 'GET', GET), request(10_300, 'GET', GET)];
  assert.equal(statusOf(evidence({ requests: jitter, payments, events }), 'polling'), 'met');
});

test('polling is not exercised by payments that were over within 10 s and read at most once while pending', () => {
  const requests = [request(0, 'POST', '/epayment/v1/payments', { status: 201 }), request(8000, 'GET', GET)];
  const events = [event('CREATED', 0), event('AUTHORIZED', 3000)];
  assert.equal(statusOf(evidence({ requests, payments: [payment()], events }), 'polling'), 'not_exercised');
});

test('idempotency: a capture repeated after an injected lost answer is a retry; after a 2XX it is a new capture', () => {
  const body = { modificationAmount: { currency: 'NOK', value: 5000 } };
  const lost = request(0, 'POST', CAPTURE, { body, status: 500, fault: 'error 500 after (rule 1)', idempotencyKey: 'k1' });
  const sameKey = request(1000, 'POST', CAPTURE, { body: { modificationAmount: { value: 5000, currency: 'NOK' } }, idempotencyKey: 'k1' });
  assert.equal(statusOf(evidence({ requests: [lost, sameKey] }), 'idempotency'), 'met', 'same key, members in another order');
  const newKey = request(1000, 'POST', CAPTURE, { body, idempotencyKey: 'k2' });
  assert.equal(statusOf(evidence({ requests: [lost, newKey] }), 'idempotency'), 'not_met');
  const first = request(0, 'POST', CAPTURE, { body, idempotencyKey: 'k1' });
  assert.equal(statusOf(evidence({ requests: [first, newKey] }), 'idempotency'), 'met', 'two equal shipments need two keys');
  const conflict = request(2000, 'POST', CAPTURE, { body, status: 409, errorCode: 4010, idempotencyKey: 'k1' });
  assert.equal(statusOf(evidence({ requests: [first, conflict] }), 'idempotency'), 'not_met');
});

test('rate limits: a 429 the platform answered fails the item, one fault injection answered does not', () => {
  const injected = request(0, 'GET', GET, { status: 429, fault: 'error 429 before (rule 2)' });
  assert.equal(statusOf(evidence({ requests: [injected] }), 'rate-limits'), 'met');
  const real = request(0, 'GET', GET, { status: 429 });
  assert.equal(statusOf(evidence({ requests: [real] }), 'rate-limits'), 'not_met');
  // Another fault on the call (latency) did not make the 429: the limiter did.
  const slowed = request(0, 'GET', GET, { status: 429, fault: 'latency 10 ms before (rule 4)' });
  assert.equal(statusOf(evidence({ requests: [slowed] }), 'rate-limits'), 'not_met');
});

test('errors: a 499 (the client hung up) and the codes that say "retry later" are not refusals to stop repeating', () => {
  const body = { modificationAmount: { currency: 'NOK', value: 5000 } };
  for (const refused of [{ status: 499 }, { status: 400, errorCode: 6260 }, { status: 409, errorCode: 6250 }]) {
    const first = request(0, 'POST', CAPTURE, { body, idempotencyKey: 'k1', ...refused });
    const again = request(5000, 'POST', CAPTURE, { body, idempotencyKey: 'k1', ...refused });
    assert.equal(statusOf(evidence({ requests: [first, again] }), 'errors'), 'not_exercised', JSON.stringify(refused));
  }
  const refusal = { status: 400, errorCode: 6090 };
  const first = request(0, 'POST', CAPTURE, { body, idempotencyKey: 'k1', ...refusal });
  const again = request(5000, 'POST', CAPTURE, { body, idempotencyKey: 'k1', ...refusal });
  assert.equal(statusOf(evidence({ requests: [first, again] }), 'errors'), 'not_met');
});

test('idempotency: after a call the client gave up on (499) the retry carries the same key', () => {
  const body = { modificationAmount: { currency: 'NOK', value: 5000 } };
  const abandoned = request(0, 'POST', CAPTURE, { body, status: 499, idempotencyKey: 'k1' });
  const newKey = request(1000, 'POST', CAPTURE, { body, idempotencyKey: 'k2' });
  assert.equal(statusOf(evidence({ requests: [abandoned, newKey] }), 'idempotency'), 'not_met');
  const sameKey = request(1000, 'POST', CAPTURE, { body, idempotencyKey: 'k1' });
  assert.equal(statusOf(evidence({ requests: [abandoned, sameKey] }), 'idempotency'), 'met');
});

test('customer-present: what the create call sent decides, not the default the payment was stored with', () => {
  const push = payment({ userFlow: 'PUSH_MESSAGE', request: { paymentDescription: 'Socks', customerInteraction: 'CUSTOMER_NOT_PRESENT' } });
  const createWith = (sent: Record<string, unknown>) =>
    request(0, 'POST', '/epayment/v1/payments', { status: 201, body: { userFlow: 'PUSH_MESSAGE', ...sent } });
  assert.equal(statusOf(evidence({ payments: [push], requests: [createWith({})] }), 'customer-present'), 'not_met');
  const explicit = createWith({ customerInteraction: 'CUSTOMER_NOT_PRESENT' });
  assert.equal(statusOf(evidence({ payments: [push], requests: [explicit] }), 'customer-present'), 'met');
});

test('all-states: a payment the integration cancelled itself was learned from the answer to its cancel', () => {
  const events = [event('CREATED', 0), event('TERMINATED', 20_000)];
  const unheard = evidence({ payments: [payment({ state: 'TERMINATED' })], events, requests: [] });
  assert.equal(statusOf(unheard, 'all-states'), 'not_met');
  const cancel = request(20_050, 'POST', '/epayment/v1/payments/:reference/cancel', { body: {} });
  assert.equal(statusOf(evidence({ payments: [payment({ state: 'TERMINATED' })], events, requests: [cancel] }), 'all-states'), 'met');
});

test('polling: reads going on after the final state are judged even when the payment was over at once', () => {
  const created = request(-10, 'POST', '/epayment/v1/payments', { status: 201 });
  const reads = Array.from({ length: 20 }, (_, i) => request(4000 + i * 2000, 'GET', GET));
  const events = [event('CREATED', 0), event('AUTHORIZED', 1000)];
  assert.equal(statusOf(evidence({ requests: [created, ...reads], payments: [payment()], events }), 'polling'), 'not_met');
});

test('release-reservations: a reservation made before the period and left to its deadline in it', () => {
  const old = payment({
    state: 'AUTHORIZED',
    authorized: 10000,
    createdAt: at(-170 * 86_400_000),
    authorizedAt: at(-170 * 86_400_000),
    captureDeadline: at(10 * 3_600_000 - 170 * 86_400_000 + 180 * 86_400_000),
  });
  const e = evidence({ olderReservations: [old], now: at(10 * 86_400_000) });
  assert.equal(statusOf(e, 'release-reservations'), 'not_met');
});

test('webhooks: a delivery dropped by fault injection is not the receiver failing; one still failing is', () => {
  const registrations = [
    {
      id: 'r1',
      url: 'https://shop.example/hook',
      events: ['authorized', 'aborted', 'expired', 'terminated'].map((n) => `epayments.payment.${n}.v1`),
      msn: '123456',
      pspId: null,
      createdAt: at(-1000),
      disabledAt: null,
      disabledReason: null,
    },
  ];
  const delivery = {
    id: 1,
    registrationId: 'r1',
    msn: '123456',
    reference: 'acme-order-1001',
    eventType: 'epayments.payment.authorized.v1',
    attempts: 1,
    deliveredAt: null,
    replayOf: null,
  };
  const attempt = {
    deliveryId: 1,
    registrationId: 'r1',
    msn: '123456',
    reference: 'acme-order-1001',
    eventType: 'epayments.payment.authorized.v1',
    attempt: 1,
    startedAt: at(100),
    durationMs: 0,
  };
  const dropped = evidence({
    payments: [payment()],
    registrations,
    deliveries: [{ ...delivery, state: 'dropped', droppedReason: 'fault', fault: 'drop (rule 3)' }],
    attempts: [{ ...attempt, httpStatus: null, outcome: 'fault_dropped', error: 'not sent', fault: 'drop (rule 3)' }],
  });
  assert.equal(statusOf(dropped, 'webhooks'), 'met');
  const failing = evidence({
    payments: [payment()],
    registrations,
    deliveries: [{ ...delivery, state: 'pending', droppedReason: null, fault: null }],
    attempts: [{ ...attempt, httpStatus: 500, outcome: 'http_error', error: 'HTTP 500', fault: null }],
  });
  const report = evaluateChecklist(failing);
  assert.equal(report.items.find((i) => i.id === 'webhooks')?.status, 'not_met');
  assert.match(reportMarkdown(report), /epayments\.payment\.authorized\.v1 still failing after 1 attempt\(s\); last answer: HTTP 500/);
  // A delivery a `duplicate` fault copied was still sent: its receiver's answer counts.
  const duplicated = evidence({
    payments: [payment()],
    registrations,
    deliveries: [{ ...delivery, state: 'pending', droppedReason: null, fault: 'duplicate (rule 5)' }],
    attempts: [{ ...attempt, httpStatus: 500, outcome: 'http_error', error: 'HTTP 500', fault: 'duplicate (rule 5)' }],
  });
  assert.equal(statusOf(duplicated, 'webhooks'), 'not_met');
  // A registration removed as unresponsive leads the offenders, ahead of its many failing deliveries.
  const removed = evaluateChecklist({
    ...failing,
    registrations: [...registrations, { ...registrations[0], id: 'r2', disabledAt: at(0), disabledReason: 'unresponsive' }],
  } as Evidence);
  assert.match(removed.items.find((i) => i.id === 'webhooks')?.offenders[0]?.reason ?? '', /removed as unresponsive/);
});

test('Vipps-System-* headers: missing, empty or longer than 30 characters', () => {
  assert.equal(systemHeaderProblem(request(0, 'GET', GET)), null);
  assert.match(
    systemHeaderProblem(request(0, 'GET', GET, { headers: { ...HEADERS, 'vipps-system-version': ' ' } })) ?? '',
    /missing Vipps-System-Version/,
  );
  assert.match(
    systemHeaderProblem(request(0, 'GET', GET, { headers: { ...HEADERS, 'vipps-system-name': 'a'.repeat(31) } })) ?? '',
    /longer than 30 characters: Vipps-System-Name/,
  );
  const token = request(0, 'POST', '/accesstoken/get', { headers: {}, reference: null });
  assert.equal(statusOf(evidence({ requests: [token] }), 'system-headers'), 'not_exercised', 'the token call is not judged');
});

test('descriptions: what is paid for, not an order number, a bare word, the merchant or the brand', () => {
  for (const good of [
    'One pair of socks',
    'Order 12 from Kassa Shop',
    'OrderId acme-shop-123-order123abc from webshop.no',
    'Till 7 receipt 31',
  ]) {
    assert.equal(descriptionProblem(good, 'acme-order-1001', 'Acme Sko'), null, good);
  }
  for (const bad of [
    undefined,
    ' ',
    '123456',
    'Order 1001',
    '#1001',
    'acme-order-1001',
    'Payment',
    'Vipps webshop',
    'Betaling med MobilePay',
    'Vippsbetaling for sokker',
    'VippsMobilePay gavekort',
    'Payment 1001',
    'Betaling 1001',
    'Kjøp #1001',
    'Shop number 12345',
    'ACME SKO',
  ]) {
    assert.notEqual(descriptionProblem(bad, 'acme-order-1001', 'Acme Sko'), null, String(bad));
  }
});

test('returnUrl: the reference, or the order id the reference carries, identifies the payment', () => {
  assert.ok(returnUrlIdentifiesPayment('https://shop.example/return?reference=acme-shop-123-order123abc', 'acme-shop-123-order123abc'));
  assert.ok(returnUrlIdentifiesPayment('https://shop.example/orders/order123abc/thanks', 'acme-shop-123-order123abc'));
  assert.ok(returnUrlIdentifiesPayment('myapp://paid/acme-shop-123-order123abc', 'acme-shop-123-order123abc'));
  assert.ok(returnUrlIdentifiesPayment('https://shop.example/orders/1004.html', 'shop-1004-abc'), 'a segment with an extension');
  assert.ok(!returnUrlIdentifiesPayment('https://shop.example/checkout/return', 'acme-shop-123-order123abc'));
  assert.ok(
    !returnUrlIdentifiesPayment('https://shop.example/shop/return', 'acme-shop-123-order123abc'),
    'a word of the reference is not an id',
  );
});

test('release reservations: a remainder within a day of the deadline is dangling; two days before it is not yet', () => {
  const authorized = payment({
    state: 'AUTHORIZED',
    authorized: 10000,
    captured: 4000,
    authorizedAt: at(0),
    captureDeadline: at(180 * 86_400_000),
  });
  const events = [event('CREATED', 0), event('AUTHORIZED', 0)];
  const near = evidence({ payments: [authorized], events, now: at(179.5 * 86_400_000) });
  assert.equal(statusOf(near, 'release-reservations'), 'not_met');
  const early = evidence({ payments: [authorized], events, now: at(178 * 86_400_000) });
  assert.equal(statusOf(early, 'release-reservations'), 'met');
});

test('the report period: a date, a time, or a duration back from now; 30 days by default', () => {
  const now = new Date('2026-05-04T10:00:00Z');
  assert.equal(parseSince(undefined, now)?.toISOString(), '2026-04-04T10:00:00.000Z');
  assert.equal(parseSince('7d', now)?.toISOString(), '2026-04-27T10:00:00.000Z');
  assert.equal(parseSince('90m', now)?.toISOString(), '2026-05-04T08:30:00.000Z');
  assert.equal(parseSince('2026-05-01', now)?.toISOString(), '2026-05-01T00:00:00.000Z');
  assert.equal(parseSince('2026-05-01T12:00:00+02:00', now)?.toISOString(), '2026-05-01T10:00:00.000Z');
  assert.equal(parseSince('yesterday', now), null);
  assert.equal(parseSince('2026-13-45', now), null);
});
