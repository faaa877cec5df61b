/**
 * The dashboard in headless Chromium (docs/dashboard.md): search and filter payments, a payment's
 * timeline, the clock moving a waiting payment to EXPIRED, a webhook sent again, the request log, the
 * faults form and the checklist report — every page without serious accessibility violations.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NO, startTestServer, type TestServer } from '../support/testServer.ts';
import { WebhookReceiver } from '../support/webhookReceiver.ts';
import { assertAccessible, desktop, launchBrowser, phone, screenshot } from './browser.ts';

let server: TestServer;
let receiver: WebhookReceiver;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const prefix = `dash-${Date.now().toString(36)}`;

before(async () => {
  [server, receiver, browser] = await Promise.all([startTestServer(), WebhookReceiver.start(), launchBrowser()]);
  ({ context, page } = await desktop(browser));
  const registered = await server.call('POST', '/webhooks/v1/webhooks', {
    body: { url: receiver.url, events: ['epayments.payment.authorized.v1', 'epayments.payment.expired.v1'] },
  });
  assert.equal(registered.status, 201, registered.text);
});
after(async () => {
  await context?.close();
  await browser?.close();
  await receiver?.close();
  await server?.close();
});

test('payments: search by reference prefix, filter by state, open one and read its timeline', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await server.createPayment({ reference: `${prefix}-${i}` })).status, 201);
  assert.equal((await server.approve(`${prefix}-1`)).status, 200);
  await server.deliverWebhooks();
  await server.requestLog.flush();

  await page.goto(`${server.url}/dashboard`);
  await page.getByLabel('Reference starts with').fill(prefix);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=dash-/);
  assert.equal(await page.locator('table.payments tbody tr').count(), 3);
  await assertAccessible(page, 'payments list');
  await screenshot(page, 'dashboard-payments.png');

  await page.getByLabel('State').selectOption('AUTHORIZED');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/state=AUTHORIZED/);
  assert.deepEqual(await page.locator('table.payments tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-reference'))), [
    `${prefix}-1`,
  ]);

  await page.getByRole('link', { name: `${prefix}-1` }).click();
  await page.waitForURL(/\/dashboard\/payments\/123456\//);
  assert.equal(await page.locator('dd[data-state]').getAttribute('data-state'), 'AUTHORIZED');
  const sources = await page.locator('ol.timeline li').evaluateAll((items) => items.map((li) => li.getAttribute('data-source')));
  assert.ok(sources.includes('request') && sources.includes('event') && sources.includes('webhook'), sources.join());
  await assertAccessible(page, 'payment timeline');
  await screenshot(page, 'dashboard-payment.png');
});

test('the clock panel moves time: a waiting payment turns EXPIRED, and its webhook is sent', async () => {
  const reference = `${prefix}-wait`;
  assert.equal((await server.createPayment({ reference })).status, 201);
  await page.goto(`${server.url}/dashboard/control`);
  await assertAccessible(page, 'clock and faults');
  await page.getByLabel('Advance by').fill('11');
  await page.getByLabel('Unit', { exact: true }).selectOption({ label: 'minutes' });
  await page.getByRole('button', { name: 'Move the clock' }).click();
  await page.locator('p.notice').waitFor();
  assert.match((await page.locator('p.notice').textContent()) ?? '', /Global time is now .*payment\(s\) moved/);
  const clock = await server.call('GET', '/kassa/v1/clock');
  assert.ok(clock.body.global.offsetMs >= 11 * 60 * 1000, `the control API sees the same clock: ${clock.text}`);

  await page.goto(`${server.url}/dashboard/payments/${NO.msn}/${reference}`);
  assert.equal(await page.locator('dd[data-state]').getAttribute('data-state'), 'EXPIRED');
  await server.deliverWebhooks();
  assert.deepEqual(receiver.namesFor(reference), ['EXPIRED']);
  await page.reload();
  assert.match((await page.locator('ol.timeline').textContent()) ?? '', /epayments\.payment\.expired\.v1 attempt 1: delivered/);
});

test('a webhook is sent again from the payment page', async () => {
  const reference = `${prefix}-replay`;
  assert.equal((await server.createPayment({ reference })).status, 201);
  assert.equal((await server.approve(reference)).status, 200);
  await server.deliverWebhooks();
  assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED']);

  await page.goto(`${server.url}/dashboard/payments/${NO.msn}/${reference}`);
  await page
    .getByRole('button', { name: /Replay delivery \d+/ })
    .first()
    .click();
  await page.locator('p.notice').waitFor();
  assert.match((await page.locator('p.notice').textContent()) ?? '', /queued again as delivery \d+/);
  await server.deliverWebhooks();
  assert.deepEqual(receiver.namesFor(reference), ['AUTHORIZED', 'AUTHORIZED'], 'the receiver got it again');
  await page.reload();
  assert.match((await page.locator('ol.timeline').textContent()) ?? '', /\(replay of delivery \d+\)/);
  await assertAccessible(page, 'payment after replay');

  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.waitForURL(/\/dashboard\/webhooks/);
  assert.ok((await page.locator('table.deliveries tbody tr').count()) >= 3);
  await assertAccessible(page, 'webhooks');
});

test('the request log and one request, secrets redacted', async () => {
  await server.requestLog.flush();
  await page.goto(`${server.url}/dashboard/requests?msn=${NO.msn}`);
  await assertAccessible(page, 'request log');
  await page.locator('table.requests tbody a').first().click();
  await page.waitForURL(/\/dashboard\/requests\/\d+$/);
  const headers = (await page.locator('pre.example').first().textContent()) ?? '';
  assert.match(headers, /authorization: Bearer \[redacted\]/);
  assert.ok(!headers.includes(NO.subscriptionKey));
  await assertAccessible(page, 'one request');
});

test('the faults form offers the fault kinds of the chosen target and adds a rule', async () => {
  await page.goto(`${server.url}/dashboard/control`);
  const visibleKinds = () => page.locator('#kind option:not([hidden])').evaluateAll((options) => options.map((o) => o.textContent));
  assert.deepEqual(await visibleKinds(), ['error', 'latency', 'timeout', 'fundsUnavailable', 'captureFailed']);
  // A capture fault has no "when": the form leaves it out, whatever the select shows.
  await page.getByLabel('Fault', { exact: true }).selectOption('fundsUnavailable');
  await page.getByRole('button', { name: 'Add the rule' }).click();
  await page.locator('table.faults tbody tr', { hasText: 'fundsUnavailable' }).waitFor();
  await page.getByLabel('Target').selectOption('webhook');
  assert.deepEqual(await visibleKinds(), ['delay', 'drop', 'duplicate', 'reorder']);
  assert.equal(await page.locator('#route').isVisible(), false, 'API-only fields are hidden');
  await page.getByLabel('Fault', { exact: true }).selectOption('drop');
  await page.getByLabel('Event type').selectOption('epayments.payment.captured.v1');
  await page.getByRole('button', { name: 'Add the rule' }).click();
  await page.locator('table.faults tbody tr', { hasText: 'drop' }).waitFor();
  assert.match((await page.locator('p.notice').textContent()) ?? '', /Fault rule \d+ added for sales unit/);
  assert.match((await page.locator('table.faults tbody').textContent()) ?? '', /drop.*eventType=epayments\.payment\.captured\.v1/s);
  await assertAccessible(page, 'faults');
  await screenshot(page, 'dashboard-control.png');
});

test('the checklist report of a sales unit', async () => {
  await server.requestLog.flush();
  await page.goto(`${server.url}/dashboard/checklist`);
  await page.getByLabel('Sales unit').selectOption(NO.msn);
  await page.getByLabel('Since').fill('1d');
  await page.getByRole('button', { name: 'Evaluate' }).click();
  await page.waitForURL(/msn=123456/);
  assert.equal(await page.locator('table.grid tbody tr').count(), 15);
  assert.match((await page.locator('.verdict').textContent()) ?? '', /PASSED|NOT PASSED/);
  await assertAccessible(page, 'checklist report');
  await screenshot(page, 'dashboard-checklist.png');
});

test('on a phone the pages fit the screen: wide tables and examples scroll within themselves', async () => {
  const narrow = await phone(browser);
  try {
    for (const path of [
      '/dashboard',
      '/dashboard/control',
      '/dashboard/requests',
      '/dashboard/webhooks',
      `/dashboard/checklist?msn=${NO.msn}`,
    ]) {
      await narrow.page.goto(`${server.url}${path}`);
      const [scrollWidth, viewport] = await narrow.page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scrollWidth <= viewport, `${path}: ${scrollWidth} px wide on a ${viewport} px screen`);
    }
  } finally {
    await narrow.context.close();
  }
});
