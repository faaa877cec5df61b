/**
 * The APIs around ePayment against Kassa — Userinfo and QR — and the check that keeps their SDK types
 * honest: every answer Kassa gives is validated against scripts/platformSchemas.ts, the schemas the
 * generated types come from.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { platformSchemas } from '../scripts/platformSchemas.ts';
import type { ApiError, Client } from '../src/index.ts';
import { clientFor, newReference, startTestServer, type TestServer } from './support/kassa.ts';

let server: TestServer;
let client: Client;

const ajv = new Ajv({ allErrors: true, strict: false });
// `$ref: '#/Name'` in platformSchemas points at a sibling schema.
ajv.addSchema({ $id: 'platform', ...Object.fromEntries(Object.entries(platformSchemas)) });
function assertShape(name: keyof typeof platformSchemas, body: unknown): void {
  const validate = ajv.getSchema(`platform#/${name}`);
  assert.ok(validate, name);
  assert.ok(validate(body), `${name}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`);
}

before(async () => {
  server = await startTestServer();
  client = clientFor(server);
});
after(() => server.close());

test('the token answer has the documented shape', async () => {
  const reply = await fetch(`${server.url}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: 'kassa-demo-client', client_secret: 'kassa-demo-secret', 'Ocp-Apim-Subscription-Key': 'kassa-demo-subscription' },
  });
  assertShape('AccessTokenResponse', await reply.json());
});

test('userinfo: the claims a customer consented to in a payment, by the sub from GET payment', async () => {
  const reference = newReference('profile');
  await client.epayment.createPayment({
    amount: { currency: 'NOK', value: 1000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    profile: { scope: 'name email phoneNumber' },
  });
  await client.epayment.forceApprovePayment(reference, { customer: { phoneNumber: '4791234567' } });
  const payment = await client.epayment.getPayment(reference);
  const sub = payment.profile.sub;
  assert.ok(sub, 'profile.sub after authorization');
  const userinfo = await client.userinfo.get(sub);
  assertShape('Userinfo', userinfo);
  assert.equal(userinfo.sub, sub);
  assert.equal(userinfo.phone_number, '4791234567');
  assert.ok(userinfo.name && userinfo.email);
  assert.equal(userinfo.address, undefined, 'only consented claims');
  await assert.rejects(client.userinfo.get('00000000-0000-4000-8000-000000000000'), (error: ApiError) => error.status === 404);
});

test('merchant redirect QR: create, list, get, update, delete — in the documented shapes', async () => {
  const id = `sdk-${Date.now()}`;
  const created = await client.qr.createMerchantRedirectQr({ id, redirectUrl: 'https://shop.example/campaign' });
  assertShape('MerchantRedirectQr', created);
  assert.equal(created.redirectUrl, 'https://shop.example/campaign');
  const png = await client.qr.getMerchantRedirectQr(id, { format: 'image/png', size: 400 });
  assertShape('MerchantRedirectQr', png);
  assert.notEqual(png.url, created.url, 'the image URL follows the asked format');
  const target = await client.qr.getMerchantRedirectQr(id, { format: 'text/targetUrl' });
  assert.ok(!target.url.includes('.svg') && !target.url.includes('png'));
  const list = await client.qr.listMerchantRedirectQrs();
  assert.ok(list.some((code) => code.id === id));
  for (const code of list) assertShape('MerchantRedirectQr', code);
  await client.qr.updateMerchantRedirectQr(id, 'https://shop.example/new-campaign');
  assert.equal((await client.qr.getMerchantRedirectQr(id)).redirectUrl, 'https://shop.example/new-campaign');
  await assert.rejects(
    client.qr.createMerchantRedirectQr({ id, redirectUrl: 'https://shop.example/other' }),
    (error: ApiError) => error.status === 409,
  );
  await client.qr.deleteMerchantRedirectQr(id);
  await assert.rejects(client.qr.getMerchantRedirectQr(id), (error: ApiError) => error.status === 404);
});

test('merchant callback QR: put, list, get, delete, and converting a MobilePay QR', async () => {
  const merchantQrId = `till-${Date.now()}`;
  await client.qr.putMerchantCallbackQr(merchantQrId, { locationDescription: 'Till 7', category: 'IN_STORE' });
  const code = await client.qr.getMerchantCallbackQr(merchantQrId, { qrImageFormat: 'PNG', qrImageSize: 300 });
  assertShape('MerchantCallbackQr', code);
  assert.equal(code.locationDescription, 'Till 7');
  assert.ok((await client.qr.listMerchantCallbackQrs()).some((c) => c.merchantQrId === merchantQrId));
  await client.qr.putMerchantCallbackQr(merchantQrId, { locationDescription: 'Till 8' });
  assert.equal((await client.qr.getMerchantCallbackQr(merchantQrId)).locationDescription, 'Till 8');
  await client.qr.deleteMerchantCallbackQr(merchantQrId);
  await assert.rejects(client.qr.getMerchantCallbackQr(merchantQrId), (error: ApiError) => error.status === 404);

  // A legacy MobilePay QR keeps its beacon id as merchantQrId; converting it twice is a conflict.
  const beaconId = `beacon${Date.now()}`;
  await client.qr.convertMobilePayQr(beaconId, 'Kiosk 2');
  assert.equal((await client.qr.getMerchantCallbackQr(beaconId)).locationDescription, 'Kiosk 2');
  await assert.rejects(client.qr.convertMobilePayQr(beaconId, 'Kiosk 2'), (error: ApiError) => error.status === 409);
});

test('one-time QR for a deeplink, and the personal-QR exchange', async () => {
  const reference = newReference('qr');
  const created = await client.epayment.createPayment({
    amount: { currency: 'NOK', value: 1000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return',
  });
  const oneTime = await client.qr.createOneTimeQr(created.redirectUrl as string);
  assertShape('OneTimeQr', oneTime);
  assert.ok((oneTime.expiresIn ?? 0) > 0);

  const exchanged = await client.qr.exchangePersonalQr(`${server.url}/qr/personal/4791234567?v=1`);
  assertShape('QrExchangeResponse', exchanged);
  assert.equal(exchanged.msisdn, '4791234567');
  await assert.rejects(client.qr.exchangePersonalQr('https://qr.example/not-a-user'), (error: ApiError) => error.status === 400);
});
