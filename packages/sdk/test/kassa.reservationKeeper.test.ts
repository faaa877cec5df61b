/**
 * The reservation keeper against Kassa, with Kassa's clock moved to the capture deadlines: capture or
 * cancel by the merchant's rule, the remainder cancelled after a partial capture, "wait" overruled near
 * the deadline (180 days in Norway, 14 in Denmark), and no double capture when a run is repeated.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type Client,
  createReservationKeeper,
  type ReservationDecision,
  type ReservationReport,
  type ReservationRule,
  type Scheduler,
  systemScheduler,
} from '../src/index.ts';
import { ManualScheduler } from '../src/scheduler.ts';
import { clientFor, DK, newReference, startTestServer, type TestServer } from './support/kassa.ts';

const DAY = 24 * 60 * 60 * 1000;

let server: TestServer;
let client: Client;
let dkClient: Client;
/** The keeper reads "now" from Kassa's clock, which the tests move. */
let kassaTime: Scheduler;

before(async () => {
  server = await startTestServer();
  client = clientFor(server);
  dkClient = clientFor(server, DK);
  kassaTime = { now: () => server.clock.nowMs(), setTimeout: systemScheduler.setTimeout, clearTimeout: systemScheduler.clearTimeout };
});
after(() => server.close());

async function authorized(value: number, c: Client = client): Promise<string> {
  const reference = newReference('keep');
  await c.epayment.createPayment({
    amount: { currency: c === dkClient ? 'DKK' : 'NOK', value },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
  });
  await c.epayment.forceApprovePayment(reference, { customer: { phoneNumber: c === dkClient ? '4511223344' : '4791234567' } });
  return reference;
}

/** A keeper over the merchant's own list of authorized orders, which forgets an order once it is settled. */
function keeperFor(references: string[], rule: ReservationRule, c: Client = client, extra: { atDeadline?: 'cancel' | 'capture' } = {}) {
  const open = new Set(references);
  const keeper = createReservationKeeper({
    epayment: c.epayment,
    store: { authorizedReferences: () => [...open], settled: (reference) => void open.delete(reference) },
    rule,
    scheduler: kassaTime,
    ...extra,
  });
  return { keeper, store: { open } };
}

const byReference = (reports: ReservationReport[]) => Object.fromEntries(reports.map((r) => [r.reference, r]));

test('captures, partial capture with the rest released, cancel, wait; payments that need nothing are settled', async () => {
  const shipped = await authorized(10000);
  const partlyShipped = await authorized(10000);
  const abandoned = await authorized(5000);
  const notYetShipped = await authorized(8000);
  const alreadyCaptured = await authorized(2000);
  await client.epayment.capturePayment(alreadyCaptured, { modificationAmount: { currency: 'NOK', value: 2000 } });
  const completeAfterPartial = await authorized(10000);
  await client.epayment.capturePayment(completeAfterPartial, { modificationAmount: { currency: 'NOK', value: 4000 } });
  const unpaid = newReference('keep');
  await client.epayment.createPayment({
    amount: { currency: 'NOK', value: 1000 },
    paymentMethod: { type: 'WALLET' },
    reference: unpaid,
    userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return',
  });

  const decisions: Record<string, ReservationDecision> = {
    [shipped]: { action: 'capture' },
    [partlyShipped]: { action: 'capture', amount: 3000 },
    [abandoned]: { action: 'cancel' },
    [notYetShipped]: { action: 'wait' },
    [completeAfterPartial]: { action: 'cancel' },
  };
  const seen: Record<string, { remaining: number; days: number }> = {};
  const { keeper, store } = keeperFor(
    [shipped, partlyShipped, abandoned, notYetShipped, alreadyCaptured, completeAfterPartial, unpaid],
    (ctx) => {
      seen[ctx.reference] = {
        remaining: ctx.remaining,
        days: Math.round((ctx.captureDeadline.getTime() - ctx.authorizedAt.getTime()) / DAY),
      };
      return decisions[ctx.reference] ?? { action: 'wait' };
    },
  );
  const reports = byReference(await keeper.runOnce());

  assert.equal(reports[shipped]?.action, 'captured');
  assert.equal(reports[shipped]?.capturedAmount, 10000);
  assert.equal(reports[partlyShipped]?.action, 'captured-and-cancelled-rest');
  assert.deepEqual([reports[partlyShipped]?.capturedAmount, reports[partlyShipped]?.cancelledAmount], [3000, 7000]);
  assert.equal(reports[abandoned]?.action, 'cancelled');
  assert.equal(reports[notYetShipped]?.action, 'waiting');
  assert.equal(reports[alreadyCaptured]?.action, 'nothing-reserved');
  assert.equal(reports[completeAfterPartial]?.action, 'cancelled');
  assert.equal(reports[completeAfterPartial]?.cancelledAmount, 6000);
  assert.equal(reports[unpaid]?.action, 'not-authorized');
  assert.deepEqual(seen[completeAfterPartial], { remaining: 6000, days: 180 }, 'Norway: 180 days from authorization');

  const partly = await client.epayment.getPayment(partlyShipped);
  assert.deepEqual([partly.aggregate.capturedAmount.value, partly.aggregate.cancelledAmount.value], [3000, 7000]);
  assert.equal((await client.epayment.getPayment(abandoned)).aggregate.cancelledAmount.value, 5000);
  assert.deepEqual([...store.open], [notYetShipped], 'only the waiting order is still kept');
});

test('near the deadline a "wait" is overruled: cancelled by default (Norway, day 179), captured when so configured (Denmark, day 13)', async () => {
  const norwegian = await authorized(7000);
  const danish = await authorized(900, dkClient);
  const waitAlways: ReservationRule = () => ({ action: 'wait' });

  server.clock.advance(177 * DAY);
  const early = await keeperFor([norwegian], waitAlways).keeper.runOnce();
  assert.equal(early[0]?.action, 'waiting', 'three days before the deadline: outside the 2-day margin');
  const danishLate = keeperFor([danish], waitAlways, dkClient, { atDeadline: 'capture' });
  // Denmark's 14 days have long passed: the platform released the money itself, nothing is left to keep.
  assert.equal((await danishLate.keeper.runOnce())[0]?.action, 'nothing-reserved');
  assert.equal((await dkClient.epayment.getPayment(danish)).aggregate.cancelledAmount.value, 900);

  server.clock.advance(2 * DAY);
  const [report] = await keeperFor([norwegian], waitAlways).keeper.runOnce();
  assert.equal(report?.action, 'cancelled');
  assert.equal(report?.forcedByDeadline, true);
  assert.equal((await client.epayment.getPayment(norwegian)).aggregate.cancelledAmount.value, 7000);

  const danishFresh = await authorized(900, dkClient);
  server.clock.advance(12 * DAY + 1000);
  const { keeper } = keeperFor(
    [danishFresh],
    (ctx) => {
      assert.equal(Math.round((ctx.captureDeadline.getTime() - ctx.authorizedAt.getTime()) / DAY), 14);
      assert.equal(ctx.deadlineNear, true);
      return { action: 'wait' };
    },
    dkClient,
    { atDeadline: 'capture' },
  );
  const [dk] = await keeper.runOnce();
  assert.equal(dk?.action, 'captured');
  assert.equal(dk?.forcedByDeadline, true);
});

test('a run repeated after a lost answer captures once; overlapping runs share one pass', async () => {
  const reference = await authorized(6000);
  let lose = true;
  const lossy = {
    ...client.epayment,
    getPayment: client.epayment.getPayment.bind(client.epayment),
    getPaymentEvents: client.epayment.getPaymentEvents.bind(client.epayment),
    cancelPayment: client.epayment.cancelPayment.bind(client.epayment),
    // The capture happens, but its answer never reaches the keeper (a crash or a cut connection).
    capturePayment: async (...args: Parameters<Client['epayment']['capturePayment']>) => {
      const result = await client.epayment.capturePayment(...args);
      if (lose) {
        lose = false;
        throw new Error('connection lost after the capture was sent');
      }
      return result;
    },
  };
  let asked = 0;
  const keeper = createReservationKeeper({
    epayment: lossy,
    store: { authorizedReferences: () => [reference] },
    rule: (ctx) => {
      asked += 1;
      // The order is shipped in full: capture whatever is still reserved.
      return ctx.remaining > 0 ? { action: 'capture' } : { action: 'wait' };
    },
    scheduler: kassaTime,
  });
  const [first] = await keeper.runOnce();
  assert.equal(first?.action, 'failed');
  const [second, third] = await Promise.all([keeper.runOnce(), keeper.runOnce()]);
  assert.equal(second, third, 'overlapping runs share one pass');
  assert.equal(second?.[0]?.action, 'nothing-reserved', 'the lost capture is seen, not repeated');
  assert.equal(asked, 1);
  const captures = (await client.epayment.getPaymentEvents(reference)).filter((e) => e.name === 'CAPTURED');
  assert.equal(captures.length, 1);
});

test('a partial capture whose cancel of the rest failed is not captured again: the next pass only cancels the rest', async () => {
  const reference = await authorized(10000);
  let failCancel = true;
  const flaky = {
    ...client.epayment,
    getPayment: client.epayment.getPayment.bind(client.epayment),
    getPaymentEvents: client.epayment.getPaymentEvents.bind(client.epayment),
    capturePayment: client.epayment.capturePayment.bind(client.epayment),
    cancelPayment: async (...args: Parameters<Client['epayment']['cancelPayment']>) => {
      if (failCancel) throw new Error('the platform was unavailable');
      return client.epayment.cancelPayment(...args);
    },
  };
  let asked = 0;
  const keeper = createReservationKeeper({
    epayment: flaky,
    store: { authorizedReferences: () => [reference] },
    // The rule looks only at the order: 3000 of it shipped, whatever the payment says.
    rule: () => {
      asked += 1;
      return { action: 'capture', amount: 3000 };
    },
    scheduler: kassaTime,
  });
  assert.equal((await keeper.runOnce())[0]?.action, 'failed');
  failCancel = false;
  const [second] = await keeper.runOnce();
  assert.deepEqual([second?.action, second?.cancelledAmount], ['cancelled-rest', 7000]);
  assert.equal(asked, 1, 'the rule is not asked for a second capture');
  const { aggregate } = await client.epayment.getPayment(reference);
  assert.deepEqual([aggregate.capturedAmount.value, aggregate.cancelledAmount.value], [3000, 7000]);
});

test('start() runs a pass at once and then every interval until stop()', async () => {
  const scheduler = new ManualScheduler();
  let passes = 0;
  const keeper = createReservationKeeper({
    epayment: client.epayment,
    store: {
      authorizedReferences: () => {
        passes += 1;
        return [];
      },
    },
    rule: () => ({ action: 'wait' }),
    scheduler,
  });
  keeper.start(60 * 60 * 1000);
  await scheduler.advance(0);
  assert.equal(passes, 1);
  await scheduler.advance(60 * 60 * 1000);
  assert.equal(passes, 2);
  keeper.stop();
  await scheduler.advance(5 * 60 * 60 * 1000);
  assert.equal(passes, 2);
});
