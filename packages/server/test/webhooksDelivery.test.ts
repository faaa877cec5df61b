/**
 * Webhook delivery (platform-guidelines §4.3–§4.6) to real HTTP receivers on loopback, with the
 * dispatcher run by hand (`server.deliverWebhooks()`) and time moved on the server clock: payloads,
 * signatures, the retry schedule, ordering per payment, outages, the 7-day drop, the two-week removal,
 * and the control API's attempt log and replay. The background dispatcher is in webhooksDispatcher.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { applyTransition } from '../src/operations/applyTransition.ts';
import { withLockedPayment } from '../src/operations/lockedPayment.ts';
import { abortPayment } from '../src/payments/stateMachine.ts';
import { findPayment, insertEvents } from '../src/store/paymentsStore.ts';
import { EPAYMENT_EVENT_TYPES } from '../src/webhooks/eventTypes.ts';
import { postWebhook, RECEIVER_DEADLINE_MS } from '../src/webhooks/postWebhook.ts';
import { RETRY_WINDOW_MS, retryDelayMs } from '../src/webhooks/retrySchedule.ts';
import { verifySignature } from '../src/webhooks/signWebhook.ts';
import { openApiSchema } from './support/openapi.ts';
import { assertFieldErrors, assertProblem } from './support/problems.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';
import { type ReceivedWebhook, WebhookReceiver } from './support/webhookReceiver.ts';

const TIMEOUT_MS = 1000;
const ALL = [...EPAYMENT_EVENT_TYPES];
const KASSA = '/kassa/v1/webhooks';

let server: TestServer;
before(async () => {
  // A 1 s receiver deadline instead of the platform's 10 s, so the timeout test stays short.
  server = await startTestServer({ KASSA_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
});
after(() => server.close());

interface Registration {
  id: string;
  secret: string;
  url: string;
}

async function register(url: string, events: string[] = ALL, unit = NO): Promise<Registration> {
  const reply = await server.call('POST', '/webhooks/v1/webhooks', { body: { url, events }, unit });
  assert.equal(reply.status, 201, reply.text);
  return { ...reply.body, url };
}

async function unregister(registration: Registration, unit = NO): Promise<void> {
  await server.call('DELETE', `/webhooks/v1/webhooks/${registration.id}`, { unit });
}

/**
 * The receiver's check, written from the documented algorithm (§4.4) with nothing but node:crypto, so
 * it does not share code with the server's signer.
 */
function verifiesAsDocumented(request: ReceivedWebhook, registeredUrl: string, secret: string): boolean {
  const url = new URL(registeredUrl);
  const date = request.headers['x-ms-date'] as string;
  const hash = createHash('sha256').update(Buffer.from(request.rawBody, 'utf8')).digest('base64');
  if (hash !== request.headers['x-ms-content-sha256']) return false;
  const toSign = `POST\n${url.pathname}${url.search}\n${date};${url.host};${hash}`;
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(toSign, 'utf8').digest('base64');
  const expected = Buffer.from(`HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`);
  const actual = Buffer.from(String(request.headers.authorization));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const validWebhookEvent = openApiSchema('WebhookEvent');

function ofReference(receiver: WebhookReceiver, reference: string): ReceivedWebhook[] {
  return receiver.requests.filter((r) => r.body?.reference === reference);
}

// biome-ignore lint/suspicious/noExplicitAny: control API JSON, read field by field in the assertions
type Json = Record<string, any>;

async function deliveriesOf(reference: string, unit = NO) {
  const reply = await server.call('GET', `${KASSA}/deliveries?reference=${reference}`, { unit });
  assert.equal(reply.status, 200, reply.text);
  return reply.body.deliveries as Json[];
}

async function attemptsOf(reference: string, unit = NO) {
  const reply = await server.call('GET', `${KASSA}/attempts?reference=${reference}`, { unit });
  assert.equal(reply.status, 200, reply.text);
  return (reply.body.attempts as Json[]).reverse();
}

const capture = (reference: string, value: number, key: string = crypto.randomUUID()) =>
  server.call('POST', `/epayment/v1/payments/${reference}/capture`, {
    idempotencyKey: key,
    body: { modificationAmount: { currency: 'NOK', value } },
  });

test('the documented verifier of this file accepts the published test vector and refuses the decoded-key variant', () => {
  const vector: ReceivedWebhook = {
    path: '/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
    rawBody: '{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}',
    body: undefined,
    headers: {
      'x-ms-date': 'Thu, 30 Mar 2023 08:38:32 GMT',
      'x-ms-content-sha256': 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
      authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
    },
    answer: { status: 200 },
    at: 0,
  };
  const secret = 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==';
  assert.ok(verifiesAsDocumented(vector, 'https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63', secret));
  const decoded = {
    ...vector,
    headers: {
      ...vector.headers,
      authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=T3+NXHMmhNVEjW5PeJ4Gql70nf0MOXCAY9CoZDxuVQw=',
    },
  };
  assert.ok(!verifiesAsDocumented(decoded, 'https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63', secret));
});

test('every ePayment event reaches the receiver with the exact payload of §4.3 and a signature that verifies (§4.4)', async () => {
  const receiver = await WebhookReceiver.start({ path: '/hooks/kassa?tenant=acme' });
  const registration = await register(receiver.url);
  try {
    // AUTHORIZED with profile sharing, CAPTURED, REFUNDED, CANCELLED.
    const full = await server.createPayment({ profile: { scope: 'name phoneNumber' }, amount: { currency: 'NOK', value: 49900 } });
    assert.equal(full.status, 201, full.text);
    assert.equal((await server.approve(full.reference, NO, { customer: { phoneNumber: '4791234567' } })).status, 200);
    assert.equal((await capture(full.reference, 20000, 'capture-key-1')).status, 200);
    const refund = await server.call('POST', `/epayment/v1/payments/${full.reference}/refund`, {
      idempotencyKey: 'refund-key-1',
      body: { modificationAmount: { currency: 'NOK', value: 5000 } },
    });
    assert.equal(refund.status, 200);
    assert.equal((await server.call('POST', `/epayment/v1/payments/${full.reference}/cancel`, { body: {} })).status, 200);
    // TERMINATED: cancelled before approval.
    const terminated = await server.createPayment();
    assert.equal(
      (await server.call('POST', `/epayment/v1/payments/${terminated.reference}/cancel`, { idempotencyKey: 'cancel-key-1', body: {} }))
        .status,
      200,
    );
    // ABORTED: the user rejects in the app (the same domain operation the app simulator uses).
    const aborted = await server.createPayment();
    await withLockedPayment(
      server.ctx.db,
      NO.msn,
      aborted.reference,
      () => server.clock.now(),
      (tx, payment) => applyTransition(tx, abortPayment(payment, server.clock.now()), server.clock.now()),
    );
    // EXPIRED: nobody acts before expiresAt.
    const expired = await server.createPayment();
    server.clock.advance(11 * 60 * 1000);
    assert.equal(await server.sweep(), 1);

    await server.deliverWebhooks();
    const payments = [full.reference, terminated.reference, aborted.reference, expired.reference];
    const expectedNames = [
      ['CREATED', 'AUTHORIZED', 'CAPTURED', 'REFUNDED', 'CANCELLED'],
      ['CREATED', 'TERMINATED'],
      ['CREATED', 'ABORTED'],
      ['CREATED', 'EXPIRED'],
    ];
    for (const [i, reference] of payments.entries()) assert.deepEqual(receiver.namesFor(reference), expectedNames[i]);
    assert.deepEqual(new Set(receiver.accepted.map((r) => r.body.name)).size, 8);

    for (const reference of payments) {
      const payment = (await server.call('GET', `/epayment/v1/payments/${reference}`)).body;
      const log = (await server.call('GET', `/epayment/v1/payments/${reference}/events`)).body as Array<Record<string, unknown>>;
      const received = ofReference(receiver, reference);
      assert.equal(received.length, log.length);
      received.forEach((request, i) => {
        const event = log[i] as Record<string, unknown>;
        // The payload is the event log entry plus the MSN, byte for byte in the documented field order.
        const expected: Record<string, unknown> = {
          msn: NO.msn,
          reference,
          pspReference: event.pspReference,
          name: event.name,
          amount: event.amount,
          timestamp: event.timestamp,
          idempotencyKey: event.idempotencyKey ?? null,
          success: event.success,
        };
        if (event.name === 'AUTHORIZED') {
          expected.captureGuaranteedUntil = payment.captureGuaranteedUntil;
          if (payment.profile.sub) {
            expected.sub = payment.profile.sub;
            expected.userDetails = payment.userDetails;
            expected.profile = { sub: payment.profile.sub };
          }
        }
        assert.equal(request.rawBody, JSON.stringify(expected));
        assert.ok(validWebhookEvent(request.body), JSON.stringify(validWebhookEvent.errors));

        assert.equal(request.path, '/hooks/kassa?tenant=acme');
        assert.equal(request.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(request.headers['webhook-id'], registration.id);
        assert.equal(request.headers.host, `127.0.0.1:${receiver.port}`);
        assert.match(
          String(request.headers['x-ms-date']),
          /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
        );
        assert.ok(verifiesAsDocumented(request, registration.url, registration.secret), 'signature by the documented algorithm');
        assert.deepEqual(
          verifySignature({ headers: request.headers, rawBody: request.rawBody, secret: registration.secret, url: registration.url }).ok,
          true,
        );
        assert.ok(!verifiesAsDocumented(request, registration.url, `${registration.secret}x`));
      });
    }
    const authorized = ofReference(receiver, full.reference)[1]?.body;
    assert.equal(authorized.userDetails.firstName, 'Ola');
    assert.match(authorized.sub, /\S/);
    assert.equal(ofReference(receiver, full.reference)[2]?.body.idempotencyKey, 'capture-key-1');
    assert.equal(ofReference(receiver, terminated.reference)[1]?.body.idempotencyKey, 'cancel-key-1');
    assert.equal(ofReference(receiver, expired.reference)[1]?.body.idempotencyKey, null);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('a registration gets only its event types and only its sales unit; a new registration sees only later events', async () => {
  const captures = await WebhookReceiver.start();
  const danish = await WebhookReceiver.start();
  const captureOnly = await register(captures.url, ['epayments.payment.captured.v1']);
  const dkAll = await register(danish.url, ALL, DK);
  try {
    const payment = await server.createPayment();
    await server.approve(payment.reference);
    const late = await WebhookReceiver.start();
    const lateRegistration = await register(late.url);
    await capture(payment.reference, 1000);
    await server.deliverWebhooks();
    assert.deepEqual(captures.namesFor(payment.reference), ['CAPTURED']);
    assert.equal(danish.requests.length, 0);
    assert.deepEqual(late.namesFor(payment.reference), ['CAPTURED']);
    await unregister(lateRegistration);
    await late.close();
  } finally {
    await unregister(captureOnly);
    await unregister(dkAll, DK);
    await captures.close();
    await danish.close();
  }
});

test('the outbox row is written in the transaction of its event: a rollback queues nothing', async () => {
  const receiver = await WebhookReceiver.start();
  const registration = await register(receiver.url);
  try {
    const { reference } = await server.createPayment();
    const payment = await findPayment(server.ctx.db, NO.msn, reference);
    assert.ok(payment);
    const count = async () =>
      (await server.ctx.db.query<{ n: number }>('select count(*)::int as n from webhook_deliveries where reference = $1', [reference]))
        .rows[0]?.n;
    assert.equal(await count(), 1);
    await assert.rejects(
      server.ctx.db.transaction(async (tx) => {
        await insertEvents(
          tx,
          payment,
          [{ name: 'ABORTED', amount: payment.amount, idempotencyKey: null, success: true }],
          server.clock.now(),
        );
        assert.equal(
          (await tx.query<{ n: number }>('select count(*)::int as n from webhook_deliveries where reference = $1', [reference])).rows[0]?.n,
          2,
        );
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await count(), 1);
    await server.deliverWebhooks();
    assert.deepEqual(receiver.namesFor(reference), ['CREATED']);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('the retry schedule of §4.5: 2 s ×4, 60 s, 120 s, hourly to attempt 29, daily, for 7 days; the deadline is 10 s', () => {
  const delays = Array.from({ length: 36 }, (_, i) => retryDelayMs(i + 1) / 1000);
  assert.deepEqual(delays.slice(0, 8), [2, 2, 2, 2, 60, 120, 3600, 3600]);
  assert.equal(delays[27], 3600); // after attempt 28: attempt 29 is the last hourly one
  assert.equal(delays[28], 86400);
  assert.equal(RETRY_WINDOW_MS, 7 * 86_400_000);
  assert.equal(RECEIVER_DEADLINE_MS, 10_000);
  assert.equal(loadConfig({}).webhookTimeoutMs, 10_000);
});

test('failures of every kind are retried on schedule, each attempt freshly signed, until a 2xx; every attempt is recorded', async () => {
  const script = [
    { status: 500 },
    { status: 503 },
    { status: 302 },
    { hang: true },
    { reset: true },
    { status: 404 },
    { status: 204 },
  ] as const;
  const receiver = await WebhookReceiver.start({ answer: (_request, index) => script[index] ?? { status: 200 } });
  const registration = await register(receiver.url, ['epayments.payment.created.v1']);
  try {
    const { reference } = await server.createPayment();
    assert.equal(await server.deliverWebhooks(), 1);
    // Each retry waits for its time on the server clock, and not a moment less.
    for (const delay of [2000, 2000, 2000, 2000, 60_000, 120_000]) {
      assert.equal(await server.deliverWebhooks(), 0, 'nothing is due before the backoff has passed');
      if (delay > 2000) {
        server.clock.advance(delay / 2);
        assert.equal(await server.deliverWebhooks(), 0);
        server.clock.advance(delay / 2);
      } else {
        server.clock.advance(delay);
      }
      assert.equal(await server.deliverWebhooks(), 1);
    }
    assert.equal(await server.deliverWebhooks(), 0);
    assert.equal(receiver.requests.length, 7);

    const attempts = await attemptsOf(reference);
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome, a.httpStatus, a.final]),
      [
        [1, 'http_error', 500, null],
        [2, 'http_error', 503, null],
        [3, 'redirect', 302, null],
        [4, 'timeout', null, null],
        [5, 'connect_error', null, null],
        [6, 'http_error', 404, null],
        [7, 'delivered', 204, 'delivered'],
      ],
    );
    const expectedDelays = [2000, 2000, 2000, 2000, 60_000, 120_000];
    attempts.slice(0, 6).forEach((a, i) => {
      const wait = Date.parse(a.nextAttemptAt) - Date.parse(a.startedAt);
      assert.ok(
        wait >= (expectedDelays[i] as number) && wait <= (expectedDelays[i] as number) + a.durationMs + 1000,
        `attempt ${a.attempt} waits ${wait} ms`,
      );
      assert.equal(Date.parse(attempts[i + 1]?.scheduledAt), Date.parse(a.nextAttemptAt));
      assert.equal(typeof a.error, 'string');
    });
    assert.ok(
      attempts[3]?.durationMs >= TIMEOUT_MS - 50 && attempts[3]?.durationMs < TIMEOUT_MS + 2000,
      `timeout after ${attempts[3]?.durationMs} ms`,
    );
    assert.match(attempts[3]?.error, /no answer within 1000 ms/);
    assert.match(attempts[4]?.error, /ECONNRESET|socket hang up/);
    assert.equal(attempts[6]?.error, null);
    for (const a of attempts) assert.equal(typeof a.durationMs, 'number');

    // Re-signed with a fresh date every time; every one verifies.
    const dates = receiver.requests.map((r) => r.headers['x-ms-date']);
    assert.equal(new Set(dates).size, dates.length);
    for (const request of receiver.requests) assert.ok(verifiesAsDocumented(request, registration.url, registration.secret));
    assert.deepEqual(new Set(receiver.requests.map((r) => r.rawBody)).size, 1);

    const [delivery] = await deliveriesOf(reference);
    assert.equal(delivery?.state, 'delivered');
    assert.equal(delivery?.attempts, 7);
    assert.ok(Date.parse(delivery?.deliveredAt) >= Date.parse(delivery?.committedAt));
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('in production mode a delivery never connects to a private address, whatever the name resolves to', async () => {
  const receiver = await WebhookReceiver.start();
  try {
    const request = { body: '{}', headers: { 'content-type': 'application/json; charset=utf-8' }, timeoutMs: 2000 };
    for (const url of [receiver.url, receiver.url.replace('127.0.0.1', 'localhost')]) {
      const refused = await postWebhook({ ...request, url, refusePrivateAddresses: true });
      assert.equal(refused.outcome, 'refused_address', url);
      assert.match(refused.error ?? '', /private/);
    }
    assert.equal(receiver.requests.length, 0);
    assert.equal((await postWebhook({ ...request, url: receiver.url })).outcome, 'delivered', 'test mode delivers to loopback');
    // A receiver that does not speak TLS on an https URL is a TLS failure.
    const tls = await postWebhook({ ...request, url: receiver.url.replace('http:', 'https:') });
    assert.equal(tls.outcome, 'tls_error', tls.error ?? '');
  } finally {
    await receiver.close();
  }
});

test('connections are kept alive; one the receiver dropped while idle is no failure of the receiver', async () => {
  // Answers the first request on each connection, and resets a connection that brings a second one.
  const connections: number[] = [];
  const receiver = createNetServer((socket) => {
    const index = connections.push(0) - 1;
    socket.on('data', (chunk: Buffer) => {
      if (!chunk.toString('latin1').includes('\r\n\r\n')) return;
      connections[index] = (connections[index] ?? 0) + 1;
      if (connections[index] === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n');
      else socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  try {
    const request = { url: `http://127.0.0.1:${port}/hook`, body: '{}', headers: { 'content-type': 'application/json' } };
    assert.equal((await postWebhook(request)).outcome, 'delivered');
    const again = await postWebhook(request);
    assert.equal(again.outcome, 'delivered', again.error ?? '');
    // The second webhook went out on the kept connection first, then on a new one.
    assert.deepEqual(connections, [2, 1]);
  } finally {
    receiver.close();
  }
});

test('an answer slower than usual but within the deadline is a success', async () => {
  const receiver = await WebhookReceiver.start({ answer: () => ({ status: 200, delayMs: 300 }) });
  const registration = await register(receiver.url, ['epayments.payment.created.v1']);
  try {
    const { reference } = await server.createPayment();
    assert.equal(await server.deliverWebhooks(), 1);
    const [attempt] = await attemptsOf(reference);
    assert.equal(attempt?.outcome, 'delivered');
    assert.ok(attempt?.durationMs >= 290, `took ${attempt?.durationMs} ms`);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('a failing event holds back the later events of its payment, and only of that payment (§4.5, open question 10)', async () => {
  let refuseAuthorizedOf = '';
  const receiver = await WebhookReceiver.start({
    answer: (request) =>
      request.body?.name === 'AUTHORIZED' && request.body.reference === refuseAuthorizedOf ? { status: 503 } : { status: 200 },
  });
  const registration = await register(receiver.url);
  try {
    const held = await server.createPayment();
    const free = await server.createPayment();
    refuseAuthorizedOf = held.reference;
    await server.approve(held.reference);
    await server.approve(free.reference);
    await capture(held.reference, 1000);
    await server.deliverWebhooks();
    assert.deepEqual(receiver.namesFor(held.reference), ['CREATED']);
    assert.deepEqual(receiver.namesFor(free.reference), ['CREATED', 'AUTHORIZED']);
    const waiting = (await deliveriesOf(held.reference)).find((d) => d.eventType === 'epayments.payment.captured.v1');
    assert.equal(waiting?.state, 'pending');
    assert.equal(waiting?.attempts, 0, 'CAPTURED is not even tried while AUTHORIZED fails');

    // The other payment goes on meanwhile.
    await capture(free.reference, 1000);
    await server.deliverWebhooks();
    assert.deepEqual(receiver.namesFor(free.reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);
    assert.deepEqual(receiver.namesFor(held.reference), ['CREATED']);

    refuseAuthorizedOf = '';
    server.clock.advance(2000);
    await server.deliverWebhooks();
    assert.deepEqual(receiver.namesFor(held.reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('a receiver that is down for hours gets every event once it is back, each once and in order', async () => {
  const receiver = await WebhookReceiver.start();
  const registration = await register(receiver.url);
  try {
    await receiver.stop();
    const references: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { reference } = await server.createPayment();
      await server.approve(reference);
      await capture(reference, 500 + i);
      references.push(reference);
    }
    assert.equal(await server.deliverWebhooks(), 3, 'one attempt per payment: the later events wait behind CREATED');
    for (const step of [2000, 2000, 2000, 2000, 60_000, 120_000, 3_600_000, 3_600_000]) {
      server.clock.advance(step);
      assert.equal(await server.deliverWebhooks(), 3);
    }
    const failed = await attemptsOf(references[0] as string);
    assert.ok(failed.every((a) => a.outcome === 'connect_error' && /ECONNREFUSED/.test(a.error)));

    await receiver.listen();
    server.clock.advance(3_600_000);
    await server.deliverWebhooks();
    for (const reference of references) assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED', 'CAPTURED']);
    assert.equal(receiver.requests.length, 9);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('after 7 days without success a delivery is dropped, and the payment’s next event goes on (§4.5)', async () => {
  let refuse = '';
  const receiver = await WebhookReceiver.start({
    answer: (request) => (request.body?.reference === refuse && request.body.name === 'CREATED' ? { status: 500 } : { status: 200 }),
  });
  const registration = await register(receiver.url);
  try {
    const { reference } = await server.createPayment();
    refuse = reference;
    await server.approve(reference);
    const start = server.clock.nowMs();
    for (let i = 0; i < 60; i += 1) {
      await server.deliverWebhooks();
      const created = (await deliveriesOf(reference)).find((d) => d.eventType === 'epayments.payment.created.v1');
      if (created?.state !== 'pending') break;
      server.clock.advance(Math.max(0, Date.parse(created.nextAttemptAt) - server.clock.nowMs()) + 1);
    }
    const created = (await deliveriesOf(reference)).find((d) => d.eventType === 'epayments.payment.created.v1');
    assert.equal(created?.state, 'dropped');
    assert.match(created?.droppedReason, /7 days/);
    // 5 attempts 2 s apart, +60 s, +120 s, hourly to attempt 29, then daily while within 7 days: 35.
    assert.equal(created?.attempts, 35);
    const attempts = (await attemptsOf(reference)).filter((a) => a.eventType === 'epayments.payment.created.v1');
    assert.equal(attempts.length, 35);
    assert.equal(attempts.at(-1)?.final, 'dropped');
    assert.ok(Date.parse(attempts.at(-1)?.startedAt) - Date.parse(attempts[0]?.startedAt) <= RETRY_WINDOW_MS);
    assert.ok(server.clock.nowMs() - start > 6 * 86_400_000);
    // The event that waited behind it went out as soon as it was dropped.
    assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED']);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('a registration whose deliveries fail every day for two weeks is removed (§4.5, open question 12)', async () => {
  const receiver = await WebhookReceiver.start({ answer: () => ({ status: 500 }) });
  const registration = await register(receiver.url, ['epayments.payment.created.v1']);
  const listed = async () =>
    ((await server.call('GET', '/webhooks/v1/webhooks')).body.webhooks as Array<{ id: string }>).some((w) => w.id === registration.id);
  try {
    const start = server.clock.nowMs();
    let day = 0;
    while (server.clock.nowMs() - start < 13.5 * 86_400_000) {
      await server.createPayment();
      await server.deliverWebhooks();
      server.clock.advance(20 * 3_600_000);
      day += 1;
    }
    assert.ok(await listed(), `still registered after ${day} failing days (< 14)`);
    // The clock is now 20 h past the last failure, and more than 14 days past the first.
    await server.createPayment();
    await server.deliverWebhooks();
    assert.ok(!(await listed()), 'removed after 14 days of failures');

    const health = (await server.call('GET', `${KASSA}/registrations`)).body.registrations.find(
      (r: { id: string }) => r.id === registration.id,
    );
    assert.equal(health.disabledReason, 'unresponsive');
    assert.ok(health.failingSince && health.disabledAt);
    assert.equal(health.lastSuccessAt, null);
    const pending = await server.call('GET', `${KASSA}/deliveries?registrationId=${registration.id}&state=pending`);
    assert.deepEqual(pending.body.deliveries, []);
    const dropped = await server.call('GET', `${KASSA}/deliveries?registrationId=${registration.id}&state=dropped&limit=1000`);
    assert.ok(dropped.body.deliveries.length > 0);
    assert.ok(dropped.body.deliveries.every((d: { droppedReason: string }) => /unresponsive|7 days/.test(d.droppedReason)));

    // No more attempts to it.
    const before = receiver.requests.length;
    await server.createPayment();
    server.clock.advance(86_400_000);
    await server.deliverWebhooks();
    assert.equal(receiver.requests.length, before);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});

test('the control API lists deliveries and attempts with committed and delivered times, and replays them', async () => {
  let failing = false;
  const receiver = await WebhookReceiver.start({ answer: () => (failing ? { status: 500 } : { status: 200 }) });
  const registration = await register(receiver.url, ['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);
  try {
    const { reference } = await server.createPayment();
    await server.deliverWebhooks();
    const [delivery] = await deliveriesOf(reference);
    assert.deepEqual(Object.keys(delivery ?? {}).sort(), [
      'attempts',
      'committedAt',
      'deliveredAt',
      'droppedReason',
      'eventType',
      'fault',
      'firstAttemptAt',
      'id',
      'msn',
      'nextAttemptAt',
      'pspReference',
      'reference',
      'registrationId',
      'replayOf',
      'state',
      'url',
    ]);
    assert.equal(delivery?.state, 'delivered');
    assert.equal(delivery?.registrationId, registration.id);
    assert.equal(delivery?.url, receiver.url);
    const [attempt] = await attemptsOf(reference);
    for (const field of ['scheduledAt', 'startedAt', 'sentAt', 'committedAt', 'deliveredAt'])
      assert.ok(!Number.isNaN(Date.parse(attempt?.[field])), field);
    assert.equal(attempt?.xMsDate, receiver.requests[0]?.headers['x-ms-date']);
    assert.ok(Date.parse(attempt?.deliveredAt) >= Date.parse(attempt?.committedAt), 'delivered after it was committed');
    assert.equal(attempt?.httpStatus, 200);

    // Replaying a delivered event sends it again (a duplicate by request), signed afresh.
    const replay = await server.call('POST', `${KASSA}/deliveries/${delivery?.id}/replay`);
    assert.equal(replay.status, 202, replay.text);
    assert.equal(replay.body.delivery.replayOf, delivery?.id);
    assert.equal(replay.body.delivery.state, 'pending');
    await server.deliverWebhooks();
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[1]?.rawBody, receiver.requests[0]?.rawBody);
    assert.ok(verifiesAsDocumented(receiver.requests[1] as ReceivedWebhook, registration.url, registration.secret));

    // Replaying a delivery that waits for its backoff tries it now, without moving the clock.
    failing = true;
    await server.approve(reference);
    await server.deliverWebhooks();
    const authorized = (await deliveriesOf(reference)).find((d) => d.eventType === 'epayments.payment.authorized.v1');
    assert.equal(authorized?.state, 'pending');
    failing = false;
    assert.equal(await server.deliverWebhooks(), 0);
    assert.equal((await server.call('POST', `${KASSA}/deliveries/${authorized?.id}/replay`)).status, 202);
    assert.equal(await server.deliverWebhooks(), 1);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'CREATED', 'AUTHORIZED']);

    const filtered = await server.call('GET', `${KASSA}/attempts?reference=${reference}&deliveryId=${authorized?.id}&limit=1`);
    assert.equal(filtered.body.attempts.length, 1);
    assert.equal(filtered.body.attempts[0].final, 'delivered');

    // Errors are Problems; another unit sees nothing of these.
    const path = `${KASSA}/deliveries/${delivery?.id}/replay`;
    assertProblem(await server.call('POST', path, { unit: DK }), 404, 'POST', path);
    assert.deepEqual((await deliveriesOf(reference, DK)).length, 0);
    assertProblem(await server.call('POST', `${KASSA}/deliveries/999999999/replay`), 404, 'POST', `${KASSA}/deliveries/999999999/replay`);
    assertFieldErrors(await server.call('POST', `${KASSA}/deliveries/abc/replay`), 'POST', `${KASSA}/deliveries/abc/replay`, ['id']);
    const badQuery = `${KASSA}/deliveries?state=lost&limit=0&colour=red&registrationId=x`;
    assertFieldErrors(await server.call('GET', badQuery), 'GET', badQuery, ['state', 'limit', 'colour', 'registrationId']);
    assertProblem(await server.call('GET', `${KASSA}/attempts`, { anonymous: true }), 401, 'GET', `${KASSA}/attempts`);

    await unregister(registration);
    assertProblem(await server.call('POST', path), 409, 'POST', path);
  } finally {
    await unregister(registration);
    await receiver.close();
  }
});
