/**
 * In a real browser: profile consent read back through the Userinfo API (platform-guidelines §13),
 * Express with the merchant's dynamic shipping callback (epayment-api §14.1), and the QR check-in with
 * `user.checked-in.v1` and a customerToken (platform-guidelines §12.2).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { verifySignature } from '../../src/webhooks/signWebhook.ts';
import { DK, startTestServer, type TestServer } from '../support/testServer.ts';
import {
  assertAccessible,
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
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await server?.close();
});

const newRef = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 12)}`;

test('profile consent in the app; the merchant reads the data through userinfo for 168 hours', async () => {
  const reference = newRef('profile');
  const created = await server.createPayment({
    reference,
    returnUrl: shop.returnUrl(reference),
    profile: { scope: 'name email phoneNumber address birthDate' },
  });
  const mobile = await phone(browser);
  try {
    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.goto(created.body.redirectUrl);
    const consent = mobile.page.getByRole('group', { name: 'Kassa Demo Butikk asks for your information' });
    assert.match((await consent.textContent()) ?? '', /ola\.nordmann@example\.no/);
    await assertAccessible(mobile.page, 'app consent');
    // Approving without consent is refused; agreeing lets the payment through.
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    assert.equal((await paymentOf(server, reference)).state, 'CREATED');
    await mobile.page.getByLabel('I agree to share this information').check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
  } finally {
    await mobile.context.close();
  }
  const payment = await paymentOf(server, reference);
  assert.equal(payment.state, 'AUTHORIZED');
  assert.equal(payment.userDetails.email, 'ola.nordmann@example.no');
  const sub = payment.profile.sub as string;
  assert.match(sub, /^[0-9a-f-]{36}$/);

  const info = await server.call('GET', `/vipps-userinfo-api/userinfo/${sub}`);
  assert.equal(info.status, 200, info.text);
  assert.equal(info.body.sub, sub);
  assert.equal(info.body.name, 'Ola Nordmann');
  assert.equal(info.body.given_name, 'Ola');
  assert.equal(info.body.email, 'ola.nordmann@example.no');
  assert.equal(info.body.email_verified, true);
  assert.equal(info.body.phone_number, '4791234567');
  assert.equal(info.body.birthdate, '1985-04-12');
  assert.equal(info.body.address.postal_code, '0154');
  assert.equal(info.body.address.formatted, 'Karl Johans gate 1\n0154 Oslo\nNO');
  assert.equal(info.body.nin, undefined, 'nin was not asked for');

  const otherUnit = await server.call('GET', `/vipps-userinfo-api/userinfo/${sub}`, { unit: DK });
  assert.equal(otherUnit.status, 403, 'a sub belongs to one sales unit');

  server.clock.advance(168 * 60 * 60 * 1000);
  const later = await server.call('GET', `/vipps-userinfo-api/userinfo/${sub}`);
  assert.equal(later.status, 200);
  assert.equal(later.body.email, '[Expired]');
  assert.equal(later.body.address.street_address, '[Expired]');
});

test('Express: the app asks the merchant for shipping options and the approved amount includes the choice', async () => {
  shop.shippingAnswer = {
    status: 200,
    body: {
      groups: [
        {
          brand: 'POSTEN',
          type: 'PICKUP_POINT',
          isDefault: true,
          options: [
            { id: 'pickup-1', name: 'Posten, Oslo S', amount: { currency: 'NOK', value: 4900 }, isDefault: true, meta: 'Jernbanetorget 1' },
          ],
        },
        {
          brand: 'PORTERBUDDY',
          type: 'HOME_DELIVERY',
          options: [{ id: 'home-1', name: 'Home tonight', amount: { currency: 'NOK', value: 9900 } }],
        },
      ],
    },
  };
  const reference = newRef('express');
  const created = await server.createPayment({
    reference,
    returnUrl: shop.returnUrl(reference),
    profile: { scope: 'name address email phoneNumber' },
    shipping: { dynamicOptions: { callbackUrl: `${shop.url}/shipping`, callbackAuthorizationToken: 'Bearer shop-secret-1' } },
  });
  assert.equal(created.status, 201, created.text);
  const mobile = await phone(browser);
  try {
    await mobile.page.goto(`${server.url}/app?user=4791234567`);
    await mobile.page.goto(created.body.redirectUrl);
    await mobile.page.getByLabel(/Home tonight/).check();
    assert.match((await mobile.page.locator('#total').textContent()) ?? '', /NOK\s*199\.00/);
    await assertAccessible(mobile.page, 'app Express payment');
    const consent = mobile.page.getByLabel('I agree to share this information');
    if (await consent.count()) await consent.check();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.waitForURL(shop.returnUrl(reference));
  } finally {
    await mobile.context.close();
  }
  const callback = shop.received.find((r) => r.path === '/shipping');
  assert.ok(callback, 'the merchant was asked for options');
  assert.equal(callback.headers.authorization, 'Bearer shop-secret-1');
  assert.deepEqual(JSON.parse(callback.body), {
    reference,
    addressLine1: 'Karl Johans gate 1',
    addressLine2: '',
    city: 'Oslo',
    postCode: '0154',
    country: 'NO',
  });
  const payment = await paymentOf(server, reference);
  assert.equal(payment.state, 'AUTHORIZED');
  assert.equal(payment.amount.value, 19900);
  assert.equal(payment.aggregate.authorizedAmount.value, 19900);
  assert.equal(payment.shippingDetails.shippingOptionId, 'home-1');
  assert.deepEqual(payment.shippingDetails.shippingCost, { currency: 'NOK', value: 9900 });
  assert.equal(payment.shippingDetails.address.city, 'Oslo');
});

test('QR check-in: scanning a merchant callback QR posts user.checked-in.v1; the push payment follows', async () => {
  const secret = await registerWebhook(server, shop, ['user.checked-in.v1'], '/webhooks/checkin');
  const put = await server.call('PUT', '/qr/v1/merchant-callback/till-7', {
    body: { locationDescription: 'Till 7', category: 'IN_STORE' },
  });
  assert.equal(put.status, 200, put.text);
  const code = await server.call('GET', '/qr/v1/merchant-callback/till-7');
  assert.equal(code.status, 200);
  assert.equal(code.body.merchantQrId, 'till-7');
  assert.equal((await fetch(code.body.qrImageUrl)).headers.get('content-type'), 'image/svg+xml');

  const mobile = await phone(browser);
  try {
    await mobile.page.goto(`${server.url}/app?user=4790000000`);
    await mobile.page.goto(`${server.url}/app?user=358401234567`);
    await mobile.page.getByLabel('QR code content or link').fill(code.body.qrContent);
    await mobile.page.getByRole('button', { name: 'Open' }).click();
    await mobile.page.getByRole('status').filter({ hasText: 'Checked in at Till 7' }).waitFor();

    const [delivery] = shop.received.filter((r) => r.path === '/webhooks/checkin');
    assert.ok(delivery, 'the check-in webhook arrived while the user waited');
    const verified = verifySignature({ url: `${shop.url}/webhooks/checkin`, rawBody: delivery.body, secret, headers: delivery.headers });
    assert.equal(verified.ok, true, JSON.stringify(verified));
    const checkIn = JSON.parse(delivery.body);
    assert.equal(checkIn.merchantQrId, 'till-7');
    assert.equal(checkIn.msn, '123456');
    assert.match(checkIn.initiatedAt, /^\d{4}-\d\d-\d\dT/);
    // The request is dated on the clock its payload's time comes from: the sales unit's.
    assert.ok(Math.abs(Date.parse(delivery.headers['x-ms-date'] as string) - Date.parse(checkIn.initiatedAt)) < 5000);

    const exchanged = await server.call('POST', '/qr/v1/exchange/customer', {
      body: { customer: { customerToken: checkIn.customerToken }, requestedData: ['MSISDN'] },
    });
    assert.equal(exchanged.status, 200, exchanged.text);
    assert.equal(exchanged.body.msisdn, '358401234567');

    const reference = newRef('checkin');
    const created = await server.createPayment({
      reference,
      userFlow: 'PUSH_MESSAGE',
      customerInteraction: 'CUSTOMER_PRESENT',
      customer: { customerToken: checkIn.customerToken },
      returnUrl: undefined,
    });
    assert.equal(created.status, 201, created.text);
    await mobile.page.locator('#inbox a.payment').first().click();
    await mobile.page.getByRole('button', { name: 'Approve' }).click();
    await mobile.page.locator('p.state.big', { hasText: 'Paid' }).waitFor();
    assert.deepEqual(await eventNamesOf(server, reference), ['CREATED', 'AUTHORIZED']);

    // 15 minutes later the token is no longer a customer (platform-guidelines open question 30).
    server.clock.advance(15 * 60 * 1000);
    const late = await server.createPayment({
      userFlow: 'PUSH_MESSAGE',
      customer: { customerToken: checkIn.customerToken },
      returnUrl: undefined,
    });
    assert.equal(late.status, 400);
    assert.equal(late.body.extraDetails[0].reason, '4050');

    // A deleted code shows "not found" in the app.
    assert.equal((await server.call('DELETE', '/qr/v1/merchant-callback/till-7')).status, 204);
    await mobile.page.goto(code.body.qrContent);
    await mobile.page.getByRole('heading', { name: 'QR code not found' }).waitFor();
  } finally {
    await mobile.context.close();
  }
  assert.equal(webhooksAt(shop, '/webhooks/checkin').length, 1);
});
