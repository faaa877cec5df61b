/**
 * WEB_REDIRECT in a real browser (platform-guidelines §10–§11): the landing page on a desktop with the
 * app on a phone, the app-switch on a phone, reject, expiry and a failing card. Each flow: the merchant
 * creates through the API → the user acts in the pages → state, event log and webhooks are right →
 * the browser lands on returnUrl.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import {
  assertAccessible,
  desktop,
  enterPhoneNumber,
  eventNamesOf,
  launchBrowser,
  paymentOf,
  phone,
  pickUser,
  registerWebhook,
  type Shop,
  screenshot,
  startShop,
  webhooksAt,
} from './browser.ts';

let server: TestServer;
let shop: Shop;
let browser: Browser;

before(async () => {
  [server, shop, browser] = await Promise.all([startTestServer(), startShop(), launchBrowser()]);
  await registerWebhook(server, shop, ['epayments.payment.authorized.v1', 'epayments.payment.aborted.v1', 'epayments.payment.expired.v1']);
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await server?.close();
});

async function createWebPayment(fields: Record<string, unknown> = {}) {
  const reference = `web-${Math.random().toString(36).slice(2, 12)}`;
  const created = await server.createPayment({
    reference,
    returnUrl: shop.returnUrl(reference),
    receipt: {
      orderLines: [
        {
          name: 'Wool socks',
          id: 'socks-1',
          totalAmount: 8000,
          totalAmountExcludingTax: 6400,
          totalTaxAmount: 1600,
          taxRate: 2500,
          unitInfo: { unitPrice: 4000, quantity: '2' },
        },
        {
          name: 'Shipping',
          id: 'ship',
          totalAmount: 2000,
          totalAmountExcludingTax: 1600,
          totalTaxAmount: 400,
          taxRate: 2500,
          isShipping: true,
        },
      ],
      bottomLine: { currency: 'NOK', receiptNumber: '1042' },
    },
    ...fields,
  });
  assert.equal(created.status, 201, created.text);
  return { reference, redirectUrl: created.body.redirectUrl as string };
}

async function webhookNames(reference: string): Promise<string[]> {
  await server.deliverWebhooks();
  return webhooksAt(shop)
    .filter((w) => w.reference === reference)
    .map((w) => w.name as string);
}

test('desktop landing page → approve in the app on the phone → the browser lands on returnUrl', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    const landing = await laptop.page.goto(redirectUrl);
    assert.equal(landing?.status(), 200);
    assert.equal(landing?.headers()['x-frame-options'], 'DENY');
    assert.match(landing?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    await laptop.page.getByRole('heading', { name: 'Kassa Demo Butikk' }).waitFor();
    assert.match((await laptop.page.locator('.amount').textContent()) ?? '', /NOK\s*100\.00/);
    await assertAccessible(laptop.page, 'landing page');
    await laptop.page.getByLabel('Your mobile number').fill('4791234567');
    await screenshot(laptop.page, 'landing.png');
    await laptop.page.getByLabel('Remember me in this browser').check();
    await laptop.page.getByRole('button', { name: 'Next' }).click();
    await laptop.page.getByRole('heading', { name: 'Go to the app' }).waitFor();
    await assertAccessible(laptop.page, 'landing waiting screen');

    await mobile.page.goto(`${server.url}/app`);
    await assertAccessible(mobile.page, 'app user picker');
    await pickUser(mobile.page, '4791234567');
    await mobile.page.getByRole('heading', { name: 'Hi, Ola' }).waitFor();
    await assertAccessible(mobile.page, 'app home');
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByRole('button', { name: 'Approve' }).waitFor();
    assert.match((await mobile.page.locator('table.receipt').textContent()) ?? '', /Wool socks/);
    await assertAccessible(mobile.page, 'app payment screen');
    await screenshot(mobile.page, 'app.png');
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    await assertAccessible(mobile.page, 'app receipt');

    await laptop.page.waitForURL(shop.returnUrl(reference));
    const payment = await paymentOf(server, reference);
    assert.equal(payment.state, 'AUTHORIZED');
    assert.equal(payment.aggregate.authorizedAmount.value, 10000);
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'AUTHORIZED']);
    assert.deepEqual(await webhookNames(reference), ['AUTHORIZED']);

    // "Remember me": the next landing page in this browser knows the number.
    const next = await createWebPayment();
    await laptop.page.goto(next.redirectUrl);
    assert.equal(await laptop.page.getByLabel('Your mobile number').inputValue(), '4791234567');
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('rejecting in the app aborts the payment and the landing page goes back to the shop', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    await laptop.page.goto(redirectUrl);
    await enterPhoneNumber(laptop.page, '4791234567');
    await laptop.page.getByRole('heading', { name: 'Go to the app' }).waitFor();

    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByRole('button', { name: 'Reject' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Rejected' }).waitFor();

    await laptop.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await paymentOf(server, reference)).state, 'ABORTED');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'ABORTED']);
    assert.deepEqual(await webhookNames(reference), ['ABORTED']);
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('when nobody answers, the payment expires and the waiting landing page goes back to the shop', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const laptop = await desktop(browser);
  try {
    await laptop.page.goto(redirectUrl);
    await enterPhoneNumber(laptop.page, '4511223344');
    await laptop.page.getByRole('heading', { name: 'Go to the app' }).waitFor();
    server.clock.advance(10 * 60 * 1000);
    await laptop.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await paymentOf(server, reference)).state, 'EXPIRED');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'EXPIRED']);
    assert.deepEqual(await webhookNames(reference), ['EXPIRED']);

    // The link itself now gets a clear page, not a stack trace.
    const again = await laptop.page.goto(redirectUrl);
    assert.equal(again?.status(), 410);
    await laptop.page.getByRole('heading', { name: 'The payment has expired' }).waitFor();
    await assertAccessible(laptop.page, 'expired landing page');
    const unknown = await laptop.page.goto(`${server.url}/landing?token=no-such-token-at-all`);
    assert.equal(unknown?.status(), 404);
    await laptop.page.getByRole('heading', { name: 'Payment link not found' }).waitFor();
  } finally {
    await laptop.context.close();
  }
});

test('a declined card leaves the payment waiting; another card then approves it', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    await laptop.page.goto(redirectUrl);
    await enterPhoneNumber(laptop.page, '4791234567');

    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByLabel(/Mastercard credit •••• 0002/).check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    const alert = mobile.page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /Payment failed: Authorization failed: the card was declined by the issuer/);
    await assertAccessible(mobile.page, 'app payment screen after a failed card');
    assert.equal((await paymentOf(server, reference)).state, 'CREATED');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED']);

    await mobile.page.getByLabel(/Visa debit •••• 1234/).check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    await laptop.page.waitForURL(shop.returnUrl(reference));
    const payment = await paymentOf(server, reference);
    assert.equal(payment.state, 'AUTHORIZED');
    assert.equal(payment.paymentMethod.cardBin, '479694');
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('on a phone the landing link switches to the app, and the app sends the browser to returnUrl', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const mobile = await phone(browser);
  try {
    await mobile.page.goto(redirectUrl);
    // Universal link → app: no phone number asked; the app wants to know its user first.
    await mobile.page.getByRole('heading', { name: 'Who is using the app?' }).waitFor();
    await pickUser(mobile.page, '358401234567');
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
    const payment = await paymentOf(server, reference);
    assert.equal(payment.state, 'AUTHORIZED', 'a Finnish user pays a Norwegian merchant in NOK (cross-border)');
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'AUTHORIZED']);
  } finally {
    await mobile.context.close();
  }
});

test('cancelling on the landing page aborts the payment and returns to the shop', async () => {
  const { reference, redirectUrl } = await createWebPayment();
  const laptop = await desktop(browser);
  try {
    await laptop.page.goto(redirectUrl);
    await laptop.page.getByRole('button', { name: 'Cancel payment' }).click();
    await laptop.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await paymentOf(server, reference)).state, 'ABORTED');
  } finally {
    await laptop.context.close();
  }
});
