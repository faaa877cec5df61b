/**
 * The reference shop end to end in headless Chromium against Kassa: a customer buys in the shop, pays on
 * Kassa's landing page (desktop) and in the wallet-app simulator (phone), and comes back to the shop;
 * the return link also works in another browser; staff ship (→ capture) in two parts and refund part;
 * the order page shows state, amounts and both histories; the shop's structured logs tell the story.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { desktop, launchBrowser, phone, screenshot } from '../../../packages/server/test/e2e/browser.ts';
import { NO } from '../../../packages/server/test/support/testServer.ts';
import { eventually, type Harness, startKassaAndShop } from './support/shopHarness.ts';

let h: Harness;
let browser: Browser;

before(async () => {
  [h, browser] = await Promise.all([startKassaAndShop(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await h?.close();
});

const screenshots = join(import.meta.dirname, '../screenshots');

/** Reloads `page` until `selector` contains `text` (the shop's pages are server-rendered). */
async function untilText(page: Page, selector: string, text: string | RegExp): Promise<void> {
  await eventually(
    async () => {
      const content = (await page.locator(selector).textContent()) ?? '';
      if (typeof text === 'string' ? content.includes(text) : text.test(content)) return true;
      await page.reload();
      return false;
    },
    15_000,
    `${selector} to show ${text}`,
  );
}

test('buy, pay on the landing page and in the app, return, ship in two parts, refund part', async () => {
  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  const otherBrowser = await desktop(browser);
  try {
    const shop = laptop.page;
    // The customer fills the cart.
    await shop.goto(h.shop.url);
    await shop.getByRole('button', { name: 'Add Wool socks to cart' }).click();
    await shop.getByRole('status').filter({ hasText: 'Wool socks added to the cart' }).waitFor();
    await shop.getByRole('button', { name: 'Add Thermos, 0.75 l to cart' }).click();
    await shop.getByRole('button', { name: 'Add Wool socks to cart' }).click();
    await shop.getByRole('link', { name: /Cart \(3 items\)/ }).click();
    assert.equal(await shop.locator('#cart-total').textContent(), 'NOK 797.00');

    // Checkout: off to Kassa's landing page, which asks for the phone number.
    await shop.getByRole('button', { name: 'Pay NOK 797.00 with Vipps MobilePay' }).click();
    await shop.waitForURL(new RegExp(`^${h.kassa.url}/landing`));
    const reference = h.shop.store.all()[0]?.reference as string;
    assert.match(reference, /^kassashop-/);
    await shop.getByLabel('Your mobile number').fill('4791234567');
    await shop.getByRole('button', { name: 'Next' }).click();
    await shop.getByRole('heading', { name: 'Go to the app' }).waitFor();

    // The customer approves in the app on the phone.
    await mobile.page.goto(`${h.kassa.url}/app?user=4791234567`);
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByRole('button', { name: 'Approve' }).waitFor();
    assert.match((await mobile.page.locator('table.receipt').textContent()) ?? '', /Wool socks/);
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();

    // Back in the shop: the landing page sends the browser to the returnUrl.
    await shop.waitForURL(`${h.shop.url}/return?reference=${reference}`);
    await untilText(shop, '#order-status', 'Paid — ready to ship');
    await shop.getByText('Thank you! Your payment is approved').waitFor();
    await screenshot(shop, 'return.png', screenshots);

    // The app may open the return link in another browser: no session needed.
    await otherBrowser.page.goto(`${h.shop.url}/return?reference=${reference}`);
    assert.equal(await otherBrowser.page.locator('#order-status').textContent(), 'Paid — ready to ship');

    // Staff: the order page, then ship the socks first (capture 298.00), the thermos later.
    const staff = otherBrowser.page;
    await staff.goto(`${h.shop.url}/admin/orders`);
    await staff.getByRole('link', { name: String(h.shop.store.get(reference)?.number) }).click();
    await untilText(staff, '#order-status', 'Paid — ready to ship');
    await staff.getByLabel('Ship Thermos, 0.75 l').fill('0');
    await staff.getByRole('button', { name: 'Ship and capture' }).click();
    await staff.getByRole('status').filter({ hasText: 'Shipped and captured.' }).waitFor();
    assert.equal(await staff.locator('#captured').textContent(), 'NOK 298.00');
    assert.equal(await staff.locator('#order-status').textContent(), 'Partly shipped');
    await staff.getByRole('button', { name: 'Ship and capture' }).click();
    await staff.getByRole('status').filter({ hasText: 'Shipped and captured.' }).waitFor();
    assert.equal(await staff.locator('#captured').textContent(), 'NOK 797.00');

    // A partial refund: one pair of socks came back.
    await staff.getByLabel('Amount to refund (NOK)').fill('149.00');
    await staff.getByRole('button', { name: 'Refund', exact: true }).click();
    await staff.getByRole('status').filter({ hasText: 'Refunded.' }).waitFor();
    assert.equal(await staff.locator('#refunded').textContent(), 'NOK 149.00');
    assert.equal(await staff.locator('#order-status').textContent(), 'Shipped, partly refunded');

    // The order page for customer support: the platform's event log and the shop's history, where the
    // webhooks (delivered by Kassa in the background) show up next to the staff's actions.
    const events = await staff.locator('#events tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(events, ['CREATED', 'AUTHORIZED', 'CAPTURED', 'CAPTURED', 'REFUNDED']);
    await untilText(staff, '#history', /REFUNDED NOK 149\.00/);
    const history = await staff.locator('#history tbody tr').allTextContents();
    const line = (pattern: RegExp) => history.find((row) => pattern.test(row)) ?? '';
    assert.match(line(/Payment AUTHORIZED/), /webhook|poll|return page/);
    assert.equal(history.filter((row) => /Payment AUTHORIZED/.test(row)).length, 1, 'one state change, however many channels saw it');
    assert.match(line(/Capture of NOK 298\.00 confirmed/), /staff/);
    assert.match(line(/Refund of NOK 149\.00 confirmed/), /staff/);
    assert.match(line(/CAPTURED NOK 298\.00/), /webhook/);
    await screenshot(staff, 'order.png', screenshots);

    // Kassa agrees.
    const payment = (await h.kassa.call('GET', `/epayment/v1/payments/${reference}`)).body;
    assert.equal(payment.aggregate.capturedAmount.value, 79700);
    assert.equal(payment.aggregate.refundedAmount.value, 14900);

    // And the shop's structured logs tell the same story, with no secrets in them.
    const forOrder = h.logs.filter((entry) => entry.reference === reference).map((entry) => entry.event);
    for (const event of ['order.created', 'payment.state_changed', 'order.captured', 'order.refunded', 'webhook.received']) {
      assert.ok(forOrder.includes(event), `log ${event} for the order; got ${forOrder.join(', ')}`);
    }
    const text = JSON.stringify(h.logs);
    for (const secret of [NO.clientSecret, NO.subscriptionKey, h.shop.store.webhook?.secret as string]) assert.ok(!text.includes(secret));
  } finally {
    await laptop.context.close();
    await mobile.context.close();
    await otherBrowser.context.close();
  }
});

test('the customer backs out on the landing page: the shop shows the payment was not completed', async () => {
  const laptop = await desktop(browser);
  try {
    const shop = laptop.page;
    await shop.goto(h.shop.url);
    await shop.getByRole('button', { name: 'Add Knitted hat to cart' }).click();
    await shop.goto(`${h.shop.url}/cart`);
    await shop.getByRole('button', { name: 'Pay NOK 399.00 with Vipps MobilePay' }).click();
    await shop.waitForURL(new RegExp(`^${h.kassa.url}/landing`));
    await shop
      .getByRole('button', { name: /Cancel/ })
      .first()
      .click();
    await shop.waitForURL(new RegExp(`^${h.shop.url}/return\\?reference=`));
    await untilText(shop, '#order-status', 'Payment cancelled by the customer');
    await shop.getByRole('alert').filter({ hasText: 'you have not been charged' }).waitFor();
  } finally {
    await laptop.context.close();
  }
});
