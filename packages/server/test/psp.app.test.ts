/**
 * CARD_PASSTHROUGH through the wallet-app simulator's forms (no browser; the browser walk is in
 * e2e/psp.e2e.test.ts): where each answer of the card callback sends the app's browser — the PSP's
 * 3-D Secure page, back to the shop after an app-switch, the card choice again — and Express, whose
 * chosen shipping is part of the amount the PSP is asked to reserve (epayment-api §14.1, §17.2).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPassthrough, DEMO_PSP, FakePsp, pspCall, reserve } from './support/pspSupport.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

const OLA = 'kassa_app_user=4791234567';
let server: TestServer;
let psp: FakePsp;

before(async () => {
  [server, psp] = await Promise.all([startTestServer(), FakePsp.start()]);
});
after(async () => {
  await psp?.close();
  await server?.close();
});

/** Opens the payment in Ola's app as the app-switch from the landing page does; returns its screen path. */
async function openInApp(reference: string): Promise<string> {
  const created = await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`);
  const token = new URL(created.body.redirectUrl).searchParams.get('token');
  const opened = await fetch(`${server.url}/app/pay?token=${token}&via=app-switch`, { headers: { cookie: OLA }, redirect: 'manual' });
  assert.equal(opened.status, 303);
  return opened.headers.get('location') as string;
}

async function approveInApp(screen: string, form: Record<string, string>): Promise<string> {
  const reply = await fetch(`${server.url}${screen}/approve`, {
    method: 'POST',
    headers: { cookie: OLA, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  assert.equal(reply.status, 303, await reply.text());
  return reply.headers.get('location') as string;
}

test('SOFT_DECLINE sends the app to the PSP; coming back completes the attempt and returns to the shop (app-switch)', async () => {
  psp.answer(() => ({ status: 200, json: { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds/app-1' } }), reserve);
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const screen = await openInApp(reference);
  const count = psp.callbacks.length;
  assert.equal(await approveInApp(screen, { card: 'no-visa' }), 'https://psp.example/3ds/app-1');

  const back = await fetch(psp.callbacks[count]?.body.softDeclineCompletedRedirectUrl, { redirect: 'manual' });
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), `https://shop.example/return?reference=${reference}`, 'the app opens returnUrl');
  assert.equal(psp.callbacks.length, count + 2);
  assert.equal((await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`)).body.state, 'AUTHORIZED');
});

test('a retryable FAIL, and a card the store does not accept, bring the card choice back with the reason', async () => {
  psp.answer(() => ({ status: 200, json: { status: 'FAIL', errorCode: 82, errorMessage: 'Refused by issuer', retryable: true } }));
  const reference = await createPassthrough(server, DEMO_PSP, psp.url, {}, { allowedCardTypes: ['VISA_DEBIT', 'MC_CREDIT'] });
  const screen = await openInApp(reference);
  const failed = await approveInApp(screen, { card: 'no-mc-declined' });
  assert.equal(failed, `${screen}?error=failed&card=no-mc-declined#result`, 'the card choice kept');
  const page = await (await fetch(`${server.url}${failed}`, { headers: { cookie: OLA } })).text();
  assert.match(page, /Payment failed: The card was not accepted: Refused by issuer \(82\)/);

  const count = psp.callbacks.length;
  assert.equal(await approveInApp(screen, { card: 'no-mc-expired' }), `${screen}?error=failed&card=no-mc-expired#result`);
  const refused = await (await fetch(`${server.url}${screen}?error=failed`, { headers: { cookie: OLA } })).text();
  assert.match(refused, /The store does not accept Mastercard debit/);
  assert.equal(psp.callbacks.length, count, 'no callback for a card the store does not accept');
});

test('Express: the PSP is asked to reserve the amount with the shipping chosen in the app', async () => {
  psp.answer(reserve);
  const reference = await createPassthrough(server, DEMO_PSP, psp.url, {
    profile: { scope: 'name address email phoneNumber' },
    shipping: {
      fixedOptions: [
        {
          brand: 'POSTEN',
          type: 'HOME_DELIVERY',
          isDefault: true,
          options: [{ id: 'home', name: 'Home delivery', amount: { currency: 'NOK', value: 9900 }, isDefault: true }],
        },
      ],
    },
  });
  const screen = await openInApp(reference);
  const count = psp.callbacks.length;
  const next = await approveInApp(screen, { card: 'no-visa', shipping: '0:home', consent: 'yes' });
  assert.equal(next, `https://shop.example/return?reference=${reference}`);
  assert.deepEqual(psp.callbacks[count]?.body.amount, { currency: 'NOK', value: 34_900 });
  const payment = (await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`)).body;
  assert.equal(payment.state, 'AUTHORIZED');
  assert.equal(payment.aggregate.authorizedAmount.value, 34_900);
  assert.equal(payment.shippingDetails.shippingOptionId, 'home');
  assert.equal(payment.userDetails.firstName, 'Ola');
  assert.match(payment.profile.sub, /^[0-9a-f-]{36}$/);
});
