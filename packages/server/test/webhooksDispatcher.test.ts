/**
 * The background webhook dispatcher (platform-guidelines §4.5) as a running server uses it: woken by
 * LISTEN/NOTIFY, many attempts at once, order per payment under concurrency, receivers that hang or
 * fail holding up nobody else, and claims given back on shutdown.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLogger } from '../src/logger.ts';
import type { Queryable } from '../src/store/database.ts';
import { claimDeliveries, recordDeliveries, releaseDeliveries } from '../src/store/webhooksStore.ts';
import { WebhookDispatcher } from '../src/webhooks/webhookDispatcher.ts';
import { NO, startTestServer, type TestServer } from './support/testServer.ts';
import { type AnswerPolicy, WebhookReceiver } from './support/webhookReceiver.ts';

let manual: TestServer;
let background: TestServer;
before(async () => {
  [manual, background] = await Promise.all([startTestServer(), startTestServer({}, { backgroundWebhooks: true })]);
});
after(async () => {
  await Promise.all([manual.close(), background.close()]);
});

async function register(server: TestServer, url: string, events?: string[]): Promise<string> {
  const all = ['created', 'authorized', 'captured', 'refunded', 'cancelled', 'terminated', 'aborted', 'expired'];
  const reply = await server.call('POST', '/webhooks/v1/webhooks', {
    body: { url, events: events ?? all.map((name) => `epayments.payment.${name}.v1`) },
  });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.id;
}

const unregister = (server: TestServer, id: string) => server.call('DELETE', `/webhooks/v1/webhooks/${id}`);

function dispatcherOn(server: TestServer, pollMs: number): WebhookDispatcher {
  return new WebhookDispatcher({ db: server.ctx.db, clock: server.clock, log: createLogger('silent'), mode: 'test', pollMs });
}

/** Moves the server clock on while waiting, so retries (2 s backoff on that clock) come due quickly. */
async function whileAdvancing<T>(server: TestServer, work: Promise<T>): Promise<T> {
  let done = false;
  const ticking = (async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (!done) server.clock.advance(2000);
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await ticking;
  }
}

test('a dispatcher that only listens gets new events through NOTIFY at commit, without polling', async () => {
  const receiver = await WebhookReceiver.start();
  const id = await register(manual, receiver.url, ['epayments.payment.created.v1']);
  // Its one poll runs at start; the next would be in an hour.
  const listening = dispatcherOn(manual, 3_600_000);
  await listening.start();
  try {
    const { reference } = await manual.createPayment();
    await receiver.waitFor('the CREATED webhook', (r) => r.namesFor(reference).length === 1, 20_000);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED']);
  } finally {
    await listening.stop();
    await unregister(manual, id);
    await receiver.close();
  }
});

test('a queue left without a head (a new event racing a finishing delivery) is repaired', async () => {
  // The race itself is a matter of microseconds; its outcome is made here by hand: a pending delivery
  // that is not its queue's head and has none before it.
  const receiver = await WebhookReceiver.start();
  const id = await register(manual, receiver.url, ['epayments.payment.created.v1']);
  const unhead = async (reference: string) => {
    const { rows } = await manual.ctx.db.query(
      "update webhook_deliveries set is_head = false where reference = $1 and state = 'pending' returning id",
      [reference],
    );
    assert.equal(rows.length, 1);
  };
  const listening = dispatcherOn(manual, 3_600_000);
  try {
    // Without a background dispatcher, deliverWebhooks() repairs every queue first.
    const first = await manual.createPayment();
    await unhead(first.reference);
    assert.equal(await manual.deliverWebhooks(), 1);
    assert.deepEqual(receiver.namesFor(first.reference), ['CREATED']);
    // A dispatcher starting up repairs whatever an earlier run left.
    const second = await manual.createPayment();
    await unhead(second.reference);
    await listening.start();
    await receiver.waitFor('the repaired delivery', (r) => r.namesFor(second.reference).length === 1, 20_000);
  } finally {
    await listening.stop();
    await unregister(manual, id);
    await receiver.close();
  }
});

test('a writer that queues a delivery behind a pending one names the payment in its NOTIFY, for the repair', async () => {
  const receiver = await WebhookReceiver.start();
  const id = await register(manual, receiver.url, ['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);
  const payloads: string[] = [];
  const unlisten = await manual.ctx.db.listen('kassa_webhooks', (payload) => payloads.push(payload));
  try {
    const { reference } = await manual.createPayment();
    // Nothing delivers in manual mode: the AUTHORIZED delivery queues behind the pending CREATED one.
    assert.equal((await manual.approve(reference)).status, 200);
    const { rows } = await manual.ctx.db.query<{ payment_id: number; is_head: boolean }>(
      "select payment_id, is_head from webhook_deliveries where reference = $1 and state = 'pending' order by id",
      [reference],
    );
    assert.deepEqual(
      rows.map((r) => r.is_head),
      [true, false],
    );
    const paymentId = String(rows[0]?.payment_id);
    const deadline = Date.now() + 5000;
    while (!payloads.includes(paymentId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(
      payloads.filter((p) => p !== ''),
      [paymentId],
      'the CREATED commit names no payment, the AUTHORIZED one does',
    );
    assert.equal(await manual.deliverWebhooks(), 2);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED']);
  } finally {
    await unlisten();
    await unregister(manual, id);
    await receiver.close();
  }
});

test('stopping a dispatcher mid-delivery gives its claim back, and another process delivers the event at once', async () => {
  const receiver = await WebhookReceiver.start({ answer: (_request, index) => (index === 0 ? { hang: true } : { status: 200 }) });
  const id = await register(manual, receiver.url, ['epayments.payment.created.v1']);
  const first = dispatcherOn(manual, 3_600_000);
  await first.start();
  try {
    const { reference } = await manual.createPayment();
    await receiver.waitFor('the first, hanging request', (r) => r.openRequests === 1, 20_000);
    // Meanwhile the claim keeps everyone else off it.
    assert.equal(await manual.deliverWebhooks(), 0);
    await first.stop(100);
    assert.equal(await manual.deliverWebhooks(), 1);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED']);
    assert.equal(receiver.requests.length, 2);
    // The abandoned request was no attempt: one attempt, delivered.
    const attempts = (await manual.call('GET', `/kassa/v1/webhooks/attempts?reference=${reference}`)).body.attempts;
    assert.deepEqual(
      attempts.map((a: { outcome: string; worker: string }) => a.outcome),
      ['delivered'],
    );
    assert.notEqual(attempts[0].worker, first.worker);
  } finally {
    await first.stop(100);
    await unregister(manual, id);
    await receiver.close();
  }
});

test('under concurrency every payment’s events arrive in order and once, with failures and slow answers mixed in', async () => {
  // Every third event fails its first attempt; answers take 0–15 ms.
  const failedOnce = new Set<string>();
  const answer: AnswerPolicy = (request) => {
    const key = `${request.body?.reference}/${request.body?.pspReference}`;
    const unlucky = (createHash('sha256').update(key).digest()[0] ?? 0) % 3 === 0;
    if (unlucky && !failedOnce.has(key)) {
      failedOnce.add(key);
      return { status: 500 };
    }
    return { status: 200, delayMs: Math.floor(Math.random() * 15) };
  };
  const receiver = await WebhookReceiver.start({ answer });
  const id = await register(background, receiver.url);
  try {
    const expected = ['CREATED', 'AUTHORIZED', 'CAPTURED', 'CAPTURED', 'REFUNDED', 'CANCELLED'];
    const modify = (reference: string, action: string, value?: number) =>
      background.call('POST', `/epayment/v1/payments/${reference}/${action}`, {
        idempotencyKey: crypto.randomUUID(),
        body: value === undefined ? {} : { modificationAmount: { currency: 'NOK', value } },
      });
    const references = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const { reference, status } = await background.createPayment();
        assert.equal(status, 201);
        assert.equal((await background.approve(reference)).status, 200);
        assert.equal((await modify(reference, 'capture', 2000)).status, 200);
        assert.equal((await modify(reference, 'capture', 3000)).status, 200);
        assert.equal((await modify(reference, 'refund', 1000)).status, 200);
        assert.equal((await modify(reference, 'cancel')).status, 200);
        return reference;
      }),
    );
    await whileAdvancing(
      background,
      receiver.waitFor('every event of every payment', (r) => references.every((ref) => r.namesFor(ref).length >= expected.length), 60_000),
    );
    for (const reference of references) {
      assert.deepEqual(receiver.namesFor(reference), expected, reference);
      // In arrival order, a request is always for the oldest event not yet accepted: never ahead of it.
      const log = (await background.call('GET', `/epayment/v1/payments/${reference}/events`)).body as Array<{ pspReference: string }>;
      let next = 0;
      for (const request of receiver.requests.filter((r) => r.body?.reference === reference)) {
        assert.equal(request.body.pspReference, log[next]?.pspReference, `${reference}: out of order`);
        if ('status' in request.answer && request.answer.status < 300) next += 1;
      }
      assert.equal(next, expected.length);
    }
    assert.ok(failedOnce.size > 0, 'some first attempts failed');
  } finally {
    await unregister(background, id);
    await receiver.close();
  }
});

test('receivers that hang, reset, fail or answer slowly never hold up a healthy one', async () => {
  const hanging = await WebhookReceiver.start({ answer: () => ({ hang: true }) });
  const resetting = await WebhookReceiver.start({ answer: () => ({ reset: true }) });
  const failing = await WebhookReceiver.start({ answer: () => ({ status: 500 }) });
  const slow = await WebhookReceiver.start({ answer: () => ({ status: 200, delayMs: 400 }) });
  const healthy = await WebhookReceiver.start();
  const receivers = [hanging, resetting, failing, slow, healthy];
  const created = ['epayments.payment.created.v1'];
  const ids = [];
  for (const receiver of receivers) ids.push(await register(background, receiver.url, created));
  try {
    // More payments than a registration's share of the attempts (32 of the default 128).
    const references = (await Promise.all(Array.from({ length: 40 }, () => background.createPayment()))).map((p) => p.reference);
    await healthy.waitFor('all events at the healthy receiver', (r) => references.every((ref) => r.namesFor(ref).length === 1), 20_000);
    // The receiver deadline is 10 s: the hanging receiver is still holding its requests open, yet the
    // healthy one has everything, and the hanging one was not sent more than its share at once.
    assert.ok(hanging.openRequests > 0, 'the hanging receiver is still hanging');
    assert.ok(hanging.requests.length <= 32, `${hanging.requests.length} requests to the hanging receiver at once`);
    assert.ok(resetting.requests.length > 0 && failing.requests.length > 0);
    await slow.waitFor('all events at the slow receiver', (r) => references.every((ref) => r.namesFor(ref).length === 1), 20_000);
  } finally {
    for (const id of ids) await unregister(background, id);
    for (const receiver of receivers) await receiver.close();
  }
});

test('the background server delivers without being asked: the test harness does not need deliverWebhooks()', async () => {
  const receiver = await WebhookReceiver.start();
  const id = await register(background, receiver.url, ['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);
  try {
    const { reference } = await background.createPayment();
    await background.approve(reference, NO);
    await receiver.waitFor('CREATED and AUTHORIZED', (r) => r.namesFor(reference).length === 2, 20_000);
    assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED']);
  } finally {
    await unregister(background, id);
    await receiver.close();
  }
});

test('successes that finish together are recorded in one statement, each claiming its own payment’s next event', async () => {
  const receiver = await WebhookReceiver.start();
  const id = await register(manual, receiver.url, ['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);
  try {
    // Nothing delivers in manual mode: each payment has its CREATED delivery as head, AUTHORIZED behind it.
    const references: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { reference } = await manual.createPayment();
      assert.equal((await manual.approve(reference)).status, 200);
      references.push(reference);
    }
    const db = manual.ctx.db;
    const now = manual.clock.now();
    const claimed = await claimDeliveries(db, { now, limit: 10, perRegistration: 10, inFlight: new Map(), leaseMs: 60_000, worker: 'w1' });
    assert.deepEqual(claimed.map((d) => d.event.name).sort(), ['CREATED', 'CREATED', 'CREATED', 'CREATED']);
    const reports = claimed.map((d, i) => ({
      report: {
        deliveryId: d.id,
        registrationId: d.registrationId,
        // The last one's claim is not this worker's (it expired and another process took it over).
        worker: i === claimed.length - 1 ? 'w2' : 'w1',
        scheduledAt: d.scheduledAt,
        startedAt: now,
        endedAt: now,
        xMsDate: now.toUTCString(),
        sentAt: new Date(),
        durationMs: 3,
        httpStatus: 200,
        outcome: 'delivered' as const,
        error: null,
        healthyJustNow: true,
      },
      chain: { leaseMs: 60_000, now },
    }));
    let statements = 0;
    const counting: Queryable = {
      query: (sql, params) => {
        statements += 1;
        return db.query(sql, params);
      },
      exec: (sql) => db.exec(sql),
    };
    const recorded = await recordDeliveries(counting, reports);
    assert.equal(statements, 2, 'one statement for the three successes, one for the lost claim');
    for (const [i, d] of claimed.entries()) {
      const result = recorded[i];
      assert.equal(result?.attempt, 1);
      if (i === claimed.length - 1) {
        assert.equal(result?.final, null, 'a lost claim changes nothing about the delivery');
        assert.equal(result?.next, null);
        continue;
      }
      assert.equal(result?.final, 'delivered');
      assert.equal(result?.next?.paymentId, d.paymentId, 'the next event is of the same payment');
      assert.equal(result?.next?.event.name, 'AUTHORIZED');
    }
    const { rows } = await db.query<{ name: string; state: string; is_head: boolean; leased_by: string | null }>(
      `select e.name, d.state, d.is_head, d.leased_by from webhook_deliveries d join payment_events e on e.id = d.event_id
        where d.reference = any ($1::text[]) order by d.id`,
      [references],
    );
    const lost = claimed.at(-1)?.event.reference;
    assert.deepEqual(
      rows.filter((r) => r.name === 'AUTHORIZED').map((r) => r.leased_by),
      references.map((ref) => (ref === lost ? null : 'w1')),
      'each delivered payment’s AUTHORIZED delivery is claimed for the worker; the lost one’s queue is untouched',
    );
    // The rest goes out as usual once w1's claims are given back: the lost one's two events, the three AUTHORIZED.
    await releaseDeliveries(db, claimed.map((d) => d.id).concat(recorded.flatMap((r) => (r.next ? [r.next.id] : []))), 'w1');
    assert.equal(await manual.deliverWebhooks(), 5);
  } finally {
    await unregister(manual, id);
    await receiver.close();
  }
});
