/**
 * Every refusal of POST /epayment/v1/payments over HTTP (spec §5.2, §13): schema errors are 400 with one
 * `extraDetails` entry per field and no code; domain errors carry `{"name":"ErrorCode","reason":"<code>"}`,
 * the status of §13.3, problem+json, a trace id and `instance` without `/epayment`. A refusal creates
 * nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  addCustomerToken,
  addUnit,
  addUser,
  assertNoPayment,
  bodyFor,
  create,
  DAY,
  HOUR,
  inFuture,
  MINUTE,
  PAYMENTS,
  receiptIn,
} from './support/createPaymentSupport.ts';
import { assertErrorCode, assertFieldErrors, assertProblem } from './support/problems.ts';
import { DK, FI, NO, newReference, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

/** Creates `body` and expects the coded refusal; the payment must not exist afterwards. */
async function refused(body: Record<string, unknown>, status: number, code: number, options: Parameters<typeof create>[2] = {}) {
  const reply = await create(server, body, options);
  assertErrorCode(reply, status, code, 'POST', PAYMENTS);
  assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(reply.body.type, `https://httpstatuses.io/${status}`);
  assert.ok(reply.body.title.length > 0 && reply.body.detail.length > 0, reply.text);
  await assertNoPayment(server, body.reference as string, options.unit);
  return reply;
}

/** Creates `body` and expects a 400 validation error naming exactly `fields`. */
async function invalid(body: Record<string, unknown>, fields: string[], options: Parameters<typeof create>[2] = {}) {
  const reply = await create(server, body, options);
  assertFieldErrors(reply, 'POST', PAYMENTS, fields);
  assert.equal(
    reply.body.extraDetails.some((d: { name: string }) => d.name === 'ErrorCode'),
    false,
  );
  if (typeof body.reference === 'string' && /^[a-zA-Z0-9-]{8,64}$/.test(body.reference)) {
    await assertNoPayment(server, body.reference, options.unit);
  }
  return reply;
}

// --- 400 without a code (§13.2) ---------------------------------------------------------------

test('schema errors: 400, one extraDetails entry per offending field, .NET-style reasons, no code', async () => {
  const reply = await invalid(
    {
      amount: { currency: 'XYZ', value: 'ten' },
      paymentMethod: { type: 'PAYPAL' },
      reference: 'short',
      userFlow: 'EMAIL',
    },
    ['amount.currency', 'amount.value', 'paymentMethod.type', 'reference', 'userFlow'],
  );
  assert.equal(reply.body.title, 'Bad Request');
  const reasons = Object.fromEntries(reply.body.extraDetails.map((d: { name: string; reason: string }) => [d.name, d.reason]));
  assert.equal(reasons.reference, "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,64}$'.");
  assert.equal(reasons['amount.value'], 'The JSON value could not be converted to number.');
});

test('schema errors: missing required members are named one by one', async () => {
  const reply = await invalid({}, ['amount', 'paymentMethod', 'reference', 'userFlow']);
  assert.equal(reply.body.extraDetails[0].reason, 'The Amount field is required.');
  await invalid({ ...bodyFor(), amount: { currency: 'NOK' } }, ['amount.value']);
  await invalid({ ...bodyFor(), paymentMethod: {} }, ['paymentMethod.type']);
});

test('schema errors: lengths, ranges and patterns of single fields', async () => {
  await invalid(bodyFor(NO, { reference: 'a'.repeat(65) }), ['reference']);
  await invalid(bodyFor(NO, { reference: 'has space in it' }), ['reference']);
  await invalid(bodyFor(NO, { amount: { currency: 'NOK', value: -100 } }), ['amount.value']);
  await invalid(bodyFor(NO, { amount: { currency: 'NOK', value: 65_000_001 } }), ['amount.value']);
  await invalid(bodyFor(NO, { paymentDescription: 'ab' }), ['paymentDescription']);
  await invalid(bodyFor(NO, { paymentDescription: 'x'.repeat(101) }), ['paymentDescription']);
  await invalid(bodyFor(NO, { returnUrl: 'https://shop.example/'.padEnd(2501, 'x') }), ['returnUrl']);
  await invalid(bodyFor(NO, { customerInteraction: 'IN_STORE' }), ['customerInteraction']);
  await invalid(bodyFor(NO, { minimumUserAge: 101 }), ['minimumUserAge']);
  await invalid(bodyFor(NO, { minimumUserAge: 17.5 }), ['minimumUserAge']);
  await invalid(bodyFor(NO, { userFlow: 'QR', qrFormat: { format: 'IMAGE/PNG', size: 50 } }), ['qrFormat.size']);
  await invalid(bodyFor(NO, { userFlow: 'QR', qrFormat: { format: 'IMAGE/GIF' } }), ['qrFormat.format']);
  await invalid(bodyFor(NO, { paymentMethod: { type: 'WALLET', blockedSources: ['PRIVATE_CARDS'] } }), ['paymentMethod.blockedSources[0]']);
  await invalid(bodyFor(NO, { metadata: { till: true } }), ['metadata.till']);
  await invalid(bodyFor(NO, { profile: { scope: 42 } }), ['profile.scope']);
});

test('schema errors: airline data needs its four fields with their lengths', async () => {
  await invalid(bodyFor(NO, { industryData: { airlineData: { airlineCode: '074' } } }), [
    'industryData.airlineData.agencyInvoiceNumber',
    'industryData.airlineData.airlineDesignatorCode',
    'industryData.airlineData.passengerName',
  ]);
  const airline = { agencyInvoiceNumber: '1234567', airlineCode: 'KLM', airlineDesignatorCode: 'KLM', passengerName: 'FLYER / MARY MS.' };
  await invalid(bodyFor(NO, { industryData: { airlineData: airline } }), [
    'industryData.airlineData.agencyInvoiceNumber',
    'industryData.airlineData.airlineCode',
    'industryData.airlineData.airlineDesignatorCode',
  ]);
});

test('schema errors: a receipt needs order lines, a bottom line, integer amounts and a tax rate', async () => {
  await invalid(bodyFor(NO, { receipt: { orderLines: [], bottomLine: { currency: 'NOK' } } }), ['receipt.orderLines']);
  const line = { name: 'Socks', id: 'sku-1', totalAmount: 100.5, totalAmountExcludingTax: 80, totalTaxAmount: 20, taxRate: 2500 };
  await invalid(bodyFor(NO, { receipt: { orderLines: [line], bottomLine: { currency: 'NOK' } } }), ['receipt.orderLines[0].totalAmount']);
  const { taxRate: _, ...untaxed } = { ...line, totalAmount: 100 };
  await invalid(bodyFor(NO, { receipt: { orderLines: [untaxed], bottomLine: { currency: 'NOK' } } }), ['receipt.orderLines[0].taxRate']);
  // §4.2: every amount of a payment is in its currency.
  await invalid(bodyFor(NO, { receipt: receiptIn('DKK') }), ['receipt.bottomLine.currency']);
});

test('the body must be JSON, and the Idempotency-Key header is required (≤ 50 characters)', async () => {
  const notJson = await create(server, undefined, { raw: '{"amount": ' });
  assertFieldErrors(notJson, 'POST', PAYMENTS, ['body']);
  const array = await create(server, [bodyFor()]);
  assertFieldErrors(array, 'POST', PAYMENTS, ['body']);

  const body = bodyFor();
  const noKey = await server.call('POST', PAYMENTS, { body, headers: { 'Idempotency-Key': '<none>' } });
  assertFieldErrors(noKey, 'POST', PAYMENTS, ['Idempotency-Key']);
  await invalid(body, ['Idempotency-Key'], { key: 'k'.repeat(51) });
});

test('cross-field 400s: CARD only with WEB_REDIRECT, one customer identifier, flows of §5.3, Express shape', async () => {
  await invalid(bodyFor(NO, { paymentMethod: { type: 'CARD' }, userFlow: 'NATIVE_REDIRECT' }), ['paymentMethod.type']);
  await invalid(bodyFor(NO, { paymentMethod: { type: 'CARD' }, receipt: receiptIn('NOK') }), ['receipt']);
  await invalid(bodyFor(NO, { paymentMethod: { type: 'CARD' }, userFlow: 'QR' }), ['paymentMethod.type']);
  await invalid(bodyFor(NO, { customer: { phoneNumber: '4791234567', personalQr: 'https://qr.vipps.no/28/2/01/031/4791234567' } }), [
    'customer',
  ]);
  await invalid(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: {} }), ['customer']);
  const express = {
    profile: { scope: 'name address email phoneNumber' },
    shipping: {
      fixedOptions: [
        { brand: 'POSTEN', type: 'HOME_DELIVERY', options: [{ id: 'a', name: 'Home', amount: { currency: 'NOK', value: 9900 } }] },
      ],
      dynamicOptions: { callbackUrl: 'https://shop.example/shipping', callbackAuthorizationToken: 'secret' },
    },
  };
  await invalid(bodyFor(NO, express), ['shipping']);
  await invalid(bodyFor(NO, { ...express, shipping: {} }), ['shipping']);
  const dkkShipping = {
    fixedOptions: [{ ...express.shipping.fixedOptions[0], options: [{ id: 'a', name: 'Home', amount: { currency: 'DKK', value: 1 } }] }],
  };
  await invalid(bodyFor(NO, { ...express, shipping: dkkShipping }), ['shipping.fixedOptions[0].options[0].amount.currency']);
});

test('"ExpiresAt not allowed": expiresAt outside PUSH_MESSAGE / QR or with another method than WALLET (400, no code)', async () => {
  for (const fields of [
    { userFlow: 'WEB_REDIRECT' },
    { userFlow: 'NATIVE_REDIRECT' },
    { userFlow: 'WEB_REDIRECT', paymentMethod: { type: 'CARD' } },
  ]) {
    const body = bodyFor(NO, { ...fields, expiresAt: inFuture(server, HOUR), receipt: receiptIn('NOK') });
    if ((fields.paymentMethod as { type: string } | undefined)?.type === 'CARD') delete body.receipt;
    const reply = await create(server, body);
    assertProblem(reply, 400, 'POST', PAYMENTS);
    assert.equal(reply.body.title, 'ExpiresAt not allowed');
    assert.match(reply.body.detail, /ExpiresAt not allowed|WALLET/);
    assert.deepEqual(
      reply.body.extraDetails.map((d: { name: string }) => d.name),
      ['expiresAt'],
    );
    await assertNoPayment(server, body.reference as string);
  }
});

test('"Expiration date invalid": an expiresAt that is not an RFC 3339 date-time (400, no code)', async () => {
  for (const expiresAt of ['tomorrow', '2026-02-30T10:00:00Z', '2030-01-01 10:00:00Z', '2030-01-01T25:00:00Z', '2030-01-01T10:00:00']) {
    const body = bodyFor(NO, {
      userFlow: 'PUSH_MESSAGE',
      customer: { phoneNumber: '4791234567' },
      expiresAt,
      receipt: receiptIn('NOK'),
    });
    const reply = await create(server, body);
    assertProblem(reply, 400, 'POST', PAYMENTS);
    assert.equal(reply.body.title, 'Expiration date invalid', `${expiresAt}: ${reply.text}`);
    assert.deepEqual(
      reply.body.extraDetails.map((d: { name: string }) => d.name),
      ['expiresAt'],
    );
  }
});

// --- coded refusals (§13.3), by code ------------------------------------------------------------

test('4040 Invalid amount: a value that is not whole minor units', async () => {
  await refused(bodyFor(NO, { amount: { currency: 'NOK', value: 150.5 } }), 400, 4040);
  await refused(bodyFor(DK, { amount: { currency: 'DKK', value: 1999.99 } }), 400, 4040, { unit: DK });
});

test('4050 Invalid CustomerToken: unknown, expired, or checked in at another sales unit', async () => {
  const push = (customerToken: string) => bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { customerToken } });
  await refused(push('no-such-token'), 400, 4050);
  await refused(push(''), 400, 4050);
  const expired = await addCustomerToken(server, NO.msn, '4791234567', new Date(server.clock.nowMs() - MINUTE));
  await refused(push(expired), 400, 4050);
  const elsewhere = await addCustomerToken(server, DK.msn, '4791234567', new Date(server.clock.nowMs() + 10 * MINUTE));
  await refused(push(elsewhere), 400, 4050);
  // The same token also names the user when it only pre-fills the landing page.
  await refused(bodyFor(NO, { customer: { customerToken: expired } }), 400, 4050);
});

test('4060 Invalid PersonalQr: too short, too long, or not the personal QR of a user', async () => {
  const push = (personalQr: string) => bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { personalQr } });
  await refused(push('abcd'), 400, 4060);
  await refused(push(`https://qr.vipps.no/${'9'.repeat(250)}`), 400, 4060);
  await refused(push('https://qr.vipps.no/28/2/01/031/?v=1'), 400, 4060);
  await refused(push('https://qr.vipps.no/28/2/01/031/4712345670?v=1'), 400, 4060);
});

test('4070 Invalid phone number: not an MSISDN of 9–15 digits', async () => {
  for (const phoneNumber of ['+4791234567', '004791234567', '47 91234567', '12345678', '1234567890123456', 'ninetwo']) {
    await refused(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber } }), 400, 4070);
  }
  // Also where the number would only pre-fill the landing page.
  await refused(bodyFor(NO, { customer: { phoneNumber: '+4791234567' } }), 400, 4070);
});

test('4080 Invalid scope: unknown tokens, an empty scope, a wrong Express scope set', async () => {
  await refused(bodyFor(NO, { profile: { scope: 'name shoeSize' } }), 400, 4080);
  await refused(bodyFor(NO, { profile: { scope: '  ' } }), 400, 4080);
  const shipping = {
    fixedOptions: [
      { brand: 'POSTEN', type: 'HOME_DELIVERY', options: [{ id: 'a', name: 'Home', amount: { currency: 'NOK', value: 9900 } }] },
    ],
  };
  await refused(bodyFor(NO, { shipping, profile: { scope: 'name email' } }), 400, 4080);
  await refused(bodyFor(NO, { shipping, profile: { scope: 'name address email phoneNumber birthDate' } }), 400, 4080);
  await refused(bodyFor(NO, { shipping }), 400, 4080);
});

test('4090 Invalid URL: return, receipt, product, legal and callback URLs', async () => {
  for (const returnUrl of [
    'http://shop.example/return',
    'javascript:alert(1)',
    'not a url',
    'https://shop/return',
    'https://shop.example/re turn',
    'data:text/html,hi',
    'myapp:',
  ]) {
    await refused(bodyFor(NO, { returnUrl }), 400, 4090);
  }
  await refused(bodyFor(NO, { receiptUrl: 'ftp://files.shop.example/receipt' }), 400, 4090);
  const receipt = receiptIn('NOK');
  receipt.orderLines[0] = { ...receipt.orderLines[0], productUrl: 'myshop://product/1' } as (typeof receipt.orderLines)[0];
  await refused(bodyFor(NO, { receipt }), 400, 4090);
  await refused(
    bodyFor(NO, { merchantLegalLinks: { termsOfSaleUrl: 'http://shop.example/terms', privacyPolicyUrl: 'https://shop.example/privacy' } }),
    400,
    4090,
  );
  await refused(
    bodyFor(NO, {
      profile: { scope: 'name address email phoneNumber' },
      shipping: { dynamicOptions: { callbackUrl: 'myshop://shipping', callbackAuthorizationToken: 'secret' } },
    }),
    400,
    4090,
  );
  // A URL that only PUSH_MESSAGE would ignore is still checked.
  await refused(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4791234567' }, returnUrl: 'nope' }), 400, 4090);
});

test('4100–4130: metadata capacity, duplicate keys, key length, value length', async () => {
  const six = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`k${i}`, `v${i}`]));
  await refused(bodyFor(NO, { metadata: six }), 400, 4100);

  const withDuplicate = bodyFor();
  const raw = JSON.stringify({ ...withDuplicate, metadata: { till: '7' } }).replace('"till":"7"', '"till":"7","store":"Oslo","till":"8"');
  const duplicate = await create(server, undefined, { raw });
  assertErrorCode(duplicate, 400, 4110, 'POST', PAYMENTS);
  await assertNoPayment(server, withDuplicate.reference as string);
  // Five pairs sent with one repeated key are six pairs: capacity comes first (§5.2 rule 8).
  const sixWithDuplicate = bodyFor();
  const rawSix = JSON.stringify({ ...sixWithDuplicate, metadata: { a: '1', b: '2', c: '3', d: '4', e: '5' } }).replace(
    '"e":"5"',
    '"e":"5","a":"6"',
  );
  assertErrorCode(await create(server, undefined, { raw: rawSix }), 400, 4100, 'POST', PAYMENTS);

  await refused(bodyFor(NO, { metadata: { ['k'.repeat(101)]: 'v' } }), 400, 4120);
  await refused(bodyFor(NO, { metadata: { note: 'v'.repeat(501) } }), 400, 4130);
  // Key length is checked before value length, over all keys.
  await refused(bodyFor(NO, { metadata: { note: 'v'.repeat(501), ['k'.repeat(101)]: 'v' } }), 400, 4120);
});

test('4140 Missing required parameter: returnUrl for WEB_REDIRECT, customer for PUSH_MESSAGE', async () => {
  const { returnUrl: _, ...noReturnUrl } = bodyFor();
  await refused(noReturnUrl, 400, 4140);
  await refused(bodyFor(NO, { returnUrl: '' }), 400, 4140);
  await refused(bodyFor(NO, { returnUrl: null }), 400, 4140);
  await refused(bodyFor(NO, { userFlow: 'PUSH_MESSAGE' }), 400, 4140);
  await refused(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: null }), 400, 4140);
});

test('4160 Invalid payment method type: cardPassthrough without CARD_PASSTHROUGH, or CARD_PASSTHROUGH without it or from a merchant', async () => {
  const cardPassthrough = { pspReference: 'psp-1', cardCallbackUrl: 'https://psp.example/cards', allowedCardTypes: ['VISA_DEBIT'] };
  await refused(bodyFor(NO, { cardPassthrough }), 400, 4160);
  await refused(bodyFor(NO, { paymentMethod: { type: 'CARD_PASSTHROUGH' } }), 400, 4160);
  await refused(bodyFor(NO, { paymentMethod: { type: 'CARD_PASSTHROUGH' }, cardPassthrough }), 400, 4160);
  const psp = await addUnit(server, 'NO', {}, 'psp');
  await refused(bodyFor(psp, { paymentMethod: { type: 'CARD_PASSTHROUGH' } }), 400, 4160, { unit: psp });
});

test('5010 Blocking sources not applicable: on a Norwegian sales unit, or for another method than WALLET', async () => {
  const reply = await refused(bodyFor(NO, { paymentMethod: { type: 'WALLET', blockedSources: ['COMMERCIAL_CARDS'] } }), 400, 5010);
  assert.equal(reply.body.detail, "Not possible to block payment sources for market: 'Norwegian'");
  await refused(bodyFor(DK, { paymentMethod: { type: 'CARD', blockedSources: ['COMMERCIAL_CARDS'] } }), 400, 5010, { unit: DK });
});

test('5020 Express payment not allowed: the sales unit is not enabled for Express', async () => {
  const unit = await addUnit(server, 'NO', { expressAllowed: false });
  const shipping = {
    fixedOptions: [
      { brand: 'POSTEN', type: 'HOME_DELIVERY', options: [{ id: 'a', name: 'Home', amount: { currency: 'NOK', value: 9900 } }] },
    ],
  };
  await refused(bodyFor(unit, { shipping, profile: { scope: 'name address email phoneNumber' } }), 400, 5020, { unit });
});

test('5030 Illegal scope: a restricted scope the sales unit may not request', async () => {
  await refused(bodyFor(NO, { profile: { scope: 'name nin' } }), 400, 5030);
  await refused(bodyFor(NO, { profile: { scope: 'accountNumbers' } }), 400, 5030);
});

test('5040 Invalid currency for merchant: the currency of another market', async () => {
  await refused(bodyFor(NO, { amount: { currency: 'DKK', value: 10000 } }), 400, 5040);
  await refused(bodyFor(DK, { amount: { currency: 'NOK', value: 10000 } }), 400, 5040, { unit: DK });
  await refused(bodyFor(FI, { amount: { currency: 'DKK', value: 10000 } }), 400, 5040, { unit: FI });
  // SEK, USD and GBP exist for PSP card passthrough only (open question 20).
  await refused(bodyFor(NO, { amount: { currency: 'SEK', value: 10000 } }), 400, 5040);
});

test('5050 Long-living payment not allowed: expiresAt on a sales unit without the approval', async () => {
  const unit = await addUnit(server, 'DK', { longLivingAllowed: false });
  const body = bodyFor(unit, {
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4511223344' },
    expiresAt: inFuture(server, DAY),
    receipt: receiptIn('DKK'),
  });
  await refused(body, 400, 5050, { unit });
});

test('5060 Merchant bank account not verified', async () => {
  const unit = await addUnit(server, 'NO', { bankAccountVerified: false });
  await refused(bodyFor(unit), 400, 5060, { unit });
});

test('5070 Payment cannot be created: CARD is not available in the test environment (422)', async () => {
  for (const unit of [NO, DK, FI]) {
    const reply = await refused(bodyFor(unit, { paymentMethod: { type: 'CARD' } }), 422, 5070, { unit });
    assert.equal(reply.body.title, 'Payment cannot be created');
  }
});

test('5080 PUSH_MESSAGE not allowed: the sales unit may not skip the landing page', async () => {
  const unit = await addUnit(server, 'NO', { pushMessageAllowed: false });
  await refused(bodyFor(unit, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4791234567' } }), 400, 5080, { unit });
});

test('6010 Amount too small: below NOK 100, DKK 1, EUR 1', async () => {
  await refused(bodyFor(NO, { amount: { currency: 'NOK', value: 99 } }), 400, 6010);
  await refused(bodyFor(NO, { amount: { currency: 'NOK', value: 0 } }), 400, 6010);
  await refused(bodyFor(DK, { amount: { currency: 'DKK', value: 0 } }), 400, 6010, { unit: DK });
  await refused(bodyFor(FI, { amount: { currency: 'EUR', value: 0 } }), 400, 6010, { unit: FI });
});

test('6110 Expiration date is too late: beyond 60 days, or beyond the sales unit’s own cap (24 h in Norway)', async () => {
  const longLiving = (unit: typeof NO, phoneNumber: string, ahead: number) =>
    bodyFor(unit, {
      userFlow: 'PUSH_MESSAGE',
      customer: { phoneNumber },
      expiresAt: inFuture(server, ahead),
      receipt: receiptIn(unit === NO ? 'NOK' : unit === DK ? 'DKK' : 'EUR'),
    });
  await refused(longLiving(NO, '4791234567', 25 * HOUR), 400, 6110);
  await refused(longLiving(DK, '4511223344', 61 * DAY), 400, 6110, { unit: DK });
  await refused(longLiving(FI, '358401234567', 60 * DAY + MINUTE), 400, 6110, { unit: FI });
});

test('6120 Expiration date is too soon: less than 10 minutes ahead (or in the past)', async () => {
  for (const ahead of [9 * MINUTE, MINUTE, -HOUR]) {
    const body = bodyFor(NO, {
      userFlow: 'QR',
      expiresAt: inFuture(server, ahead),
      receipt: receiptIn('NOK'),
    });
    await refused(body, 400, 6120);
  }
});

test('6130 Long living payments require a receipt', async () => {
  const body = bodyFor(DK, { userFlow: 'QR', expiresAt: inFuture(server, 2 * DAY) });
  await refused(body, 400, 6130, { unit: DK });
  await refused({ ...body, receipt: null, reference: newReference('create') }, 400, 6130, { unit: DK });
});

test('7010 Customer not found: unknown number, younger than minimumUserAge, or unable to pay businesses', async () => {
  const push = (phoneNumber: string, fields: Record<string, unknown> = {}) =>
    bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber }, ...fields });
  await refused(push('4712345678'), 400, 7010);
  // Kari (born 2010) is too young for an 18-year limit; the answer is deliberately the same (§14.5).
  const tooYoung = await refused(push('4798765432', { minimumUserAge: 18 }), 400, 7010);
  assert.equal(tooYoung.body.title, 'Customer not found');
  const blocked = await addUser(server, { phone: '4755500001', canPayBusinesses: false });
  await refused(push(blocked.phone), 400, 7010);
  // Under 15: Vipps users cannot pay businesses at all (platform-guidelines §14).
  const child = await addUser(server, { phone: '4755500002', birthDate: `${server.clock.now().getUTCFullYear() - 12}-01-01` });
  await refused(push(child.phone), 400, 7010);
  // Identified through a personal QR or a check-in token, the same rules apply.
  await refused(
    bodyFor(NO, {
      userFlow: 'PUSH_MESSAGE',
      customer: { personalQr: 'https://qr.vipps.no/28/2/01/031/4798765432?v=1' },
      minimumUserAge: 18,
    }),
    400,
    7010,
  );
  const token = await addCustomerToken(server, NO.msn, blocked.phone, new Date(server.clock.nowMs() + 10 * MINUTE));
  await refused(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { customerToken: token } }), 400, 7010);
});

// --- the order of §5.2 --------------------------------------------------------------------------

test('rules apply in the order of spec §5.2: the first failing rule answers', async () => {
  const code = async (body: Record<string, unknown>, unit = NO) => {
    const reply = await create(server, body, { unit });
    return reply.body.extraDetails?.find((d: { name: string }) => d.name === 'ErrorCode')?.reason ?? reply.body.title;
  };
  // 3 before 9: flow requirements before amounts.
  const { returnUrl: _, ...noReturnUrl } = bodyFor(NO, { amount: { currency: 'DKK', value: 1 } });
  assert.equal(await code(noReturnUrl), '4140');
  // 4: customer before the push approval.
  const noPush = await addUnit(server, 'NO', { pushMessageAllowed: false, bankAccountVerified: false });
  assert.equal(await code(bodyFor(noPush, { userFlow: 'PUSH_MESSAGE' }), noPush), '4140');
  // 5 before 6 before 8 before 9.
  assert.equal(await code(bodyFor(NO, { customer: { phoneNumber: '+47' }, returnUrl: 'nope' })), '4070');
  assert.equal(await code(bodyFor(NO, { returnUrl: 'nope', metadata: { ['k'.repeat(101)]: 'v' } })), '4090');
  assert.equal(await code(bodyFor(NO, { metadata: { ['k'.repeat(101)]: 'v' }, amount: { currency: 'EUR', value: 100 } })), '4120');
  // 7: the flow check before the approval, the approval before the dates, the dates before the receipt.
  const noLongLiving = await addUnit(server, 'NO', { longLivingAllowed: false });
  assert.equal(await code(bodyFor(noLongLiving, { expiresAt: 'tomorrow' }), noLongLiving), 'ExpiresAt not allowed');
  assert.equal(await code(bodyFor(noLongLiving, { userFlow: 'QR', expiresAt: 'tomorrow' }), noLongLiving), '5050');
  assert.equal(await code(bodyFor(NO, { userFlow: 'QR', expiresAt: inFuture(server, MINUTE) })), '6120');
  // 9: currency before minimum before whole units.
  assert.equal(await code(bodyFor(NO, { amount: { currency: 'DKK', value: 0.5 } })), '5040');
  assert.equal(await code(bodyFor(NO, { amount: { currency: 'NOK', value: 0.5 } })), '6010');
  // 10 before 11 before 12.
  assert.equal(
    await code(bodyFor(NO, { profile: { scope: 'nin' }, paymentMethod: { type: 'WALLET', blockedSources: ['COMMERCIAL_CARDS'] } })),
    '5030',
  );
  const noExpress = await addUnit(server, 'NO', { expressAllowed: false });
  const shipping = { dynamicOptions: { callbackUrl: 'https://shop.example/shipping', callbackAuthorizationToken: 't' } };
  assert.equal(
    await code(bodyFor(noExpress, { shipping, paymentMethod: { type: 'WALLET', blockedSources: ['COMMERCIAL_CARDS'] } }), noExpress),
    '5010',
  );
  // 12 before 13: a used reference is only reported for an otherwise acceptable request.
  const used = bodyFor();
  assert.equal((await create(server, used)).status, 201);
  assert.equal(await code({ ...used, returnUrl: 'nope' }), '4090');
  assert.equal(await code({ ...used, amount: { currency: 'NOK', value: 150.5 } }), '4040');
  // 13 before 14 before 15–16: a used reference wins over an unknown customer and over CARD in test mode.
  assert.equal(await code({ ...used, userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4712345678' } }), '4150');
  assert.equal(await code({ ...used, paymentMethod: { type: 'CARD' } }), '4150');
  // 14 before 16.
  assert.equal(await code(bodyFor(noPush, { userFlow: 'WEB_REDIRECT', customer: { customerToken: 'unknown' } }), noPush), '4050');
  const unverified = await addUnit(server, 'NO', { bankAccountVerified: false });
  assert.equal(await code(bodyFor(unverified, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4712345678' } }), unverified), '7010');
  assert.equal(await code(bodyFor(unverified, { paymentMethod: { type: 'CARD' } }), unverified), '5070');
});

test('a refusal writes no payment and no event, and the reference stays free', async () => {
  const body = bodyFor(NO, { amount: { currency: 'NOK', value: 99 } });
  await refused(body, 400, 6010);
  const retry = await create(server, { ...body, amount: { currency: 'NOK', value: 100 } });
  assert.equal(retry.status, 201, retry.text);
  const count = await server.ctx.db.query<{ n: number }>('select count(*)::int as n from payment_events where reference = $1', [
    body.reference,
  ]);
  assert.equal(count.rows[0]?.n, 1);
});
