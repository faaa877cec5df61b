/**
 * The reference shop against Kassa's go-live checklist report (issue 7; docs/checklist.md): a shop
 * that follows the guidelines gets every exercised item met. The shop runs as it does in production —
 * webhooks in the background, the SDK's tracker polling — on a scheduler that follows Kassa's clock,
 * so the test moves time instead of waiting for it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scheduler } from '@kassa/sdk';
import type { ChecklistReport } from '../../../packages/server/src/checklist/types.ts';
import { NO, startTestServer, type TestServer } from '../../../packages/server/test/support/testServer.ts';
import { checkout, eventually, type Harness, startKassaAndShop } from './support/shopHarness.ts';

/** Timers on Kassa's clock: `advance` moves the clock from one due timer to the next and lets each fire. */
class KassaClockScheduler implements Scheduler {
  readonly #kassa: () => TestServer;
  #timers: { id: number; due: number; callback: () => void }[] = [];
  #next = 1;

  constructor(kassa: () => TestServer) {
    this.#kassa = kassa;
  }

  now(): number {
    return this.#kassa().clock.nowMs();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#next++, due: this.now() + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Moves Kassa's clock by `ms`, firing due timers in order; `settle` waits for what each one started. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const target = this.now() + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      const wait = next.due - this.now();
      if (wait > 0) this.#kassa().clock.advance(wait);
      next.callback();
      await settle();
    }
    const rest = target - this.now();
    if (rest > 0) this.#kassa().clock.advance(rest);
  }
}

const DANISH_USER = '4511223344';
let kassa: TestServer;
let h: Harness;
const scheduler = new KassaClockScheduler(() => kassa);

before(async () => {
  kassa = await startTestServer({}, { backgroundWebhooks: true });
  h = await startKassaAndShop({ scheduler }, kassa);
});
after(async () => {
  await h?.close();
  await kassa?.close();
});

/** Lets the tracker's polls in flight finish. */
async function trackerIdle(): Promise<void> {
  const tracker = h.shop.payments.tracker;
  await Promise.all(tracker.tracked().map((reference) => tracker.track(reference).idle()));
}

const order = (reference: string) => h.shop.store.get(reference) as NonNullable<ReturnType<typeof h.shop.store.get>>;
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  redirect: 'manual' as const,
});

async function report(): Promise<ChecklistReport> {
  await h.kassa.requestLog.flush();
  const reply = await h.kassa.call('GET', `/kassa/v1/report?msn=${NO.msn}&since=2000-01-01`, { anonymous: true });
  assert.equal(reply.status, 200, reply.text);
  return reply.body as ChecklistReport;
}

test('the reference shop gets every exercised item of the go-live checklist met', async () => {
  // A customer from Denmark pays; the shop polls until the webhook or a poll says AUTHORIZED.
  const paid = await checkout(h.shop, 'socks-wool:2,thermos:1');
  await scheduler.advance(7_500, trackerIdle);
  const approved = await h.kassa.approve(paid.reference, NO, { customer: { phoneNumber: DANISH_USER } });
  assert.equal(approved.status, 200, approved.text);
  await eventually(() => order(paid.reference).paymentState === 'AUTHORIZED' && order(paid.reference).amounts.authorized > 0);
  const returnPage = await fetch(`${h.shop.url}/return?reference=${paid.reference}`);
  assert.equal(returnPage.status, 200);

  // Staff ship one pair of socks (capture), refund part of it, and close the order (the rest is cancelled).
  const admin = `${h.shop.url}/admin/orders/${paid.reference}`;
  assert.equal((await fetch(`${admin}/ship`, form({ 'qty_socks-wool': '1' }))).status, 303);
  assert.equal((await fetch(`${admin}/refund`, form({ amount: '49,90' }))).status, 303);
  assert.equal((await fetch(`${admin}/close`, form({}))).status, 303);
  assert.equal(order(paid.reference).amounts.cancelled, 14900 + 49900);
  assert.equal((await fetch(admin)).status, 200, 'the order page reads the event log');

  // A customer cancels on the landing page: ABORTED, told by webhook.
  const aborted = await checkout(h.shop, 'thermos:1');
  await scheduler.advance(5_500, trackerIdle);
  await fetch(`${h.kassa.url}/landing/cancel`, form({ token: aborted.token }));
  await eventually(() => order(aborted.reference).paymentState === 'ABORTED');

  // A customer never pays: the tracker polls every 2 s until the payment expires after 10 minutes.
  const unpaid = await checkout(h.shop, 'mug-enamel:1');
  await scheduler.advance(10 * 60 * 1000 + 5_000, trackerIdle);
  await eventually(() => order(unpaid.reference).paymentState === 'EXPIRED');

  // Final states are judged once the grace period for webhooks in flight has passed.
  h.kassa.clock.advance(3 * 60 * 1000);
  const result = await report();
  const notMet = result.items.filter((item) => item.status === 'not_met');
  assert.deepEqual(notMet, [], JSON.stringify(notMet, null, 2));
  assert.equal(result.passed, true);
  const met = result.items.filter((item) => item.status === 'met').map((item) => item.id);
  for (const id of [
    'endpoints',
    'webhooks',
    'polling',
    'rate-limits',
    'all-states',
    'system-headers',
    'idempotency',
    'receipt',
    'description',
    'return-url',
    'capture-before-expiry',
    'release-reservations',
    'cross-border',
  ]) {
    assert.ok(met.includes(id), `${id} is met: ${JSON.stringify(result.items.find((item) => item.id === id))}`);
  }
  const states = result.items.find((item) => item.id === 'all-states')?.counts;
  assert.equal(states?.AUTHORIZED, 1);
  assert.equal(states?.ABORTED, 1);
  assert.equal(states?.EXPIRED, 1);
  const polling = result.items.find((item) => item.id === 'polling')?.counts;
  assert.ok((polling?.polls ?? 0) > 250, `the unpaid order was polled every 2 s for 10 minutes: ${JSON.stringify(polling)}`);
});
