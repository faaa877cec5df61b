/**
 * The reference shop against Kassa over HTTP (no browser): checkout and the return page without a
 * session, payment state from webhooks and polls recorded once, ship → capture, partial refund, closing,
 * abandoned orders released by the reservation keeper, expired payments, forged webhooks, a late reading
 * of the payment, a lost answer repeated with the same key, and a restart that keeps orders and the
 * webhook registration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startFaultProxy } from '../../../packages/sdk/test/support/faultProxy.ts';
import { NO, type TestServer } from '../../../packages/server/test/support/testServer.ts';
import { checkout, eventually, type Harness, startKassaAndShop } from './support/shopHarness.ts';

const DAY = 24 * 60 * 60 * 1000;
let h: Harness;

before(async () => {
  h = await startKassaAndShop();
});
after(() => h.close());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
async function post(path: string, fields: Record<string, string> = {}): Promise<Response> {
  return fetch(h.shop.url + path, {
    method: 'POST',
    body: form(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
}
const order = (reference: string) => h.shop.store.get(reference) as NonNullable<ReturnType<typeof h.shop.store.get>>;
const kassaEvents = async (reference: string) =>
  (await h.kassa.call('GET', `/epayment/v1/payments/${reference}/events`)).body as {
    name: string;
    idempotencyKey: string | null;
    amount: { value: number };
  }[];

async function paidOrder(cart = 'socks-wool:2,thermos:1'): Promise<string> {
  const { reference } = await checkout(h.shop, cart);
  const approved = await h.kassa.approve(reference, NO, { customer: { phoneNumber: '4791234567' } });
  assert.equal(approved.status, 200, approved.text);
  await eventually(() => order(reference).paymentState === 'AUTHORIZED' && order(reference).amounts.authorized > 0, 15_000, 'AUTHORIZED');
  return reference;
}

test('checkout sends the customer to Vipps MobilePay; the return page needs no cookie; each change is recorded once', async () => {
  const { reference, redirectUrl } = await checkout(h.shop, 'socks-wool:2,thermos:1');
  assert.match(redirectUrl, new RegExp(`^${h.kassa.url}/landing\\?token=`));
  assert.equal(order(reference).total, 2 * 14900 + 49900);
  assert.match(reference, /^kassashop-\d{4}-[a-z0-9]{6}$/);

  const waiting = await fetch(`${h.shop.url}/return?reference=${reference}`);
  assert.equal(waiting.status, 200);
  assert.match(await waiting.text(), /waiting for the payment to be confirmed/);

  await h.kassa.approve(reference, NO, { customer: { phoneNumber: '4791234567' } });
  // A fresh request without any cookie, as from another browser (platform-guidelines §10.2).
  await eventually(async () =>
    /Thank you! Your payment is approved/.test(await (await fetch(`${h.shop.url}/return?reference=${reference}`)).text()),
  );
  await eventually(() => order(reference).seenEvents.some((key) => key.includes('|AUTHORIZED|')), 15_000, 'the AUTHORIZED webhook');
  const stateEntries = order(reference).history.filter((e) => e.kind === 'payment' && e.text === 'Payment AUTHORIZED');
  assert.equal(stateEntries.length, 1, `one AUTHORIZED entry, whichever channel saw it first: ${JSON.stringify(order(reference).history)}`);
  assert.ok(['webhook', 'poll', 'return page'].includes(stateEntries[0]?.source ?? ''));
  assert.ok(h.logs.some((e) => e.event === 'order.created' && e.reference === reference));
  assert.ok(h.logs.some((e) => e.event === 'payment.state_changed' && e.reference === reference && e.state === 'AUTHORIZED'));
});

test('ship → capture of exactly what shipped, a partial refund, then closing releases the rest', async () => {
  const reference = await paidOrder();
  const path = `/admin/orders/${reference}`;
  let reply = await post(`${path}/ship`, { 'qty_socks-wool': '1', qty_thermos: '0' });
  assert.equal(reply.status, 303);
  assert.match(reply.headers.get('location') ?? '', /notice=Shipped/);
  assert.equal(order(reference).amounts.captured, 14900);

  reply = await post(`${path}/refund`, { amount: '999' });
  assert.match(decodeURIComponent(reply.headers.get('location') ?? ''), /error=At most NOK 149\.00 can be refunded/);
  reply = await post(`${path}/refund`, { amount: '49,90' });
  assert.match(reply.headers.get('location') ?? '', /notice=Refunded/);
  assert.equal(order(reference).amounts.refunded, 4990);

  reply = await post(`${path}/close`);
  assert.match(decodeURIComponent(reply.headers.get('location') ?? ''), /notice=Order closed/);
  assert.deepEqual(order(reference).amounts, { authorized: 79700, captured: 14900, cancelled: 64800, refunded: 4990 });

  const events = await kassaEvents(reference);
  assert.deepEqual(events.map((e) => [e.name, e.amount.value, e.idempotencyKey]).slice(2), [
    ['CAPTURED', 14900, `capture-${reference}-1`],
    ['REFUNDED', 4990, `refund-${reference}-1`],
    ['CANCELLED', 64800, `cancel-${reference}-1`],
  ]);
  const page = await (await fetch(h.shop.url + path)).text();
  assert.match(page, /Partly shipped, rest cancelled, partly refunded/);
  await eventually(
    () => order(reference).history.some((e) => e.source === 'webhook' && e.text.startsWith('CANCELLED')),
    15_000,
    'the CANCELLED webhook',
  );
});

test('a reading of the payment that arrives late never takes an amount back (a GET answered after the cancel)', async () => {
  const reference = await paidOrder();
  const stale = (await h.kassa.call('GET', `/epayment/v1/payments/${reference}`)).body;
  const reply = await post(`/admin/orders/${reference}/close`);
  assert.match(decodeURIComponent(reply.headers.get('location') ?? ''), /notice=Order closed/);
  assert.equal(order(reference).amounts.cancelled, 79700);
  await h.shop.payments.applyState(reference, stale.state, 'late poll', stale);
  assert.deepEqual(order(reference).amounts, { authorized: 79700, captured: 0, cancelled: 79700, refunded: 0 });
});

test('a paid order not shipped within 14 days is abandoned: the reservation keeper releases it', async () => {
  const abandoned = await paidOrder('hat-knit:1');
  const shippedRecently = await paidOrder('mug-enamel:1');
  h.kassa.clock.advance(15 * DAY);
  await post(`/admin/orders/${shippedRecently}/ship`, { 'qty_mug-enamel': '1' });
  const reply = await post('/admin/keeper/run');
  assert.equal(reply.status, 303);
  assert.equal(order(abandoned).closed, true);
  assert.equal(order(abandoned).closeReason, 'not shipped within 14 days');
  assert.equal(order(abandoned).amounts.cancelled, 39900);
  assert.ok(
    order(abandoned).history.some((e) => e.source === 'reservation keeper' && /cancelled: not shipped within 14 days/.test(e.text)),
  );
  assert.equal(order(shippedRecently).amounts.captured, 24900, 'shipped orders are not touched');
  assert.ok(h.logs.some((e) => e.event === 'reservation.cancelled' && e.reference === abandoned));
});

test('an unpaid order: the return page after 10 minutes says the payment was not completed', async () => {
  const { reference } = await checkout(h.shop, 'socks-wool:1');
  h.kassa.clock.advance(10 * 60 * 1000 + 1000);
  const page = await (await fetch(`${h.shop.url}/return?reference=${reference}`)).text();
  assert.match(page, /Payment not completed in time/);
  assert.match(page, /you have not been charged/);
  assert.equal(order(reference).paymentState, 'EXPIRED');
});

test('a forged webhook is refused with 401 and logged; nothing changes', async () => {
  const body = JSON.stringify({
    msn: NO.msn,
    reference: 'kassashop-1-x',
    pspReference: '1',
    name: 'AUTHORIZED',
    amount: { currency: 'NOK', value: 1 },
    timestamp: new Date().toISOString(),
    success: true,
  });
  const reply = await fetch(`${h.shop.url}/webhooks/vipps`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-ms-date': new Date().toUTCString(),
      'x-ms-content-sha256': 'bm90IHRoZSBoYXNo',
      authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=Zm9yZ2Vk',
    },
  });
  assert.equal(reply.status, 401);
  assert.ok(h.logs.some((e) => e.event === 'webhook.rejected' && e.reason === 'content_hash_mismatch'));
});

test('the logs hold no secret: client secret, subscription key, token or webhook secret', () => {
  const text = JSON.stringify(h.logs);
  const secret = h.shop.store.webhook?.secret as string;
  for (const value of [NO.clientSecret, NO.subscriptionKey, secret]) assert.ok(!text.includes(value), `${value.slice(0, 6)}… in the logs`);
  assert.ok(!/Bearer ey/.test(text));
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('a restart keeps the orders and reuses the webhook registration (its secret is only shown once)', async () => {
  const kassa: TestServer = h.kassa;
  const dataFile = join(mkdtempSync(join(tmpdir(), 'kassa-shop-')), 'shop.json');
  const port = await freePort();
  const first = await startKassaAndShop({ dataFile, port }, kassa);
  const { reference } = await checkout(first.shop, 'thermos:1');
  const webhook = first.shop.store.webhook;
  await first.close();

  const second = await startKassaAndShop({ dataFile, port }, kassa);
  try {
    assert.equal(second.shop.store.get(reference)?.total, 49900);
    assert.deepEqual(second.shop.store.webhook, webhook);
    assert.ok(!second.logs.some((e) => e.event === 'webhook.registered'), 'no new registration');
    const list = await kassa.call('GET', '/webhooks/v1/webhooks');
    assert.equal(list.body.webhooks.filter((w: { url: string }) => w.url === webhook?.url).length, 1);
  } finally {
    await second.close();
  }
});

test('a capture whose answer is lost stays pending and is confirmed by a retry with the same key', async () => {
  // A proxy loses Kassa's answer to the first capture; the shop's SDK is set to one attempt so the loss
  // reaches the shop (normally the SDK's own retries absorb it).
  const proxy = await startFaultProxy(h.kassa.url, ({ method, path, n }) =>
    method === 'POST' && path.endsWith('/capture') && n === 1 ? '503-after' : 'none',
  );
  const lossy = await startKassaAndShop(
    {
      platform: {
        baseUrl: proxy.url,
        clientId: NO.clientId,
        clientSecret: NO.clientSecret,
        subscriptionKey: NO.subscriptionKey,
        merchantSerialNumber: NO.msn,
      },
      sdk: { retry: { maxAttempts: 1 } },
    },
    h.kassa,
  );
  try {
    const { reference } = await checkout(lossy.shop, 'socks-wool:1');
    await h.kassa.approve(reference, NO, { customer: { phoneNumber: '4791234567' } });
    await lossy.shop.payments.refresh(reference, 'test');
    await assert.rejects(lossy.shop.payments.ship(reference, { 'socks-wool': 1 }));
    const pending = lossy.shop.store.get(reference)?.operations.filter((op) => !op.done) ?? [];
    assert.equal(pending.length, 1, 'the outcome is unknown: kept, not undone');
    assert.ok(lossy.shop.store.get(reference)?.history.some((e) => /outcome unknown/.test(e.text)));

    await lossy.shop.payments.retryPending(reference);
    assert.equal(lossy.shop.store.get(reference)?.amounts.captured, 14900);
    const captures = (await kassaEvents(reference)).filter((e) => e.name === 'CAPTURED');
    assert.equal(captures.length, 1, 'Kassa captured once: the retry carried the same key');
    assert.deepEqual(
      proxy.requests.filter((r) => r.path.endsWith('/capture')).map((r) => r.idempotencyKey),
      [`capture-${reference}-1`, `capture-${reference}-1`],
    );
  } finally {
    await lossy.close();
    await proxy.close();
  }
});
