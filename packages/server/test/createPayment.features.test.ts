/**
 * Successful creates over HTTP: every user flow with its redirectUrl (spec §5.3, §5.4), every optional
 * feature of §5.1 and §14, the leniencies of §1 / §19, and GET returning what was stored (§6).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findPayment } from '../src/store/paymentsStore.ts';
import {
  addCustomerToken,
  addUnit,
  assertCreated,
  bodyFor,
  create,
  DAY,
  getEvents,
  getPayment,
  HOUR,
  inFuture,
  MINUTE,
  receiptIn,
  type Unit,
} from './support/createPaymentSupport.ts';
import { DK, FI, NO, newReference, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
let publicUrl: string;
before(async () => {
  server = await startTestServer();
  publicUrl = server.ctx.config.publicUrl;
});
after(() => server.close());

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const TOKEN = '([A-Za-z0-9_-]{20,})';

/** Creates `body`, expects 201, and returns the create reply. */
async function created(body: Record<string, unknown>, unit: Unit = NO) {
  const reply = await create(server, body, { unit });
  assertCreated(reply, body.reference as string);
  return reply;
}

/** The request as Kassa stored it (what the app, webhooks and dashboard read). */
async function stored(reference: string, unit: Unit = NO) {
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  assert.ok(payment, `no payment ${reference}`);
  return payment;
}

// --- user flows and redirectUrl (§5.3, §5.4) ------------------------------------------------------

test('WEB_REDIRECT: a landing URL with a token that force approve accepts; GET shows it while CREATED', async () => {
  const body = bodyFor(NO, { amount: { currency: 'NOK', value: 49900 } });
  const reply = await created(body);
  const match = new RegExp(`^${escapeRegExp(publicUrl)}/landing\\?token=${TOKEN}$`).exec(reply.body.redirectUrl);
  assert.ok(match, reply.body.redirectUrl);
  assert.deepEqual(Object.keys(reply.body).sort(), ['redirectUrl', 'reference']);

  const got = await getPayment(server, body.reference as string);
  assert.equal(got.status, 200);
  const nok = (value: number) => ({ currency: 'NOK', value });
  assert.deepEqual(got.body, {
    aggregate: { authorizedAmount: nok(0), cancelledAmount: nok(0), capturedAmount: nok(0), refundedAmount: nok(0) },
    amount: nok(49900),
    state: 'CREATED',
    paymentMethod: { type: 'WALLET' },
    profile: {},
    pspReference: got.body.pspReference,
    reference: body.reference,
    redirectUrl: reply.body.redirectUrl,
  });
  assert.match(got.body.pspReference, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

  const events = await getEvents(server, body.reference as string);
  assert.equal(events.body.length, 1);
  assert.equal(events.body[0].name, 'CREATED');
  assert.equal(events.body[0].pspReference, got.body.pspReference);
  assert.deepEqual(events.body[0].amount, nok(49900));
  assert.equal(events.body[0].success, true);

  const approved = await server.approve(body.reference as string, NO, { token: match[1] });
  assert.equal(approved.status, 200, approved.text);
  const after = await getPayment(server, body.reference as string);
  assert.equal(after.body.state, 'AUTHORIZED');
  assert.equal(after.body.redirectUrl, undefined);
});

test('NATIVE_REDIRECT: an app deeplink kassa://payment?token=…, no returnUrl needed', async () => {
  const { returnUrl: _, ...body } = bodyFor(NO, { userFlow: 'NATIVE_REDIRECT' });
  const reply = await created(body);
  assert.match(reply.body.redirectUrl, new RegExp(`^kassa://payment\\?token=${TOKEN}$`));
  const got = await getPayment(server, body.reference as string);
  assert.equal(got.body.redirectUrl, reply.body.redirectUrl);
});

test('PUSH_MESSAGE: no redirectUrl, in the create response or in GET', async () => {
  const body = bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4791234567' } });
  const reply = await created(body);
  assert.deepEqual(reply.body, { reference: body.reference });
  const got = await getPayment(server, body.reference as string);
  assert.equal(got.body.state, 'CREATED');
  assert.equal('redirectUrl' in got.body, false);
  assert.equal((await stored(body.reference as string)).customerPhone, '4791234567');
});

test('QR: the image URL by qrFormat (SVG by default, PNG with its size), or the target URL', async () => {
  const cases: [unknown, RegExp][] = [
    [undefined, new RegExp(`^${escapeRegExp(publicUrl)}/qr-image/v1\\?format=svg&token=${TOKEN}$`)],
    [null, new RegExp(`^${escapeRegExp(publicUrl)}/qr-image/v1\\?format=svg&token=${TOKEN}$`)],
    [{ format: 'IMAGE/SVG+XML' }, new RegExp(`^${escapeRegExp(publicUrl)}/qr-image/v1\\?format=svg&token=${TOKEN}$`)],
    [{ format: 'IMAGE/PNG' }, new RegExp(`^${escapeRegExp(publicUrl)}/qr-image/v1\\?format=png&size=1024&token=${TOKEN}$`)],
    [{ format: 'IMAGE/PNG', size: 300 }, new RegExp(`^${escapeRegExp(publicUrl)}/qr-image/v1\\?format=png&size=300&token=${TOKEN}$`)],
    [{ format: 'TEXT/TARGETURL' }, new RegExp(`^${escapeRegExp(publicUrl)}/app/qr\\?token=${TOKEN}$`)],
  ];
  for (const [qrFormat, shape] of cases) {
    const { returnUrl: _, ...body } = bodyFor(NO, {
      userFlow: 'QR',
      customerInteraction: 'CUSTOMER_PRESENT',
      ...(qrFormat === undefined ? {} : { qrFormat }),
    });
    const reply = await created(body);
    assert.match(reply.body.redirectUrl, shape, JSON.stringify(qrFormat));
    assert.equal((await getPayment(server, body.reference as string)).body.redirectUrl, reply.body.redirectUrl);
  }
});

test('qrFormat with a flow other than QR is ignored (§5.2)', async () => {
  const reply = await created(bodyFor(NO, { qrFormat: { format: 'IMAGE/PNG', size: 500 } }));
  assert.match(reply.body.redirectUrl, /\/landing\?token=/);
});

test('every redirect token is new: two payments never share one', async () => {
  const a = await created(bodyFor());
  const b = await created(bodyFor());
  assert.notEqual(a.body.redirectUrl.split('token=').pop(), b.body.redirectUrl.split('token=').pop());
});

// --- customers (§4.3, §5.2 rule 14) ---------------------------------------------------------------

test('a phone number with WEB_REDIRECT only pre-fills the landing page: an unknown number is accepted', async () => {
  const body = bodyFor(NO, { customer: { phoneNumber: '4712345678' } });
  await created(body);
  assert.equal((await stored(body.reference as string)).customerPhone, '4712345678');
});

test('a personal QR identifies the user (the platform’s format and Kassa’s own)', async () => {
  const vipps = bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { personalQr: 'https://qr.vipps.no/28/2/01/031/4791234567?v=1' } });
  await created(vipps);
  assert.equal((await stored(vipps.reference as string)).customerPhone, '4791234567');
  const kassa = bodyFor(DK, { userFlow: 'PUSH_MESSAGE', customer: { personalQr: `${publicUrl}/qr/personal/4511223344?v=1` } });
  await created(kassa, DK);
  assert.equal((await stored(kassa.reference as string, DK)).customerPhone, '4511223344');
});

test('a customerToken from a QR check-in identifies the user while it is valid', async () => {
  const token = await addCustomerToken(server, NO.msn, '4791234567', new Date(server.clock.nowMs() + 10 * MINUTE));
  const body = bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { customerToken: token } });
  await created(body);
  assert.equal((await stored(body.reference as string)).customerPhone, '4791234567');
});

test('users from any Nordic country may pay any Nordic merchant (a Swedish user at a Danish unit)', async () => {
  await created(bodyFor(DK, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '46701234567' } }), DK);
});

test('minimumUserAge: an adult passes; for a redirect flow the age is only checked when the user approves', async () => {
  await created(bodyFor(NO, { userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: '4791234567' }, minimumUserAge: 18 }));
  const prefill = bodyFor(NO, { customer: { phoneNumber: '4798765432' }, minimumUserAge: 18 });
  await created(prefill);
  assert.equal((await stored(prefill.reference as string)).request.minimumUserAge, 18);
  await created(bodyFor(NO, { minimumUserAge: null }));
});

// --- amounts, currencies, markets (§4.2) ----------------------------------------------------------

test('the minimum amount of each market is accepted, and so is the schema maximum', async () => {
  await created(bodyFor(NO, { amount: { currency: 'NOK', value: 100 } }));
  await created(bodyFor(DK, { amount: { currency: 'DKK', value: 1 } }), DK);
  await created(bodyFor(FI, { amount: { currency: 'EUR', value: 1 } }), FI);
  await created(bodyFor(NO, { amount: { currency: 'NOK', value: 65_000_000 } }));
});

test('blockedSources COMMERCIAL_CARDS on Danish and Finnish WALLET payments; an empty list anywhere', async () => {
  const blocked = { type: 'WALLET', blockedSources: ['COMMERCIAL_CARDS'] };
  const dk = bodyFor(DK, { paymentMethod: blocked });
  await created(dk, DK);
  assert.deepEqual((await stored(dk.reference as string, DK)).request.paymentMethod, blocked);
  await created(bodyFor(FI, { paymentMethod: blocked }), FI);
  await created(bodyFor(NO, { paymentMethod: { type: 'WALLET', blockedSources: [] } }));
  await created(bodyFor(NO, { paymentMethod: { type: 'WALLET', blockedSources: null } }));
});

// --- optional features (§5.1, §14) ----------------------------------------------------------------

test('Express: fixed or dynamic shipping options with exactly the Express scopes (any order)', async () => {
  const fixedOptions = [
    {
      brand: 'POSTEN',
      type: 'PICKUP_POINT',
      isDefault: true,
      priority: 0,
      options: [
        { id: 'pp-1', name: 'Kiwi Grünerløkka', amount: { currency: 'NOK', value: 4900 }, meta: 'Thorvald Meyers gate 1', isDefault: true },
        { id: 'pp-2', name: 'Rema Torshov', amount: { currency: 'NOK', value: 4900 }, estimatedDelivery: '2–4 days' },
      ],
    },
    { brand: 'HELTHJEM', type: 'HOME_DELIVERY', options: [{ id: 'home', name: 'Home', amount: { currency: 'NOK', value: 9900 } }] },
  ];
  const fixed = bodyFor(NO, {
    profile: { scope: 'phoneNumber email address name' },
    shipping: { fixedOptions, allowedCountries: ['NO', 'SE'] },
  });
  await created(fixed);
  assert.deepEqual((await stored(fixed.reference as string)).request.shipping, { fixedOptions, allowedCountries: ['NO', 'SE'] });
  const dynamic = bodyFor(DK, {
    profile: { scope: 'name address email phoneNumber' },
    shipping: { dynamicOptions: { callbackUrl: 'https://shop.example/shipping', callbackAuthorizationToken: 'Bearer abc' } },
  });
  await created(dynamic, DK);
});

test('profile sharing: scopes are stored, GET shows profile {} until authorization; nin for an approved unit', async () => {
  const body = bodyFor(NO, { profile: { scope: 'name email birthDate' } });
  await created(body);
  const got = await getPayment(server, body.reference as string);
  assert.deepEqual(got.body.profile, {});
  assert.deepEqual((await stored(body.reference as string)).request.profile, { scope: 'name email birthDate' });
  const unit = await addUnit(server, 'NO', { extraScopes: ['nin'] });
  await created(bodyFor(unit, { profile: { scope: 'name nin' } }), unit);
  // No scope at all is no profile sharing (the published schema does not require it).
  await created(bodyFor(NO, { profile: {} }));
});

test('long-living payments: PUSH_MESSAGE / QR with a receipt, between 10 minutes and the unit’s cap; they expire at expiresAt', async () => {
  const expiresAt = inFuture(server, 2 * DAY);
  const body = bodyFor(DK, {
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4511223344' },
    expiresAt,
    receipt: receiptIn('DKK'),
  });
  await created(body, DK);
  assert.equal((await stored(body.reference as string, DK)).expiresAt.toISOString(), expiresAt);
  server.clock.advance(11 * MINUTE);
  await server.sweep();
  assert.equal((await getPayment(server, body.reference as string, DK)).body.state, 'CREATED');
  server.clock.advance(2 * DAY);
  assert.equal((await getPayment(server, body.reference as string, DK)).body.state, 'EXPIRED');

  // QR up to 60 days on a Finnish unit; 10 minutes is the shortest; Norway up to 24 hours.
  const { returnUrl: _, ...qr } = bodyFor(FI, {
    userFlow: 'QR',
    expiresAt: inFuture(server, 60 * DAY - MINUTE),
    receipt: receiptIn('EUR'),
  });
  const qrReply = await created(qr, FI);
  assert.match(qrReply.body.redirectUrl, /\/qr-image\/v1\?format=svg&token=/);
  await created(bodyFor(FI, { userFlow: 'QR', expiresAt: inFuture(server, 10 * MINUTE + 5000), receipt: receiptIn('EUR') }), FI);
  await created(
    bodyFor(NO, {
      userFlow: 'PUSH_MESSAGE',
      customer: { phoneNumber: '4791234567' },
      expiresAt: inFuture(server, 23 * HOUR),
      receipt: receiptIn('NOK'),
    }),
  );
});

test('expiresAt in every RFC 3339 form of the published pattern: offsets, lower-case t/z, 7 fraction digits', async () => {
  const at = new Date(server.clock.nowMs() + 3 * HOUR);
  at.setUTCMilliseconds(123);
  const iso = at.toISOString(); // 2026-…T…:…:….123Z
  const plusTwo = new Date(at.getTime() + 2 * HOUR).toISOString().replace('Z', '+02:00');
  for (const [expiresAt, expected] of [
    [iso, iso],
    [plusTwo, iso],
    [iso.replace('T', 't').replace('Z', 'z'), iso],
    [iso.replace('.123Z', '.1234567Z'), iso],
    [iso.replace('.123Z', 'Z'), iso.replace('.123Z', '.000Z')],
  ] as const) {
    const body = bodyFor(NO, { userFlow: 'QR', expiresAt, receipt: receiptIn('NOK') });
    await created(body);
    assert.equal((await stored(body.reference as string)).expiresAt.toISOString(), expected, expiresAt);
  }
});

test('receipt with every member of the Order Management schema, taxPercentage instead of taxRate, and receiptUrl', async () => {
  const receipt = {
    orderLines: [
      {
        name: 'Socks',
        id: 'sku-1',
        totalAmount: 2000,
        totalAmountExcludingTax: 1600,
        totalTaxAmount: 400,
        taxRate: 2500,
        unitInfo: { unitPrice: 1000, quantity: '2', quantityUnit: 'PCS' },
        discount: 0,
        productUrl: 'https://shop.example/socks',
        isReturn: false,
        isShipping: false,
      },
      {
        name: 'Apples',
        id: 'sku-2',
        totalAmount: 7900,
        totalAmountExcludingTax: 7022,
        totalTaxAmount: 878,
        taxPercentage: 12,
        unitInfo: { unitPrice: 3160, quantity: '2.5', quantityUnit: 'KG' },
      },
      { name: 'Shipping', id: 'ship', totalAmount: 100, totalAmountExcludingTax: 80, totalTaxAmount: 20, taxRate: 2500, isShipping: true },
    ],
    bottomLine: {
      currency: 'NOK',
      tipAmount: 0,
      posId: 'till-7',
      paymentSources: { giftCard: 0, card: 10000, voucher: 0, cash: 0 },
      barcode: { format: 'EAN-13', data: '5901234123457' },
      receiptNumber: '31',
    },
  };
  const body = bodyFor(NO, { receipt, receiptUrl: 'https://shop.example/receipts/31' });
  await created(body);
  const request = (await stored(body.reference as string)).request;
  assert.deepEqual(request.receipt, receipt);
  assert.equal(request.receiptUrl, 'https://shop.example/receipts/31');
  // receiptUrl may also be an app link.
  await created(bodyFor(NO, { receiptUrl: 'myshop://receipts/31' }));
});

test('metadata: returned by GET exactly as sent — key order, numbers as their literal text, limits inclusive', async () => {
  const body = bodyFor();
  const raw = JSON.stringify({ ...body, metadata: null }).replace(
    '"metadata":null',
    '"metadata":{"till":7,"orderTotal":1.50,"big":12345678901234567890,"store":"Aarhus C","a":"æøå"}',
  );
  assertCreated(await create(server, undefined, { raw }), body.reference as string);
  const got = await getPayment(server, body.reference as string);
  assert.deepEqual(got.body.metadata, { till: '7', orderTotal: '1.50', big: '12345678901234567890', store: 'Aarhus C', a: 'æøå' });
  assert.deepEqual(Object.keys(got.body.metadata), ['till', 'orderTotal', 'big', 'store', 'a']);
  assert.match(got.text, /"metadata":\{"till":"7","orderTotal":"1.50","big":"12345678901234567890","store":"Aarhus C","a":"æøå"\}/);

  const limits = bodyFor(NO, { metadata: Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`${i}`.repeat(100), 'v'.repeat(500)])) });
  await created(limits);
  assert.deepEqual((await getPayment(server, limits.reference as string)).body.metadata, limits.metadata);
  // Metadata is returned by GET only (§14.7) — and not when there is none.
  const none = bodyFor(NO, { metadata: null });
  await created(none);
  assert.equal('metadata' in (await getPayment(server, none.reference as string)).body, false);
  await created(bodyFor(NO, { metadata: {} }));
});

test('airline industry data, customerInteraction and merchantLegalLinks are stored', async () => {
  const airlineData = {
    agencyInvoiceNumber: '123456',
    airlineCode: '074',
    airlineDesignatorCode: 'KL',
    passengerName: 'FLYER / MARY MS.',
    ticketNumber: '123-1234567890',
  };
  const merchantLegalLinks = { termsOfSaleUrl: 'https://shop.example/terms', privacyPolicyUrl: 'https://shop.example/privacy' };
  const body = bodyFor(NO, { industryData: { airlineData }, customerInteraction: 'CUSTOMER_PRESENT', merchantLegalLinks });
  await created(body);
  const request = (await stored(body.reference as string)).request;
  assert.deepEqual(request.industryData, { airlineData });
  assert.equal(request.customerInteraction, 'CUSTOMER_PRESENT');
  assert.deepEqual(request.merchantLegalLinks, merchantLegalLinks);
  // CUSTOMER_NOT_PRESENT is the default (§4.1).
  const plain = bodyFor();
  await created(plain);
  assert.equal((await stored(plain.reference as string)).request.customerInteraction, 'CUSTOMER_NOT_PRESENT');
  await created(bodyFor(NO, { industryData: {} }));
  await created(bodyFor(NO, { industryData: { airlineData: null } }));
});

// --- leniencies (§1, §19) -------------------------------------------------------------------------

test('reference and phoneNumber sent as JSON numbers keep their literal digits (beyond 2^63)', async () => {
  const digits = `2${Date.now()}${Math.floor(Math.random() * 1e6)}`.padEnd(20, '7');
  const raw = JSON.stringify(bodyFor(NO, { reference: 'PLACEHOLDER', userFlow: 'PUSH_MESSAGE', customer: { phoneNumber: 0 } }))
    .replace('"reference":"PLACEHOLDER"', `"reference":${digits}`)
    .replace('"phoneNumber":0', '"phoneNumber":4791234567');
  const reply = await create(server, undefined, { raw });
  assertCreated(reply, digits);
  const got = await getPayment(server, digits);
  assert.equal(got.status, 200);
  assert.equal(got.body.reference, digits);
  assert.equal((await stored(digits)).customerPhone, '4791234567');
});

test('an empty paymentDescription counts as absent; null too; 3 and 100 characters are accepted', async () => {
  for (const paymentDescription of ['', null, 'abc', 'd'.repeat(100)]) {
    const body = bodyFor(NO, { paymentDescription });
    await created(body);
    const request = (await stored(body.reference as string)).request;
    assert.equal(request.paymentDescription, paymentDescription || undefined);
  }
  const { paymentDescription: _, ...without } = bodyFor();
  await created(without);
});

test('unknown properties are ignored — at the top, inside customer, amount and receipt — and not stored', async () => {
  const body = bodyFor(NO, {
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4791234567', wooExtra: 'plugin field' },
    amount: { currency: 'NOK', value: 10000, precision: 2 },
    receipt: { ...receiptIn('NOK'), note: 'x' },
    somethingNew: { nested: true },
  });
  await created(body);
  const request = (await stored(body.reference as string)).request;
  assert.deepEqual(request.customer, { phoneNumber: '4791234567' });
  assert.deepEqual(request.amount, { currency: 'NOK', value: 10000 });
  assert.deepEqual(request.receipt, receiptIn('NOK'));
  assert.equal('somethingNew' in request, false);
});

test('null for every optional member is the same as leaving it out', async () => {
  const body = bodyFor(NO, {
    customer: null,
    paymentDescription: null,
    profile: null,
    expiresAt: null,
    qrFormat: null,
    receipt: null,
    receiptUrl: null,
    metadata: null,
    industryData: null,
    minimumUserAge: null,
    shipping: null,
    merchantLegalLinks: null,
    cardPassthrough: null,
    paymentMethod: { type: 'WALLET', blockedSources: null },
  });
  const reply = await created(body);
  assert.match(reply.body.redirectUrl, /\/landing\?token=/);
  const request = (await stored(body.reference as string)).request;
  assert.deepEqual(Object.keys(request).sort(), ['amount', 'customerInteraction', 'paymentMethod', 'reference', 'returnUrl', 'userFlow']);
  assert.deepEqual(request.paymentMethod, { type: 'WALLET' });
});

test('test mode accepts loopback return URLs, so a shop on a developer machine works', async () => {
  await created(bodyFor(NO, { returnUrl: 'http://localhost:3000/return?ref=1' }));
  await created(bodyFor(NO, { returnUrl: 'http://127.0.0.1:3000/return' }));
  await created(bodyFor(NO, { returnUrl: 'myshop://return/1' }));
  await created(bodyFor(NO, { returnUrl: 'https://203.0.113.7/return' }));
});

// --- PSP card passthrough (§17.2) ------------------------------------------------------------------

test('CARD_PASSTHROUGH for a PSP: any currency of the agreement, WEB_REDIRECT or PUSH_MESSAGE', async () => {
  const psp = await addUnit(server, 'NO', {}, 'psp');
  const cardPassthrough = {
    pspReference: 'psp-order-1',
    cardCallbackUrl: 'https://psp.example/vipps/cards',
    allowedCardTypes: ['VISA_DEBIT', 'MC_CREDIT'],
    preferVisaPartOfVisaDankort: false,
  };
  const web = bodyFor(psp, { amount: { currency: 'SEK', value: 10000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, cardPassthrough });
  const reply = await created(web, psp);
  assert.match(reply.body.redirectUrl, /\/landing\?token=/);
  const got = await getPayment(server, web.reference as string, psp);
  assert.deepEqual(got.body.amount, { currency: 'SEK', value: 10000 });
  assert.deepEqual(got.body.paymentMethod, { type: 'CARD_PASSTHROUGH' });
  const push = bodyFor(psp, {
    userFlow: 'PUSH_MESSAGE',
    customerInteraction: 'CUSTOMER_PRESENT',
    customer: { phoneNumber: '4791234567' },
    paymentMethod: { type: 'CARD_PASSTHROUGH' },
    cardPassthrough: { ...cardPassthrough, pspReference: 'psp-order-2' },
  });
  const pushReply = await created(push, psp);
  assert.equal(pushReply.body.redirectUrl, undefined);
});

test('the CREATED event carries the key of the create request', async () => {
  const body = bodyFor();
  const key = `create-${newReference()}`.slice(0, 50);
  assertCreated(await create(server, body, { key }), body.reference as string);
  const events = await getEvents(server, body.reference as string);
  assert.deepEqual(
    events.body.map((e: { name: string; idempotencyKey: string }) => [e.name, e.idempotencyKey]),
    [['CREATED', key]],
  );
});
