/**
 * Create payment in production mode, where it differs from test mode: CARD is available (spec §14.11,
 * §16 — only the test environment refuses it with 5070) and loopback URLs are invalid (§5.2 rule 6).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addUnit, assertCreated, assertNoPayment, bodyFor, create, PAYMENTS, type Unit } from './support/createPaymentSupport.ts';
import { assertErrorCode } from './support/problems.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
let unit: Unit;
before(async () => {
  server = await startTestServer({ KASSA_MODE: 'production' });
  unit = await addUnit(server, 'NO');
});
after(() => server.close());

test('production: a CARD payment with WEB_REDIRECT is created, with a landing URL', async () => {
  const body = bodyFor(unit, { paymentMethod: { type: 'CARD' } });
  const reply = await create(server, body, { unit });
  assertCreated(reply, body.reference as string);
  assert.ok(reply.body.redirectUrl.startsWith(`${server.ctx.config.publicUrl}/landing?token=`), reply.body.redirectUrl);
  assert.match(reply.body.redirectUrl, /\?token=[\w-]{20,}$/);
});

test('production: loopback and plain-http URLs are invalid (4090)', async () => {
  for (const returnUrl of ['http://localhost:3000/return', 'http://127.0.0.1:3000/return', 'https://localhost/return']) {
    const body = bodyFor(unit, { returnUrl });
    assertErrorCode(await create(server, body, { unit }), 400, 4090, 'POST', PAYMENTS);
    await assertNoPayment(server, body.reference as string, unit);
  }
  const callback = bodyFor(unit, {
    profile: { scope: 'name address email phoneNumber' },
    shipping: { dynamicOptions: { callbackUrl: 'http://127.0.0.1:8080/shipping', callbackAuthorizationToken: 't' } },
  });
  assertErrorCode(await create(server, callback, { unit }), 400, 4090, 'POST', PAYMENTS);
});
