/**
 * PSP card passthrough end to end in a real browser (epayment-api §17, platform-guidelines §18), with
 * the reference PSP of examples/psp as the PSP: the merchant asks the PSP for a payment; the customer
 * goes through Kassa's landing page and the app; the PSP's card callback answers SOFT_DECLINE, the app
 * opens the PSP's 3-D Secure page, and the second callback reserves; the browser lands back at the
 * shop; then the merchant has the PSP capture and partially refund. Checked on both sides: Kassa's
 * state, event log and card callback record, the webhooks Kassa sent the PSP, and the PSP's own ledger.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { silentLogger } from '@kassa/sdk';
import type { Browser } from 'playwright-core';
import { type RunningPsp, startPsp } from '../../../../examples/psp/src/psp.ts';
import { demoPsp } from '../../src/psp/demoPsp.ts';
import { assertMatchesOpenApi } from '../support/openapi.ts';
import { callbackRecords, DEMO_PSP, pspCall } from '../support/pspSupport.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import {
  assertAccessible,
  desktop,
  enterPhoneNumber,
  launchBrowser,
  phone,
  pickUser,
  type Shop,
  screenshot,
  startShop,
} from './browser.ts';

let server: TestServer;
let shop: Shop;
let browser: Browser;
let psp: RunningPsp;

before(async () => {
  [server, shop, browser] = await Promise.all([startTestServer(), startShop(), launchBrowser()]);
  psp = await startPsp({
    platform: {
      baseUrl: server.url,
      clientId: demoPsp.clientId,
      clientSecret: demoPsp.clientSecret,
      subscriptionKey: demoPsp.subscriptionKey,
      pspId: demoPsp.pspId,
    },
    defaultMerchantSerialNumber: DEMO_PSP.msn,
    port: 0,
    log: silentLogger,
  });
});
after(async () => {
  await psp?.close();
  await browser?.close();
  await shop?.close();
  await server?.close();
});

/** The merchant's call to its PSP (the reference PSP's merchant API). */
async function merchantCall(method: string, path: string, body?: unknown) {
  const response = await fetch(`${psp.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the example's JSON, checked field by field
  return { status: response.status, body: (await response.json()) as any };
}

async function kassaPayment(reference: string) {
  const path = `/epayment/v1/payments/${reference}`;
  const reply = await pspCall(server, DEMO_PSP, 'GET', path);
  assert.equal(reply.status, 200, reply.text);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body;
}

async function kassaEvents(reference: string): Promise<[string, number, boolean][]> {
  const path = `/epayment/v1/payments/${reference}/events`;
  const reply = await pspCall(server, DEMO_PSP, 'GET', path);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body.map((e: { name: string; amount: { value: number }; success: boolean }) => [e.name, e.amount.value, e.success]);
}

test("landing page → app → the PSP's 3-D Secure page → back at the shop; then capture and a partial refund", async () => {
  const reference = `psp-e2e-${randomUUID().slice(0, 8)}`;
  // 1 500 kr: above the simulated acquirer's threshold for strong customer authentication.
  const started = await merchantCall('POST', '/api/payments', {
    reference,
    amount: { currency: 'NOK', value: 150_000 },
    returnUrl: shop.returnUrl(reference),
    paymentDescription: 'Hiking boots',
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const { redirectUrl } = started.body;
  assert.match(redirectUrl, /\/landing\?token=/);

  const laptop = await desktop(browser);
  const mobile = await phone(browser);
  try {
    await laptop.page.goto(redirectUrl);
    await laptop.page.getByRole('heading', { name: 'Kassa Demo Kortbutikk' }).waitFor();
    await enterPhoneNumber(laptop.page, '4791234567');
    await laptop.page.getByRole('heading', { name: 'Go to the app' }).waitFor();

    await mobile.page.goto(`${server.url}/app`);
    await pickUser(mobile.page, '4791234567');
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByLabel(/Visa debit •••• 1234/).check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();

    // The card callback answered SOFT_DECLINE: the app opened the PSP's 3-D Secure page.
    await mobile.page.waitForURL(`${psp.url}/3ds/**`);
    await mobile.page.getByRole('heading', { name: 'Verify your payment' }).waitFor();
    assert.match((await mobile.page.locator('main').textContent()) ?? '', /NOK 1500\.00.*223344.*VISA-DEBIT 47969485••••1234/s);
    await assertAccessible(mobile.page, "the PSP's 3-D Secure page");
    await screenshot(mobile.page, 'psp-3ds.png');
    assert.equal((await kassaPayment(reference)).state, 'CREATED', 'nothing is reserved before 3-D Secure');
    await mobile.page.getByRole('button', { name: 'Confirm payment' }).click();

    // Back through Kassa's softDeclineCompletedRedirectUrl: the second callback reserved.
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    await laptop.page.waitForURL(shop.returnUrl(reference));
    assert.ok(shop.received.some((r) => r.method === 'GET' && r.path === `/return?reference=${reference}`));

    const authorized = await kassaPayment(reference);
    assert.equal(authorized.state, 'AUTHORIZED');
    assert.deepEqual(authorized.paymentMethod, { type: 'CARD_PASSTHROUGH', cardBin: '479694' });
    assert.equal(authorized.aggregate.authorizedAmount.value, 150_000);
    const callbacks = await callbackRecords(server, DEMO_PSP, reference);
    assert.deepEqual(
      callbacks.map((c) => [c.sequence, c.outcome, c.result, c.httpStatus]),
      [
        [1, 'SOFT_DECLINE', 'soft-decline', 200],
        [2, 'RESERVE', 'authorized', 200],
      ],
    );
    assert.equal(callbacks[0]?.attemptId, callbacks[1]?.attemptId);

    // The merchant ships part of the order and takes back part of that: the PSP moves the money at its
    // acquirer and reports both to Kassa.
    const capture = await merchantCall('POST', `/api/payments/${reference}/capture`, { value: 100_000 });
    assert.equal(capture.status, 200, JSON.stringify(capture.body));
    assert.equal(capture.body.report.reported, true);
    const refund = await merchantCall('POST', `/api/payments/${reference}/refund`, { value: 30_000 });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    assert.equal(refund.body.report.reported, true);

    // Kassa's side.
    const after = await kassaPayment(reference);
    assert.deepEqual(
      [
        after.aggregate.authorizedAmount.value,
        after.aggregate.capturedAmount.value,
        after.aggregate.refundedAmount.value,
        after.aggregate.cancelledAmount.value,
      ],
      [150_000, 100_000, 30_000, 0],
    );
    assert.deepEqual(await kassaEvents(reference), [
      ['CREATED', 150_000, true],
      ['AUTHORIZED', 150_000, true],
      ['CAPTURED', 100_000, true],
      ['REFUNDED', 30_000, true],
    ]);

    // The PSP's side: the webhooks Kassa delivered to its PSP-wide registration, and its ledger.
    await server.deliverWebhooks();
    const pspView = (await merchantCall('GET', `/api/payments/${reference}`)).body;
    assert.deepEqual(
      pspView.webhooks.map((w: { name: string; success: boolean; amount: number }) => [w.name, w.amount, w.success]),
      [
        ['CREATED', 150_000, true],
        ['AUTHORIZED', 150_000, true],
        ['CAPTURED', 100_000, true],
        ['REFUNDED', 30_000, true],
      ],
    );
    assert.equal(pspView.state, 'AUTHORIZED');
    assert.deepEqual(
      [pspView.authorization.amount.value, pspView.authorization.captured, pspView.authorization.refunded, pspView.authorization.voided],
      [150_000, 100_000, 30_000, false],
    );
    const history = pspView.history.map((h: { event: string }) => h.event);
    for (const step of ['card_callback.soft_decline', '3ds.completed', 'card_callback.reserve', 'reported.capture', 'reported.refund']) {
      assert.ok(history.includes(step), `the PSP's history has ${step}: ${history.join(', ')}`);
    }

    // And the user's app shows what the PSP reported.
    await mobile.page.reload();
    const facts = (await mobile.page.locator('dl.facts').textContent()) ?? '';
    assert.match(facts, /Captured\s*NOK\s*1,000\.00/);
    assert.match(facts, /Refunded\s*NOK\s*300\.00/);
  } finally {
    await laptop.context.close();
    await mobile.context.close();
  }
});

test('on a phone: a card the PSP refuses (retryable) leaves the choice open; another card reserves; back at the shop', async () => {
  const reference = `psp-e2e-${randomUUID().slice(0, 8)}`;
  const started = await merchantCall('POST', '/api/payments', {
    reference,
    amount: { currency: 'NOK', value: 25_000 },
    returnUrl: shop.returnUrl(reference),
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const mobile = await phone(browser);
  try {
    // On a phone the landing page switches to the app at once (the universal link).
    await mobile.page.goto(`${server.url}/app`);
    await pickUser(mobile.page, '4791234567');
    await mobile.page.goto(started.body.redirectUrl);
    await mobile.page.getByRole('button', { name: 'Approve' }).waitFor();
    await mobile.page.getByLabel(/Mastercard credit •••• 0002/).check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    const alert = mobile.page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /Payment failed: The card was not accepted: Refused by issuer \(82\)/);
    assert.deepEqual(await kassaEvents(reference), [
      ['CREATED', 25_000, true],
      ['AUTHORIZED', 25_000, false],
    ]);

    await mobile.page.getByLabel(/Visa debit •••• 1234/).check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
    assert.equal((await kassaPayment(reference)).state, 'AUTHORIZED');
    assert.deepEqual(
      (await callbackRecords(server, DEMO_PSP, reference)).map((c) => [c.outcome, c.retryable, c.result]),
      [
        ['FAIL', true, 'retry'],
        ['RESERVE', null, 'authorized'],
      ],
    );
    const cancel = await merchantCall('POST', `/api/payments/${reference}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal((await kassaPayment(reference)).aggregate.cancelledAmount.value, 25_000);
  } finally {
    await mobile.context.close();
  }
});
