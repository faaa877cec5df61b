import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { computeSignature, contentSha256, signingTarget, signRequest, stringToSign, verifySignature } from '../src/webhooks/signWebhook.ts';

// Published test vector, platform-guidelines §4.4.
const published = {
  secret: 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==',
  url: 'https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
  xMsDate: 'Thu, 30 Mar 2023 08:38:32 GMT',
  body: '{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}',
  host: 'webhook.site',
  pathAndQuery: '/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
  contentHash: 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
  stringToSign:
    'POST\n/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63\nThu, 30 Mar 2023 08:38:32 GMT;webhook.site;lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
  signature: 'agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
  authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
  decodedSecretSignature: 'T3+NXHMmhNVEjW5PeJ4Gql70nf0MOXCAY9CoZDxuVQw=',
};

// Derived vectors A (non-default port + query) and B, platform-guidelines §4.4.
const derived = {
  secret: '090a478d-37ff-4e77-970e-d457aeb26a3a',
  xMsDate: 'Mon, 19 Jan 2026 16:26:32 GMT',
  body: '{"msn":"123456","reference":"acme-shop-123-order123abc","pspReference":"1234567891","name":"AUTHORIZED","amount":{"currency":"NOK","value":49900},"timestamp":"2026-01-19T16:26:32.099Z","idempotencyKey":"49ca711a-acee-4d01-993b-9487112e1def","success":true}',
  contentHash: 'Ztc6i070ktfu4Z4aFQWu+DfgDu5U7Uvd/EhOGCt+YJI=',
};
const vectorA = {
  url: 'https://example.com:8443/hooks/vipps?tenant=acme',
  host: 'example.com:8443',
  pathAndQuery: '/hooks/vipps?tenant=acme',
  signature: 'vncVBgP5xf2EKhGL3xmgcjJmbcqD4ZT7qtz/8J/mEM0=',
};
const vectorB = {
  url: 'https://example.com/hooks/vipps',
  host: 'example.com',
  pathAndQuery: '/hooks/vipps',
  signature: 'xwuV7+S8SCqItSBdRn7f0XrBGkXDap19WYZPxYEWyGY=',
};
const prefix = 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=';

test('published vector: every intermediate value', () => {
  assert.equal(Buffer.byteLength(published.body), 74);
  assert.deepEqual(signingTarget(published.url), { host: published.host, pathAndQuery: published.pathAndQuery });
  assert.equal(contentSha256(published.body), published.contentHash);
  const toSign = stringToSign({
    method: 'POST',
    pathAndQuery: published.pathAndQuery,
    xMsDate: published.xMsDate,
    host: published.host,
    contentHash: published.contentHash,
  });
  assert.equal(toSign, published.stringToSign);
  assert.ok(!toSign.includes('\r'));
  assert.equal(computeSignature(toSign, published.secret), published.signature);
});

test('published vector: signRequest produces the published headers', () => {
  const headers = signRequest({
    method: 'POST',
    url: published.url,
    body: published.body,
    secret: published.secret,
    date: new Date(published.xMsDate),
  });
  assert.deepEqual(headers, {
    'x-ms-date': published.xMsDate,
    'x-ms-content-sha256': published.contentHash,
    Authorization: published.authorization,
    host: published.host,
  });
});

test('published vector: a Uint8Array body signs the same bytes', () => {
  const headers = signRequest({
    url: published.url,
    body: new TextEncoder().encode(published.body),
    secret: published.secret,
    date: new Date(published.xMsDate),
  });
  assert.equal(headers.Authorization, published.authorization);
});

test('published vector: negative check — the base64-decoded secret is the wrong key', () => {
  const wrong = createHmac('sha256', Buffer.from(published.secret, 'base64')).update(published.stringToSign, 'utf8').digest('base64');
  assert.equal(wrong, published.decodedSecretSignature);
  assert.notEqual(computeSignature(published.stringToSign, published.secret), wrong);
});

test('published vector: verifies', () => {
  const result = verifySignature({
    url: published.url,
    headers: {
      'x-ms-date': published.xMsDate,
      'x-ms-content-sha256': published.contentHash,
      authorization: published.authorization,
    },
    rawBody: published.body,
    secret: published.secret,
    now: new Date(published.xMsDate),
  });
  assert.deepEqual(result, { ok: true, skewMs: 0 });
});

for (const [name, vector] of [
  ['A (non-default port, query)', vectorA],
  ['B (default port)', vectorB],
] as const) {
  test(`derived vector ${name}`, () => {
    assert.equal(Buffer.byteLength(derived.body), 256);
    assert.deepEqual(signingTarget(vector.url), { host: vector.host, pathAndQuery: vector.pathAndQuery });
    const headers = signRequest({
      method: 'POST',
      url: vector.url,
      body: derived.body,
      secret: derived.secret,
      date: new Date(derived.xMsDate),
    });
    assert.deepEqual(headers, {
      'x-ms-date': derived.xMsDate,
      'x-ms-content-sha256': derived.contentHash,
      Authorization: prefix + vector.signature,
      host: vector.host,
    });
  });
}

test('host: explicit default port is dropped, non-default port is kept (§22 q8)', () => {
  assert.equal(signingTarget('https://example.com:443/hooks/vipps').host, 'example.com');
  assert.equal(signingTarget('http://example.com:80/hooks/vipps').host, 'example.com');
  assert.equal(signingTarget('http://example.com:8080/hooks/vipps').host, 'example.com:8080');
  assert.equal(signingTarget('https://example.com/hooks/vipps?tenant=acme#frag').pathAndQuery, '/hooks/vipps?tenant=acme');
  const headers = signRequest({
    url: 'https://example.com:443/hooks/vipps',
    body: derived.body,
    secret: derived.secret,
    date: new Date(derived.xMsDate),
  });
  assert.equal(headers.Authorization, prefix + vectorB.signature);
});

test('non-default port: verifying against the URL without the port fails', () => {
  const headers = signRequest({ url: vectorA.url, body: derived.body, secret: derived.secret, date: new Date() });
  const base = { headers, rawBody: derived.body, secret: derived.secret };
  assert.equal(verifySignature({ ...base, url: vectorA.url }).ok, true);
  assert.deepEqual(verifySignature({ ...base, url: 'https://example.com/hooks/vipps?tenant=acme' }), {
    ok: false,
    reason: 'signature_mismatch',
  });
});

function signed(date = new Date()) {
  const url = 'https://merchant.example/webhooks/vipps?x=1';
  const body = derived.body;
  return { url, body, headers: signRequest({ url, body, secret: derived.secret, date }) };
}

test('round trip: sign → verify (url, explicit host/path, Headers instance, byte body)', () => {
  const { url, body, headers } = signed();
  assert.equal(verifySignature({ url, headers, rawBody: body, secret: derived.secret }).ok, true);
  assert.equal(
    verifySignature({
      host: 'merchant.example',
      pathAndQuery: '/webhooks/vipps?x=1',
      headers,
      rawBody: body,
      secret: derived.secret,
    }).ok,
    true,
  );
  const fetchHeaders = new Headers({
    'X-MS-Date': headers['x-ms-date'],
    'X-MS-Content-SHA256': headers['x-ms-content-sha256'],
    Authorization: headers.Authorization,
  });
  assert.equal(verifySignature({ url, headers: fetchHeaders, rawBody: Buffer.from(body), secret: derived.secret }).ok, true);
});

test('tampered body is rejected on the content hash', () => {
  const { url, body, headers } = signed();
  const result = verifySignature({ url, headers, rawBody: body.replace('49900', '49901'), secret: derived.secret });
  assert.deepEqual(result, { ok: false, reason: 'content_hash_mismatch' });
});

test('re-serialised JSON (same data, different bytes) is rejected', () => {
  const { url, body, headers } = signed();
  const reserialised = JSON.stringify(JSON.parse(body), null, 2);
  assert.equal(verifySignature({ url, headers, rawBody: reserialised, secret: derived.secret }).ok, false);
});

test('body and hash header replaced together still fail on the signature', () => {
  const { url, headers } = signed();
  const forged = '{"forged":true}';
  const result = verifySignature({
    url,
    headers: { ...headers, 'x-ms-content-sha256': contentSha256(forged) },
    rawBody: forged,
    secret: derived.secret,
  });
  assert.deepEqual(result, { ok: false, reason: 'signature_mismatch' });
});

test('tampered signature is rejected', () => {
  const { url, body, headers } = signed();
  const sig = headers.Authorization.slice(prefix.length);
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  for (const authorization of [prefix + flipped, prefix + sig.slice(1), prefix + sig + 'x', sig, '']) {
    const result = verifySignature({
      url,
      headers: { ...headers, Authorization: authorization },
      rawBody: body,
      secret: derived.secret,
    });
    assert.equal(result.ok, false, authorization);
  }
});

test('tampered date is rejected (the date is signed)', () => {
  const { url, body, headers } = signed(new Date('2026-01-19T16:26:32Z'));
  const result = verifySignature({
    url,
    headers: { ...headers, 'x-ms-date': 'Mon, 19 Jan 2026 16:26:33 GMT' },
    rawBody: body,
    secret: derived.secret,
  });
  assert.deepEqual(result, { ok: false, reason: 'signature_mismatch' });
});

test('wrong secret is rejected', () => {
  const { url, body, headers } = signed();
  const result = verifySignature({ url, headers, rawBody: body, secret: '090a478d-37ff-4e77-970e-d457aeb26a3b' });
  assert.deepEqual(result, { ok: false, reason: 'signature_mismatch' });
});

test('missing headers are named', () => {
  const { url, body, headers } = signed();
  for (const name of ['x-ms-date', 'x-ms-content-sha256', 'Authorization'] as const) {
    const partial: Record<string, string> = { ...headers };
    delete partial[name];
    const result = verifySignature({ url, headers: partial, rawBody: body, secret: derived.secret });
    assert.deepEqual(result, { ok: false, reason: 'missing_header', header: name.toLowerCase() });
  }
});

test('date skew is reported, not rejected, by default (§22 q7)', () => {
  const date = new Date('2026-01-19T16:26:32Z');
  const { url, body, headers } = signed(date);
  const now = new Date(date.getTime() + 60 * 60_000);
  assert.deepEqual(verifySignature({ url, headers, rawBody: body, secret: derived.secret, now }), {
    ok: true,
    skewMs: 3_600_000,
  });
});

test('date skew is rejected when maxSkewMs is given', () => {
  const date = new Date('2026-01-19T16:26:32Z');
  const { url, body, headers } = signed(date);
  const base = { url, headers, rawBody: body, secret: derived.secret, maxSkewMs: 15 * 60_000 };
  assert.deepEqual(verifySignature({ ...base, now: new Date(date.getTime() + 10 * 60_000) }), {
    ok: true,
    skewMs: 600_000,
  });
  assert.deepEqual(verifySignature({ ...base, now: new Date(date.getTime() - 16 * 60_000) }), {
    ok: false,
    reason: 'date_skew',
    skewMs: -960_000,
  });
});
