/**
 * The PSP card callback (epayment-api §17.3, platform-guidelines §18): what Kassa sends and how it is
 * signed, and every answer a PSP can give — RESERVE, FAIL (retryable or not), SOFT_DECLINE and the
 * second callback after 3-D Secure — and every way it can fail to give one: a timeout, HTTP 500,
 * garbage, a rejected signature, no signing secret. For each: the payment's state, its event log and
 * the card callback record, so no payment is left in a wrong state and no event is lost.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyCardCallback } from '@kassa/sdk';
import { softDeclineCompletedUrl } from '../src/psp/cardAuthorization.ts';
import { findPayment } from '../src/store/paymentsStore.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import {
  addPsp,
  type CallbackAnswer,
  callbackRecords,
  createPassthrough,
  DEMO_PSP,
  FakePsp,
  forceApprove,
  type PspUnit,
  pspCall,
  reserve,
} from './support/pspSupport.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

const TIMEOUT_MS = 1000;
let server: TestServer;
let psp: FakePsp;

before(async () => {
  [server, psp] = await Promise.all([startTestServer({ KASSA_CARD_CALLBACK_TIMEOUT_MS: String(TIMEOUT_MS) }), FakePsp.start()]);
});
after(async () => {
  await psp?.close();
  await server?.close();
});

async function paymentOf(reference: string, unit: PspUnit = DEMO_PSP) {
  const path = `/epayment/v1/payments/${reference}`;
  const reply = await pspCall(server, unit, 'GET', path);
  assert.equal(reply.status, 200, reply.text);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body;
}

async function eventsOf(reference: string, unit: PspUnit = DEMO_PSP): Promise<[string, boolean][]> {
  const path = `/epayment/v1/payments/${reference}/events`;
  const reply = await pspCall(server, unit, 'GET', path);
  assert.equal(reply.status, 200, reply.text);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body.map((e: { name: string; success: boolean }) => [e.name, e.success]);
}

/** Force approve expected to fail with 10010; returns the Problem's detail. */
async function approveFails(reference: string, code = 10010): Promise<string> {
  const reply = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(reply.status, 400, reply.text);
  assertMatchesOpenApi('POST', `/epayment/v1/test/payments/${reference}/approve`, 400, reply.body);
  assert.deepEqual(reply.body.extraDetails, [{ name: 'ErrorCode', reason: String(code) }]);
  return reply.body.detail;
}

function answerWith(...answers: CallbackAnswer[]): void {
  psp.answer(...answers.map((a) => () => a));
}

test('RESERVE: a signed callback with the card as a network token authorizes the payment', async () => {
  answerWith(reserve());
  const before = psp.callbacks.length;
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const approved = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(approved.status, 200, approved.text);

  const callback = psp.callbacks[before];
  assert.ok(callback, 'the PSP got a callback');
  assert.equal(callback.verified, true, 'signed with the PSP client secret like a webhook (§4.4)');
  assert.match(String(callback.headers.authorization), /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/);
  const body = callback.body;
  assert.equal(body.pspReference, `psp-order-${reference}`.slice(0, 100));
  assert.match(body.authorizationAttemptId, /^[0-9a-f-]{36}$/);
  assert.equal(body.merchantSerialNumber, DEMO_PSP.msn);
  assert.deepEqual(body.amount, { currency: 'NOK', value: 25000 });
  assert.equal(body.softDeclineCompletedRedirectUrl, softDeclineCompletedUrl(server.ctx.config.publicUrl, body.authorizationAttemptId));
  const { networkToken, ...cardInfo } = body.cardInfo;
  // Ola's first card: Visa debit 4796 9485 …1234, issued in Norway (spec example `47969485XXXX1234`).
  assert.deepEqual(cardInfo, {
    maskedCardNumber: '47969485XXXX1234',
    cardType: 'VISA-DEBIT',
    cardIssuedInCountryCode: 'NO',
    cardDataType: 'TOKEN',
  });
  assert.match(networkToken.number, /^489537\d{10}$/);
  assert.deepEqual(
    [networkToken.expiryMonth, networkToken.expiryYear, networkToken.eci, networkToken.tokenType],
    ['12', '2029', '07', 'VISA'],
  );
  assert.ok(Buffer.from(networkToken.cryptogram, 'base64').length >= 16);

  const payment = await paymentOf(reference);
  assert.equal(payment.state, 'AUTHORIZED');
  assert.deepEqual(payment.paymentMethod, { type: 'CARD_PASSTHROUGH', cardBin: '479694' });
  assert.equal(payment.aggregate.authorizedAmount.value, 25000);
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', true],
  ]);

  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.ok(record);
  assert.equal(record.outcome, 'RESERVE');
  assert.equal(record.result, 'authorized');
  assert.equal(record.httpStatus, 200);
  assert.equal(record.sequence, 1);
  assert.equal(record.pspId, DEMO_PSP.pspId);
  assert.equal(record.attemptId, body.authorizationAttemptId);
  assert.ok(record.durationMs !== null && record.durationMs >= 0);
  // The record never holds card data: no token, no cryptogram.
  assert.equal((record.request.cardInfo as Record<string, unknown>).networkToken, undefined);
  assert.doesNotMatch(JSON.stringify(record), new RegExp(networkToken.cryptogram.replace(/[+/=]/g, '.')));
  assert.doesNotMatch(JSON.stringify(record), new RegExp(networkToken.number));
  // Nor the payment's processing mark: a merchant could cancel it again at once.
  assert.equal((await findPayment(server.ctx.db, DEMO_PSP.msn, reference))?.processingUntil, null);
});

test('FAIL marked retryable: the payment stays CREATED and a second attempt with a new attempt id may reserve', async () => {
  answerWith({ status: 200, json: { status: 'FAIL', errorCode: 300, errorMessage: 'Refused by Issuer', retryable: true } }, reserve());
  const before = psp.callbacks.length;
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const detail = await approveFails(reference);
  assert.match(detail, /Refused by Issuer \(300\)/);
  assert.match(detail, /stays CREATED/);
  assert.equal((await paymentOf(reference)).state, 'CREATED');
  // Open question 12: a PSP callback failure is its AUTHORIZED event with success false.
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
  ]);

  const approved = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(approved.status, 200, approved.text);
  const [first, second] = psp.callbacks.slice(before);
  assert.notEqual(first?.body.authorizationAttemptId, second?.body.authorizationAttemptId, 'a retry is a new attempt');
  const payment = await paymentOf(reference);
  assert.equal(payment.state, 'AUTHORIZED');
  assert.equal(payment.aggregate.authorizedAmount.value, 25000, 'the failed attempt authorized nothing');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['AUTHORIZED', true],
  ]);
  assert.deepEqual(
    (await callbackRecords(server, DEMO_PSP, reference)).map((r) => [r.outcome, r.retryable, r.result]),
    [
      ['FAIL', true, 'retry'],
      ['RESERVE', null, 'authorized'],
    ],
  );
});

test('FAIL not marked retryable: the payment is ABORTED (open question 22)', async () => {
  answerWith({ status: 200, json: { status: 'FAIL', errorCode: 83, errorMessage: 'Suspected fraud' } });
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  assert.match(await approveFails(reference), /Suspected fraud.*ABORTED/);
  assert.equal((await paymentOf(reference)).state, 'ABORTED');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['ABORTED', true],
  ]);
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.deepEqual([record?.outcome, record?.retryable, record?.result], ['FAIL', false, 'aborted']);
  // A final payment gets no further callbacks.
  const before = psp.callbacks.length;
  assert.match(await approveFails(reference), /ABORTED/);
  assert.equal(psp.callbacks.length, before);
});

test('a FAIL whose message holds a NUL is recorded with U+FFFD in its place', async () => {
  answerWith({ status: 200, json: { status: 'FAIL', errorMessage: 'Suspected\u0000fraud' } });
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  assert.match(await approveFails(reference), /Suspected\uFFFDfraud.*ABORTED/);
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['ABORTED', true],
  ]);
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.deepEqual([record?.outcome, record?.result], ['FAIL', 'aborted']);
  assert.equal(record?.responseBody, JSON.stringify({ status: 'FAIL', errorMessage: 'Suspected\u0000fraud' }));
});

for (const [what, answer, outcome] of [
  ['HTTP 500', { status: 500, text: 'internal error' }, 'http_error'],
  ['HTTP 503 with a RESERVE body', { status: 503, json: { status: 'RESERVE' } }, 'http_error'],
  ['a redirect', { status: 302, text: '' }, 'http_error'],
  ['garbage (not JSON)', { status: 200, text: '<html>oops</html>' }, 'invalid_response'],
  ['garbage (an unknown status)', { status: 200, json: { status: 'APPROVED' } }, 'invalid_response'],
  ['garbage (SOFT_DECLINE without softDeclineUrl)', { status: 200, json: { status: 'SOFT_DECLINE' } }, 'invalid_response'],
  ['garbage (a JSON array)', { status: 200, json: [{ status: 'RESERVE' }] }, 'invalid_response'],
  ['garbage holding a NUL byte', { status: 200, text: 'a\u0000b' }, 'invalid_response'],
] as const) {
  test(`${what} is non-retryable: the payment is ABORTED with the failed authorization recorded`, async () => {
    answerWith(answer);
    const reference = await createPassthrough(server, DEMO_PSP, psp.url);
    assert.match(await approveFails(reference), /Check the status of your order with the store/);
    assert.equal((await paymentOf(reference)).state, 'ABORTED');
    assert.deepEqual(await eventsOf(reference), [
      ['CREATED', true],
      ['AUTHORIZED', false],
      ['ABORTED', true],
    ]);
    const [record] = await callbackRecords(server, DEMO_PSP, reference);
    assert.equal(record?.outcome, outcome);
    assert.equal(record?.result, 'aborted');
    assert.equal(record?.httpStatus, answer.status);
  });
}

test('a PSP that does not answer within the deadline: non-retryable, ABORTED; meanwhile the payment is processing', async () => {
  answerWith({ hang: true });
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const before = psp.callbacks.length;
  const approving = forceApprove(server, DEMO_PSP, reference);
  await psp.waitForCallbacks(before + 1);
  // While the card callback is in flight the user is authorizing: cancel answers 6250 (§9.2), a second
  // approval waits for the first, and nothing can be captured.
  const cancel = await pspCall(server, DEMO_PSP, 'POST', `/epayment/v1/payments/${reference}/cancel`);
  assert.equal(cancel.status, 409, cancel.text);
  assert.deepEqual(cancel.body.extraDetails, [{ name: 'ErrorCode', reason: '6250' }]);
  const second = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(second.status, 400);
  assert.match(second.body.detail, /still answering an earlier attempt/);
  assert.equal((await paymentOf(reference)).state, 'CREATED');

  const reply = await approving;
  assert.equal(reply.status, 400, reply.text);
  assert.match(reply.body.detail, /Check the status of your order with the store/);
  assert.equal((await paymentOf(reference)).state, 'ABORTED');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['ABORTED', true],
  ]);
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.equal(record?.outcome, 'timeout');
  assert.equal(record?.result, 'aborted');
  assert.ok((record?.durationMs ?? 0) >= TIMEOUT_MS - 50, `waited the deadline (${record?.durationMs} ms)`);
  assert.equal(psp.callbacks.length, before + 1, 'the second approval made no callback');
});

test('a PSP that is not listening: connection refused is non-retryable', async () => {
  const gone = await FakePsp.start();
  const url = gone.url;
  await gone.close();
  const reference = await createPassthrough(server, DEMO_PSP, url);
  assert.match(await approveFails(reference), /Check the status of your order with the store/);
  assert.equal((await paymentOf(reference)).state, 'ABORTED');
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.deepEqual([record?.outcome, record?.result, record?.httpStatus], ['connect_error', 'aborted', null]);
});

test('a PSP that rejects the signature (it checks with another secret) answers 401: non-retryable, ABORTED', async () => {
  const strict = await FakePsp.start('not-the-secret-kassa-has');
  try {
    strict.answer((callback) => (callback.verified ? reserve() : { status: 401, json: { error: 'bad signature' } }));
    const reference = await createPassthrough(server, DEMO_PSP, strict.url);
    await approveFails(reference);
    assert.equal(strict.callbacks[0]?.verified, false);
    assert.equal((await paymentOf(reference)).state, 'ABORTED');
    const [record] = await callbackRecords(server, DEMO_PSP, reference);
    assert.deepEqual([record?.outcome, record?.httpStatus, record?.result], ['http_error', 401, 'aborted']);
  } finally {
    await strict.close();
  }
});

test('no signature at all is never sent: PSP keys without a signing secret get 10010 and no callback', async () => {
  // A PSP key set inserted without the sealed secret (as tests of other parts do) cannot sign.
  const { addUnit } = await import('./support/createPaymentSupport.ts');
  const bare = (await addUnit(server, 'NO', {}, 'psp')) as PspUnit;
  const before = psp.callbacks.length;
  const reference = await createPassthrough(server, bare, psp.url);
  const reply = await forceApprove(server, bare, reference);
  assert.equal(reply.status, 400, reply.text);
  assert.match(reply.body.detail, /cannot be signed/);
  assert.equal(psp.callbacks.length, before);
  assert.equal((await paymentOf(reference, bare)).state, 'CREATED');
  assert.deepEqual(await eventsOf(reference, bare), [['CREATED', true]]);
});

test('SOFT_DECLINE: 3-D Secure at the PSP, then a second callback with the same attempt id answers RESERVE', async () => {
  answerWith({ status: 200, json: { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds/challenge-1' } }, reserve());
  const before = psp.callbacks.length;
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const detail = await approveFails(reference);
  assert.match(detail, /SOFT_DECLINE: complete 3-D Secure at https:\/\/psp\.example\/3ds\/challenge-1/);
  assert.equal((await paymentOf(reference)).state, 'CREATED');
  assert.deepEqual(await eventsOf(reference), [['CREATED', true]]);
  // The user is at the PSP's 3-D Secure page: still authorizing, so no cancel.
  const cancel = await pspCall(server, DEMO_PSP, 'POST', `/epayment/v1/payments/${reference}/cancel`);
  assert.equal(cancel.status, 409);

  const first = psp.callbacks[before];
  const completed = await fetch(first?.body.softDeclineCompletedRedirectUrl, { redirect: 'manual' });
  assert.equal(completed.status, 200);
  assert.match(await completed.text(), /verified and the payment is approved/);
  const second = psp.callbacks[before + 1];
  assert.ok(second, 'a second callback');
  assert.equal(second.verified, true);
  assert.equal(second.body.authorizationAttemptId, first?.body.authorizationAttemptId, 'the same attempt');
  assert.notEqual(second.body.cardInfo.networkToken.cryptogram, first?.body.cardInfo.networkToken.cryptogram, 'a fresh cryptogram');
  assert.equal((await paymentOf(reference)).state, 'AUTHORIZED');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', true],
  ]);
  assert.deepEqual(
    (await callbackRecords(server, DEMO_PSP, reference)).map((r) => [r.sequence, r.outcome, r.result]),
    [
      [1, 'SOFT_DECLINE', 'soft-decline'],
      [2, 'RESERVE', 'authorized'],
    ],
  );
  // Coming back again makes no third callback.
  const again = await fetch(first?.body.softDeclineCompletedRedirectUrl, { redirect: 'manual' });
  assert.equal(again.status, 200);
  assert.equal(psp.callbacks.length, before + 2);
});

test('after 3-D Secure only RESERVE or FAIL are valid: a second SOFT_DECLINE aborts; a retryable FAIL allows another card', async () => {
  const softDecline = { status: 200, json: { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds/x' } };
  answerWith(softDecline, softDecline);
  const aborting = await createPassthrough(server, DEMO_PSP, psp.url);
  let before = psp.callbacks.length;
  await approveFails(aborting);
  await fetch(psp.callbacks[before]?.body.softDeclineCompletedRedirectUrl);
  assert.equal((await paymentOf(aborting)).state, 'ABORTED');
  const records = await callbackRecords(server, DEMO_PSP, aborting);
  assert.deepEqual(
    records.map((r) => [r.sequence, r.outcome, r.result]),
    [
      [1, 'SOFT_DECLINE', 'soft-decline'],
      [2, 'invalid_response', 'aborted'],
    ],
  );
  assert.match(records[1]?.error ?? '', /must be answered RESERVE or FAIL/);

  answerWith(softDecline, { status: 200, json: { status: 'FAIL', errorMessage: '3-D Secure failed', retryable: true } }, reserve());
  const retrying = await createPassthrough(server, DEMO_PSP, psp.url);
  before = psp.callbacks.length;
  await approveFails(retrying);
  await fetch(psp.callbacks[before]?.body.softDeclineCompletedRedirectUrl);
  assert.equal((await paymentOf(retrying)).state, 'CREATED');
  assert.equal((await forceApprove(server, DEMO_PSP, retrying)).status, 200);
  assert.deepEqual(await eventsOf(retrying), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['AUTHORIZED', true],
  ]);
});

test('a new approval abandons an unfinished 3-D Secure step; its completion link then does nothing', async () => {
  answerWith({ status: 200, json: { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds/y' } }, reserve());
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const before = psp.callbacks.length;
  await approveFails(reference);
  assert.equal((await forceApprove(server, DEMO_PSP, reference)).status, 200, 'the new attempt reserved');
  const stale = await fetch(psp.callbacks[before]?.body.softDeclineCompletedRedirectUrl);
  assert.match(await stale.text(), /no longer valid/);
  assert.equal(psp.callbacks.length, before + 2);
  assert.equal((await paymentOf(reference)).state, 'AUTHORIZED');
  const unknown = await fetch(`${server.url}/app/soft-decline/00000000-0000-4000-8000-000000000000/completed`);
  assert.equal(unknown.status, 404);
});

test('the payment expires while the callback is in flight: the late RESERVE changes nothing', async () => {
  let release: (answer: { status: number; json: unknown }) => void = () => {};
  answerWith({ later: new Promise((resolve) => (release = resolve)) });
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const before = psp.callbacks.length;
  const approving = forceApprove(server, DEMO_PSP, reference);
  await psp.waitForCallbacks(before + 1);
  server.clock.advance(10 * 60 * 1000);
  await server.sweep();
  assert.equal((await paymentOf(reference)).state, 'EXPIRED');
  release(reserve());
  const reply = await approving;
  assert.equal(reply.status, 400);
  assert.match(reply.body.detail, /EXPIRED/);
  assert.equal((await paymentOf(reference)).state, 'EXPIRED');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['EXPIRED', true],
  ]);
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.deepEqual([record?.outcome, record?.result], ['RESERVE', 'too-late']);
});

test('an attempt whose server stopped mid-callback counts as a timeout at the next approval', async () => {
  answerWith(reserve());
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  let release: (answer: { status: number; json: unknown }) => void = () => {};
  answerWith({ later: new Promise((resolve) => (release = resolve)) });
  const before = psp.callbacks.length;
  const approving = forceApprove(server, DEMO_PSP, reference);
  await psp.waitForCallbacks(before + 1);
  // Pretend that process died: its processing mark lapses while the answer never gets recorded.
  server.clock.advance(TIMEOUT_MS + 60_000);
  const next = await forceApprove(server, DEMO_PSP, reference);
  assert.equal(next.status, 400, next.text);
  assert.match(next.body.detail, /Check the status of your order with the store/);
  assert.equal((await paymentOf(reference)).state, 'ABORTED');
  release(reserve());
  assert.equal((await approving).status, 400, 'the late answer of the "dead" attempt is too late');
  assert.deepEqual(await eventsOf(reference), [
    ['CREATED', true],
    ['AUTHORIZED', false],
    ['ABORTED', true],
  ]);
  // The record shows what finally came: a RESERVE, too late to count.
  const [record] = await callbackRecords(server, DEMO_PSP, reference);
  assert.deepEqual([record?.outcome, record?.result], ['RESERVE', 'too-late']);
  assert.equal(psp.callbacks.length, before + 1);
});

test("callbacks of payments of another PSP are signed with that PSP's secret", async () => {
  const other = await addPsp(server, [DEMO_PSP.msn], DEMO_PSP);
  const otherPsp = await FakePsp.start(other.clientSecret);
  try {
    const reference = await createPassthrough(server, other, otherPsp.url);
    assert.equal((await forceApprove(server, other, reference)).status, 200);
    assert.equal(otherPsp.callbacks[0]?.verified, true);
    const [record] = await callbackRecords(server, other, reference);
    assert.equal(record?.pspId, other.pspId);
  } finally {
    await otherPsp.close();
  }
});

test("the SDK's verifyCardCallback accepts what Kassa sends and refuses a wrong secret or a changed body", async () => {
  answerWith(reserve());
  const reference = await createPassthrough(server, DEMO_PSP, psp.url);
  const before = psp.callbacks.length;
  assert.equal((await forceApprove(server, DEMO_PSP, reference)).status, 200);
  const { headers, rawBody } = psp.callbacks[before] as { headers: Record<string, string | string[] | undefined>; rawBody: string };
  const verified = verifyCardCallback('POST', psp.url, headers, rawBody, DEMO_PSP.clientSecret);
  assert.ok(verified.ok, JSON.stringify(verified));
  assert.equal(verified.request.cardInfo.maskedCardNumber, '47969485XXXX1234');
  const wrongSecret = verifyCardCallback('POST', psp.url, headers, rawBody, 'another-secret');
  assert.deepEqual(wrongSecret.ok ? null : wrongSecret.reason, 'signature_mismatch');
  const changed = verifyCardCallback('POST', psp.url, headers, rawBody.replace('25000', '2500'), DEMO_PSP.clientSecret);
  assert.deepEqual(changed.ok ? null : changed.reason, 'content_hash_mismatch');
  const otherUrl = verifyCardCallback('POST', `${psp.url}?x=1`, headers, rawBody, DEMO_PSP.clientSecret);
  assert.deepEqual(otherUrl.ok ? null : otherUrl.reason, 'signature_mismatch');
});
