/**
 * The wallet-app simulator in a real browser for the flows without a landing page (epayment-api §5.3):
 * NATIVE_REDIRECT (the deeplink opens the app), PUSH_MESSAGE (in the inbox at once), QR (scanning the
 * target), the minimum-age check, captures and refunds showing up in the app as they happen, and a
 * payment whose bank never answers (test amount 201), in the app and on the landing page that waits for it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { DK, startTestServer, type TestServer } from '../support/testServer.ts';
import {
  assertAccessible,
  desktop,
  enterPhoneNumber,
  eventNamesOf,
  launchBrowser,
  paymentOf,
  phone,
  registerWebhook,
  type Shop,
  startShop,
  webhooksAt,
} from './browser.ts';

let server: TestServer;
let shop: Shop;
let browser: Browser;

before(async () => {
  [server, shop, browser] = await Promise.all([startTestServer(), startShop(), launchBrowser()]);
  const events = ['epayments.payment.authorized.v1', 'epayments.payment.captured.v1', 'epayments.payment.refunded.v1'];
  await registerWebhook(server, shop, events);
  await registerWebhook(server, shop, events, '/webhooks', DK);
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await server?.close();
});

const newRef = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 12)}`;

test('NATIVE_REDIRECT: the deeplink opens the payment in the app, which then opens returnUrl', async () => {
  const reference = newRef('native');
  const created = await server.createPayment({ reference, userFlow: 'NATIVE_REDIRECT', returnUrl: shop.returnUrl(reference) });
  assert.equal(created.status, 201, created.text);
  assert.match(created.body.redirectUrl, /^kassa:\/\/payment\?token=/);
  const mobile = await phone(browser);
  try {
    // The phone's OS hands the kassa:// link to the app.
    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.goto(`${server.url}/app/open?link=${encodeURIComponent(created.body.redirectUrl)}`);
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await paymentOf(server, reference)).state, 'AUTHORIZED');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'AUTHORIZED']);
  } finally {
    await mobile.context.close();
  }
});

test('PUSH_MESSAGE appears in the open app at once; captures and refunds show up in its history', async () => {
  const mobile = await phone(browser);
  try {
    await mobile.page.goto(`${server.url}/app?user=4511223344`);
    await mobile.page.getByText('No payment requests right now.').waitFor();
    const reference = newRef('push');
    const created = await server.createPayment(
      {
        reference,
        userFlow: 'PUSH_MESSAGE',
        customer: { phoneNumber: '4511223344' },
        customerInteraction: 'CUSTOMER_PRESENT',
        returnUrl: undefined,
      },
      { unit: DK },
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.redirectUrl, undefined);
    // No reload by hand: the inbox polls and shows the request.
    await mobile.page.locator('#inbox a.payment', { hasText: 'Kassa Demo Butik' }).click();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    const path = `/epayment/v1/payments/${reference}`;
    const capture = await server.call('POST', `${path}/capture`, {
      unit: DK,
      idempotencyKey: `cap-${reference}`,
      body: { modificationAmount: { currency: 'DKK', value: 6000 } },
    });
    assert.equal(capture.status, 200, capture.text);
    await mobile.page.locator('dl.facts', { hasText: 'DKK 60.00' }).waitFor();
    const refund = await server.call('POST', `${path}/refund`, {
      unit: DK,
      idempotencyKey: `ref-${reference}`,
      body: { modificationAmount: { currency: 'DKK', value: 2500 } },
    });
    assert.equal(refund.status, 200, refund.text);
    await mobile.page.locator('table.events', { hasText: 'Refunded' }).waitFor();
    await assertAccessible(mobile.page, 'app receipt with captures and refunds');
    await mobile.page.getByRole('link', { name: 'All payments' }).click();
    await mobile.page.locator('#main', { hasText: 'captured DKK 60.00, refunded DKK 25.00' }).waitFor();
  } finally {
    await mobile.context.close();
  }
});

test('QR: scanning the payment QR in the app opens the payment; the image is gone once the payment is', async () => {
  const reference = newRef('qr');
  const created = await server.createPayment({
    reference,
    userFlow: 'QR',
    customerInteraction: 'CUSTOMER_PRESENT',
    qrFormat: { format: 'IMAGE/PNG', size: 300 },
    returnUrl: undefined,
  });
  assert.equal(created.status, 201, created.text);
  const imageUrl = created.body.redirectUrl as string;
  const image = await fetch(imageUrl);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await image.arrayBuffer());
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [300, 300]);

  const screen = await desktop(browser);
  const mobile = await phone(browser);
  try {
    // A customer-facing screen shows the image (it may be embedded: images are not pages).
    await screen.page.goto(imageUrl);
    await mobile.page.goto(`${server.url}/app?user=46701234567`);
    // The camera reads the image; the app opens what it encodes (here: the image's own link is pasted).
    await mobile.page.getByLabel('QR code content or link').fill(imageUrl);
    await mobile.page.getByRole('button', { name: 'Open' }).click();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    assert.equal((await paymentOf(server, reference)).state, 'AUTHORIZED');
    assert.equal((await fetch(imageUrl)).status, 404, 'one code per payment: it ends with the payment');

    const target = await server.createPayment({
      userFlow: 'QR',
      customerInteraction: 'CUSTOMER_PRESENT',
      qrFormat: { format: 'TEXT/TARGETURL' },
      returnUrl: undefined,
    });
    assert.match(target.body.redirectUrl, /\/app\/qr\?token=/);
    await mobile.page.goto(target.body.redirectUrl);
    await mobile.page.getByRole('button', { name: 'Reject' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Rejected' }).waitFor();
    assert.equal((await paymentOf(server, target.reference)).state, 'ABORTED');
  } finally {
    await screen.context.close();
    await mobile.context.close();
  }
});

test('minimum age: the landing page says only "cannot pay", the app says why and offers no approve', async () => {
  const reference = newRef('age');
  const created = await server.createPayment({ reference, minimumUserAge: 18, returnUrl: shop.returnUrl(reference) });
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    await laptop.page.goto(created.body.redirectUrl);
    await enterPhoneNumber(laptop.page, '4798765432');
    const alert = laptop.page.getByRole('alert');
    assert.match((await alert.textContent()) ?? '', /cannot pay this business/);
    await assertAccessible(laptop.page, 'landing page with an error');

    await mobile.page.goto(`${server.url}/app?user=4798765432`);
    await mobile.page.goto(created.body.redirectUrl);
    assert.match((await mobile.page.getByRole('alert').textContent()) ?? '', /at least 18 years old/);
    assert.equal(await mobile.page.getByRole('button', { name: 'Approve' }).count(), 0);
    await mobile.page.getByRole('button', { name: 'Reject' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await paymentOf(server, reference)).state, 'ABORTED');
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('test amount 201: after Approve the app and the landing page wait for the bank, the request leaves the inbox, and it expires an hour later', async () => {
  const reference = newRef('unknown');
  const created = await server.createPayment({
    reference,
    amount: { currency: 'NOK', value: 201 },
    paymentDescription: `Order ${reference}`,
    returnUrl: shop.returnUrl(reference),
  });
  assert.equal(created.status, 201, created.text);
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    await laptop.page.goto(created.body.redirectUrl);
    await enterPhoneNumber(laptop.page, '4791234567');
    const bankPending = laptop.page.locator('#bank-pending');
    assert.equal(await bankPending.isVisible(), false);

    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.locator('#inbox a.payment', { hasText: reference }).click();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Waiting for your bank' }).waitFor();
    assert.equal(await mobile.page.getByRole('button', { name: 'Approve' }).count(), 0);
    assert.equal(await mobile.page.getByRole('button', { name: 'Reject' }).count(), 0);
    await assertAccessible(mobile.page, 'app payment waiting for the bank');
    // The landing page, still waiting, learns it from its poll.
    await bankPending.waitFor({ state: 'visible' });
    assert.match((await bankPending.textContent()) ?? '', /Your bank has not answered yet/);
    assert.equal((await paymentOf(server, reference)).state, 'CREATED');
    await mobile.page.getByRole('link', { name: 'All payments' }).click();
    assert.equal(await mobile.page.locator('#inbox a.payment', { hasText: reference }).count(), 0);
    await mobile.page.locator('a.payment', { hasText: reference }).getByText('Waiting for your bank').waitFor();

    server.clock.advance(61 * 60 * 1000);
    await server.sweep();
    assert.equal((await paymentOf(server, reference)).state, 'EXPIRED');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'EXPIRED']);
    // Both pages notice by themselves (they poll): the landing page goes back to the shop, the app shows it expired.
    await laptop.page.waitForURL(shop.returnUrl(reference));
    await mobile.page.locator('a.payment', { hasText: reference }).getByText('Expired').waitFor();
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('the webhooks of the app flows arrived, in order per payment', async () => {
  await server.deliverWebhooks();
  const names = webhooksAt(shop).map((w) => w.name);
  assert.ok(names.includes('AUTHORIZED'));
  const push = webhooksAt(shop).filter((w) => String(w.reference).startsWith('push-'));
  assert.deepEqual(
    push.map((w) => w.name),
    ['AUTHORIZED', 'CAPTURED', 'REFUNDED'],
  );
});
