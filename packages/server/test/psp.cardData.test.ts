/**
 * The card in a card callback (epayment-api §17.2–§17.3): network tokens for Visa and Mastercard, the
 * PAN encrypted with RSA-OAEP-256 under the key the PSP registered (`publicEncryptionKeyId`) for
 * Dankort, stand-alone Dankort failing without a key, co-branded Visa/Dankort routing, the allowed
 * card types — and the control API for the keys. Card data never reaches a record or a log.
 */
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type TestCard, testUsers } from '../src/customer/testUsers.ts';
import { createLogger } from '../src/logger.ts';
import { cardInfoFor, isVisaDankort, panOf, routeFor } from '../src/psp/cardData.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import {
  addPsp,
  callbackRecords,
  createPassthrough,
  DEMO_PSP,
  FakePsp,
  forceApprove,
  passthroughBody,
  pspCall,
  type ReceivedCallback,
  reserve,
} from './support/pspSupport.ts';
import { NO, startTestServer, type TestServer } from './support/testServer.ts';

const KEYS = '/kassa/v1/psp/encryption-keys';
const DANISH_USER = { customer: { phoneNumber: '4511223344' } };
let server: TestServer;
let psp: FakePsp;
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
let keyId: string;

before(async () => {
  [server, psp] = await Promise.all([startTestServer(), FakePsp.start()]);
  psp.answer(reserve);
  const reply = await pspCall(server, DEMO_PSP, 'POST', KEYS, { body: { publicKey: publicPem } });
  assert.equal(reply.status, 201, reply.text);
  keyId = reply.body.keyId;
});
after(async () => {
  await psp?.close();
  await server?.close();
});

function decrypt(encryptedPan: string): string {
  return privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(encryptedPan, 'base64'),
  ).toString('utf8');
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((c, i) => {
    let d = Number(c);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}

/** Approves as the Danish test user (Dankort 5712 0000 …4321, Visa/Dankort 4571 2345 …8765); returns the callback body. */
async function approveAsMads(passthrough: Record<string, unknown>) {
  const reference = await createPassthrough(server, DEMO_PSP, psp.url, {}, passthrough);
  const count = psp.callbacks.length;
  const reply = await forceApprove(server, DEMO_PSP, reference, DANISH_USER);
  return { reference, reply, callback: psp.callbacks[count], made: psp.callbacks.length - count };
}

test('the encryption key API: register an RSA key, list it, refuse what is not one, delete it', async () => {
  assert.match(keyId, /^[0-9a-f-]{36}$/);
  const list = await pspCall(server, DEMO_PSP, 'GET', KEYS);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.keys.map((k: { keyId: string; algorithm: string }) => [k.keyId, k.algorithm]),
    [[keyId, 'RSA-OAEP-256']],
  );
  assert.match(list.body.keys[0].fingerprint, /^[A-Za-z0-9+/]{43}=$/);

  for (const bad of [
    'not a key',
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  ]) {
    const refused = await pspCall(server, DEMO_PSP, 'POST', KEYS, { body: { publicKey: bad } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.extraDetails[0].name, 'publicKey');
  }
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const tooSmall = await pspCall(server, DEMO_PSP, 'POST', KEYS, { body: { publicKey: small } });
  assert.equal(tooSmall.status, 400);
  assert.match(tooSmall.body.extraDetails[0].reason, /at least 2048 bits/);

  // Merchant keys have no encryption keys; another PSP does not see or delete this PSP's.
  const merchant = await server.call('GET', KEYS, { unit: NO });
  assert.equal(merchant.status, 403);
  const other = await addPsp(server, [], DEMO_PSP);
  assert.deepEqual((await pspCall(server, other, 'GET', KEYS)).body, { keys: [] });
  assert.equal((await pspCall(server, other, 'DELETE', `${KEYS}/${keyId}`)).status, 404);

  const extra = await pspCall(server, other, 'POST', KEYS, { body: { publicKey: publicPem } });
  assert.equal(extra.status, 201);
  assert.equal((await pspCall(server, other, 'DELETE', `${KEYS}/${extra.body.keyId}`)).status, 204);
  assert.equal((await pspCall(server, other, 'DELETE', `${KEYS}/${extra.body.keyId}`)).status, 404);
  assert.equal((await pspCall(server, other, 'DELETE', `${KEYS}/not-a-guid`)).status, 400);
});

test('create checks publicEncryptionKeyId: a GUID naming a key of this PSP', async () => {
  for (const [id, reason] of [
    ['not-a-guid', /must be a GUID/],
    ['6f1c4d2e-8a7b-4c3d-9e0f-1a2b3c4d5e6f', /No public encryption key/],
  ] as const) {
    const body = passthroughBody(DEMO_PSP, psp.url, {}, { publicEncryptionKeyId: id });
    const reply = await pspCall(server, DEMO_PSP, 'POST', '/epayment/v1/payments', { body, idempotencyKey: crypto.randomUUID() });
    assert.equal(reply.status, 400, reply.text);
    assertMatchesOpenApi('POST', '/epayment/v1/payments', 400, reply.body);
    assert.equal(reply.body.extraDetails[0].name, 'cardPassthrough.publicEncryptionKeyId');
    assert.match(reply.body.extraDetails[0].reason, reason);
    const get = await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${body.reference}`);
    assert.equal(get.status, 404, 'nothing was created');
  }
});

test('stand-alone Dankort with a registered key: the PAN encrypted with RSA-OAEP-256, no token', async () => {
  const { reference, reply, callback } = await approveAsMads({ allowedCardTypes: ['DANKORT'], publicEncryptionKeyId: keyId.toUpperCase() });
  assert.equal(reply.status, 200, reply.text);
  assert.ok(callback?.verified);
  const { encryptedPan, ...cardInfo } = callback.body.cardInfo;
  assert.deepEqual(cardInfo, {
    maskedCardNumber: '57120000XXXX4321',
    cardType: 'DANKORT',
    cardIssuedInCountryCode: 'DK',
    cardDataType: 'PAN',
  });
  const pan = decrypt(encryptedPan);
  assert.match(pan, /^57120000\d{4}4321$/);
  assert.ok(luhnValid(pan), `${pan} passes the Luhn check`);
  // The record keeps the masked number, never the encrypted PAN.
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.ok(record);
  assert.equal((record.request.cardInfo as Record<string, unknown>).encryptedPan, undefined);
  assert.doesNotMatch(JSON.stringify(record), new RegExp(pan));
  assert.doesNotMatch(JSON.stringify(record), new RegExp(encryptedPan.slice(0, 40).replace(/[+/=]/g, '.')));
});

test('stand-alone Dankort without publicEncryptionKeyId fails: no callback, the user may pick another card (10040)', async () => {
  const { reference, reply, made } = await approveAsMads({ allowedCardTypes: ['DANKORT'] });
  assert.equal(reply.status, 400, reply.text);
  assert.deepEqual(reply.body.extraDetails, [{ name: 'ErrorCode', reason: '10040' }]);
  assert.match(reply.body.detail, /Dankort cannot be used here/);
  assert.equal(made, 0);
  const payment = await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`);
  assert.equal(payment.body.state, 'CREATED');
});

test('co-branded Visa/Dankort through the API: its Visa part when Dankort is not allowed or has no key', async () => {
  // Mads's first card is the stand-alone Dankort, chosen whenever Dankort can be used.
  const viaDankort = await approveAsMads({ allowedCardTypes: ['VISA_DEBIT', 'DANKORT'], publicEncryptionKeyId: keyId });
  assert.equal(viaDankort.callback?.body.cardInfo.maskedCardNumber, '57120000XXXX4321');

  const visaOnly = await approveAsMads({ allowedCardTypes: ['VISA_DEBIT'], publicEncryptionKeyId: keyId });
  assert.equal(visaOnly.reply.status, 200, visaOnly.reply.text);
  assert.deepEqual(
    [
      visaOnly.callback?.body.cardInfo.maskedCardNumber,
      visaOnly.callback?.body.cardInfo.cardType,
      visaOnly.callback?.body.cardInfo.cardDataType,
    ],
    ['45712345XXXX8765', 'VISA-DEBIT', 'TOKEN'],
  );

  const noKey = await approveAsMads({ allowedCardTypes: ['VISA_DEBIT', 'DANKORT'] });
  assert.equal(noKey.reply.status, 200, noKey.reply.text);
  assert.deepEqual(
    [noKey.callback?.body.cardInfo.maskedCardNumber, noKey.callback?.body.cardInfo.cardType, noKey.callback?.body.cardInfo.cardDataType],
    ['45712345XXXX8765', 'VISA-DEBIT', 'TOKEN'],
    'without a key Dankort cannot be used, so the co-branded card goes via Visa',
  );
});

test('allowedCardTypes limits the cards; Mastercard goes as a Mastercard token', async () => {
  const reference = await createPassthrough(server, DEMO_PSP, psp.url, {}, { allowedCardTypes: ['MC_CREDIT'] });
  const count = psp.callbacks.length;
  const reply = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(reply.status, 200, reply.text);
  const { cardInfo } = (psp.callbacks[count] as ReceivedCallback).body;
  assert.equal(cardInfo.maskedCardNumber, '54018512XXXX0002');
  assert.equal(cardInfo.cardType, 'MC-CREDIT');
  assert.deepEqual([cardInfo.networkToken.tokenType, cardInfo.networkToken.eci], ['MASTERCARD', '06']);
  assert.match(cardInfo.networkToken.number, /^522660\d{10}$/);
  assert.equal((await pspCall(server, DEMO_PSP, 'GET', `/epayment/v1/payments/${reference}`)).body.paymentMethod.cardBin, '540185');

  const none = await createPassthrough(server, DEMO_PSP, psp.url, {}, { allowedCardTypes: ['DANKORT'] });
  const refused = await forceApprove(server, DEMO_PSP, none, { customer: { phoneNumber: '4791234567' } });
  assert.equal(refused.status, 400);
  assert.match(refused.body.detail, /does not accept Visa debit/);
});

test('card data reaches neither the request log, nor the callback record, nor the server log', async () => {
  const lines: string[] = [];
  const reference = await createPassthrough(
    server,
    DEMO_PSP,
    psp.url,
    {},
    { allowedCardTypes: ['DANKORT', 'VISA_DEBIT'], publicEncryptionKeyId: keyId },
  );
  const count = psp.callbacks.length;
  const quiet = server.ctx.log;
  server.ctx.log = createLogger('trace', { write: (line: string) => lines.push(line) });
  try {
    assert.equal((await forceApprove(server, DEMO_PSP, reference, DANISH_USER)).status, 200);
  } finally {
    server.ctx.log = quiet;
  }
  await server.requestLog.flush();
  assert.ok(
    lines.some((line) => line.includes('card callback answered')),
    'the callback was logged',
  );
  const { cardInfo } = (psp.callbacks[count] as ReceivedCallback).body;
  const cardData = [cardInfo.encryptedPan.slice(0, 40), decrypt(cardInfo.encryptedPan)];
  const { rows } = await server.ctx.db.query('select * from request_log');
  const stored = JSON.stringify(rows) + JSON.stringify(await callbackRecords(server, DEMO_PSP, reference)) + lines.join('');
  for (const secret of cardData) assert.ok(!stored.includes(secret), 'card data was stored or logged');
});

test('routing of a co-branded Visa/Dankort (pure): Dankort by default, Visa when preferred or when Dankort cannot be used', () => {
  const coBranded = testUsers.find((u) => u.phone === '4511223344')?.cards.find((c) => c.id === 'dk-visa') as TestCard;
  assert.ok(isVisaDankort(coBranded));
  const both = ['VISA_DEBIT', 'DANKORT'] as const;
  assert.deepEqual(routeFor(coBranded, { allowedCardTypes: [...both] }, true), { cardType: 'DANKORT', cardDataType: 'PAN' });
  assert.deepEqual(routeFor(coBranded, { allowedCardTypes: [...both], preferVisaPartOfVisaDankort: true }, true), {
    cardType: 'VISA-DEBIT',
    cardDataType: 'TOKEN',
  });
  assert.deepEqual(routeFor(coBranded, { allowedCardTypes: [...both] }, false), { cardType: 'VISA-DEBIT', cardDataType: 'TOKEN' });
  assert.deepEqual(routeFor(coBranded, { allowedCardTypes: ['VISA_DANKORT'] }, true), { cardType: 'DANKORT', cardDataType: 'PAN' });
  assert.ok('refused' in routeFor(coBranded, { allowedCardTypes: ['DANKORT'] }, false));
  assert.ok('refused' in routeFor(coBranded, { allowedCardTypes: ['MC_DEBIT'] }, true));
  const info = cardInfoFor(coBranded, { cardType: 'DANKORT', cardDataType: 'PAN' }, (pan) => `sealed:${pan.length}`);
  assert.deepEqual(info, {
    maskedCardNumber: '45712345XXXX8765',
    cardType: 'DANKORT',
    cardIssuedInCountryCode: 'DK',
    cardDataType: 'PAN',
    encryptedPan: 'sealed:16',
  });
  assert.ok(luhnValid(panOf(coBranded)));
});
