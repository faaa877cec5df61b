/**
 * verifyWebhook against the published test vector and the derived ones of platform-guidelines §4.4, the
 * ways a delivery can be wrong, clock-skew handling (open question 7) and the typed payloads.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { eventKey, parseWebhookEvent, RECOMMENDED_MAX_SKEW_MS, verifyWebhook } from '../src/index.ts';

const published = {
  secret: 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==',
  url: 'https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
  date: 'Thu, 30 Mar 2023 08:38:32 GMT',
  body: '{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}',
  hash: 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
  signature: 'agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
};
const derivedBody =
  '{"msn":"123456","reference":"acme-shop-123-order123abc","pspReference":"1234567891","name":"AUTHORIZED","amount":{"currency":"NOK","value":49900},"timestamp":"2026-01-19T16:26:32.099Z","idempotencyKey":"49ca711a-acee-4d01-993b-9487112e1def","success":true}';
const derived = {
  secret: '090a478d-37ff-4e77-970e-d457aeb26a3a',
  date: 'Mon, 19 Jan 2026 16:26:32 GMT',
  hash: 'Ztc6i070ktfu4Z4aFQWu+DfgDu5U7Uvd/EhOGCt+YJI=',
  a: { url: 'https://example.com:8443/hooks/vipps?tenant=acme', signature: 'vncVBgP5xf2EKhGL3xmgcjJmbcqD4ZT7qtz/8J/mEM0=' },
  b: { url: 'https://example.com/hooks/vipps', signature: 'xwuV7+S8SCqItSBdRn7f0XrBGkXDap19WYZPxYEWyGY=' },
};
const authorization = (signature: string) => `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
const headersOf = (date: string, hash: string, signature: string) => ({
  'x-ms-date': date,
  'x-ms-content-sha256': hash,
  authorization: authorization(signature),
});

test('the published test vector verifies (secret used as UTF-8, not base64-decoded)', () => {
  const result = verifyWebhook(
    'POST',
    published.url,
    headersOf(published.date, published.hash, published.signature),
    published.body,
    published.secret,
  );
  assert.equal(result.ok, true);
  assert.ok(result.ok && result.event.kind === 'unknown', 'not an ePayment or QR payload: handed back as unknown');
  // The same headers arrive in a fetch-style Headers object in some frameworks, with a Buffer body.
  const headers = new Headers({
    'X-MS-Date': published.date,
    'X-MS-Content-SHA256': published.hash,
    Authorization: authorization(published.signature),
  });
  assert.equal(verifyWebhook('post', published.url, headers, Buffer.from(published.body), published.secret).ok, true);
});

test('a signature keyed with the base64-decoded secret is rejected (the published negative check)', () => {
  const wrong = 'T3+NXHMmhNVEjW5PeJ4Gql70nf0MOXCAY9CoZDxuVQw=';
  const decodedKeySignature = createHmac('sha256', Buffer.from(published.secret, 'base64'))
    .update(`POST\n/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63\n${published.date};webhook.site;${published.hash}`)
    .digest('base64');
  assert.equal(decodedKeySignature, wrong);
  const result = verifyWebhook('POST', published.url, headersOf(published.date, published.hash, wrong), published.body, published.secret);
  assert.deepEqual(result.ok ? 'ok' : result.reason, 'signature_mismatch');
});

test('derived vectors: a non-default port and a query string are signed; default ports are not (open question 8)', () => {
  for (const vector of [derived.a, derived.b]) {
    const result = verifyWebhook('POST', vector.url, headersOf(derived.date, derived.hash, vector.signature), derivedBody, derived.secret);
    assert.equal(result.ok, true, vector.url);
  }
  // https://example.com:443/... is the same registered URL as https://example.com/...
  const explicitPort = verifyWebhook(
    'POST',
    'https://example.com:443/hooks/vipps',
    headersOf(derived.date, derived.hash, derived.b.signature),
    derivedBody,
    derived.secret,
  );
  assert.equal(explicitPort.ok, true);
  // Vector A's signature does not fit vector B's URL: host and path are part of what is signed.
  const swapped = verifyWebhook(
    'POST',
    derived.b.url,
    headersOf(derived.date, derived.hash, derived.a.signature),
    derivedBody,
    derived.secret,
  );
  assert.equal(swapped.ok ? 'ok' : swapped.reason, 'signature_mismatch');
});

test('the derived vector parses as a typed ePayment AUTHORIZED event', () => {
  const result = verifyWebhook(
    'POST',
    derived.b.url,
    headersOf(derived.date, derived.hash, derived.b.signature),
    derivedBody,
    derived.secret,
  );
  assert.ok(result.ok);
  assert.equal(result.event.kind, 'epayment');
  if (result.event.kind !== 'epayment') return;
  assert.equal(result.event.eventType, 'epayments.payment.authorized.v1');
  const event = result.event.data;
  assert.equal(event.name, 'AUTHORIZED');
  assert.equal(event.amount.value, 49900);
  assert.equal(event.success, true);
  assert.equal(eventKey(event), '123456|acme-shop-123-order123abc|AUTHORIZED|1234567891');
});

test('a changed body, a re-serialised body, a wrong secret and missing or repeated headers are refused with a reason', () => {
  const good = headersOf(derived.date, derived.hash, derived.b.signature);
  const check = (headers: Record<string, string | string[]>, body: string, secret = derived.secret) => {
    const result = verifyWebhook('POST', derived.b.url, headers, body, secret);
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(check(good, derivedBody.replace('49900', '49901')), 'content_hash_mismatch');
  assert.equal(
    check(good, JSON.stringify(JSON.parse(derivedBody), null, 2)),
    'content_hash_mismatch',
    'hash the raw bytes, never re-serialised JSON',
  );
  assert.equal(check(good, derivedBody, 'another-secret'), 'signature_mismatch');
  const { authorization: _a, ...noAuthorization } = good;
  assert.equal(check(noAuthorization, derivedBody), 'missing_header');
  const { 'x-ms-date': _d, ...noDate } = good;
  assert.equal(check(noDate, derivedBody), 'missing_header');
  assert.equal(
    check({ ...good, 'x-ms-date': [derived.date, derived.date] }, derivedBody),
    'missing_header',
    'a repeated header is not guessed at',
  );
  assert.equal(check({ ...good, authorization: `Bearer ${derived.b.signature}` }, derivedBody), 'malformed_authorization');
  // A body that is signed correctly but is not a valid event is refused too (verified, but unusable).
  const bad =
    '{"msn":"123456","reference":"r-12345678","pspReference":"1","name":"PAID","amount":{"currency":"NOK","value":1},"timestamp":"t","success":true}';
  const badHash = createHash('sha256').update(bad).digest('base64');
  const badSignature = createHmac('sha256', derived.secret)
    .update(`POST\n/hooks/vipps\n${derived.date};example.com;${badHash}`)
    .digest('base64');
  assert.equal(check(headersOf(derived.date, badHash, badSignature), bad), 'invalid_payload');
});

test('clock skew: reported by default, rejected only beyond an explicit tolerance (open question 7)', () => {
  const headers = headersOf(derived.date, derived.hash, derived.b.signature);
  const sent = Date.parse(derived.date);
  const late = verifyWebhook('POST', derived.b.url, headers, derivedBody, derived.secret, { now: () => sent + 3 * 60 * 60 * 1000 });
  assert.ok(late.ok, 'three hours late (a retry that was not re-signed) is still accepted by default');
  assert.equal(late.skewMs, 3 * 60 * 60 * 1000);

  const within = verifyWebhook('POST', derived.b.url, headers, derivedBody, derived.secret, {
    maxSkewMs: RECOMMENDED_MAX_SKEW_MS,
    now: () => sent + 14 * 60 * 1000,
  });
  assert.ok(within.ok, '14 minutes is inside the 15-minute tolerance');
  const early = verifyWebhook('POST', derived.b.url, headers, derivedBody, derived.secret, {
    maxSkewMs: RECOMMENDED_MAX_SKEW_MS,
    now: () => sent - 14 * 60 * 1000,
  });
  assert.ok(early.ok, 'a receiver clock behind the sender is tolerated the same way');
  const beyond = verifyWebhook('POST', derived.b.url, headers, derivedBody, derived.secret, {
    maxSkewMs: RECOMMENDED_MAX_SKEW_MS,
    now: () => sent + 16 * 60 * 1000,
  });
  assert.equal(beyond.ok ? 'ok' : beyond.reason, 'date_skew');
  assert.equal(beyond.skewMs, 16 * 60 * 1000);
});

test('QR check-in payloads are typed; the pre-2024 merchantSerialNumber name is accepted (open question 20)', () => {
  const current = parseWebhookEvent(
    '{"customerToken":"dGVzdA==","merchantQrId":"till-7","msn":"123456","initiatedAt":"2023-10-06T10:45:40.3061965Z"}',
  );
  assert.ok(current.ok && current.event.kind === 'qr.checked-in');
  const older = parseWebhookEvent(
    '{"customerToken":"dGVzdA==","merchantQrId":"till-7","merchantSerialNumber":"123456","initiatedAt":"2023-10-06T10:45:40Z"}',
  );
  assert.ok(older.ok && older.event.kind === 'qr.checked-in');
  if (older.ok && older.event.kind === 'qr.checked-in') assert.equal(older.event.data.msn, '123456');
  const unknownFields = parseWebhookEvent(derivedBody.replace('"success":true', '"success":true,"somethingNew":{"a":1}'));
  assert.ok(unknownFields.ok && unknownFields.event.kind === 'epayment', 'unknown fields are ignored (§4.3)');
  assert.equal(parseWebhookEvent('not json').ok, false);
  assert.equal(parseWebhookEvent('[1,2]').ok, false);
});
