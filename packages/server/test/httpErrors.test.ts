/**
 * HTTP-level errors (spec §1, §2.1, §12.1, §13.2, §13.5): malformed JSON, wrong media type, oversized
 * body, unknown path, wrong method, invalid path reference, idempotency and system headers. Each is a
 * Problem (`application/problem+json`, `traceId`, `instance` without `/epayment`), never a 500.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { problemFor } from '../src/http/problem.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { assertFieldErrors, assertProblem } from './support/problems.ts';
import { NO, newReference, startTestServer, type TestServer } from './support/testServer.ts';

const BODY_LIMIT = 4096;
const CREATE = '/epayment/v1/payments';

let server: TestServer;
let authorized: string;
before(async () => {
  server = await startTestServer({ KASSA_BODY_LIMIT: String(BODY_LIMIT) });
  authorized = (await server.createPayment()).reference;
  assert.equal((await server.approve(authorized)).status, 200);
});
after(() => server.close());

const nok = (value: number) => ({ modificationAmount: { currency: 'NOK', value } });
const createBody = (fields: Record<string, unknown> = {}) => ({
  amount: { currency: 'NOK', value: 10000 },
  paymentMethod: { type: 'WALLET' },
  reference: newReference(),
  userFlow: 'WEB_REDIRECT',
  returnUrl: 'https://shop.example/return',
  ...fields,
});

test('malformed JSON is a 400 validation Problem on the body', async () => {
  for (const raw of ['{"amount":', '{bad}', "{'reference':'x'}", '[1,]', '{"__proto__":{"admin":true}}']) {
    const reply = await server.call('POST', CREATE, { raw, idempotencyKey: 'json-1' });
    assertFieldErrors(reply, 'POST', CREATE, ['body']);
  }
  const capture = await server.call('POST', `${CREATE}/${authorized}/capture`, { raw: '{"modificationAmount": {', idempotencyKey: 'j-2' });
  assertFieldErrors(capture, 'POST', `${CREATE}/${authorized}/capture`, ['body']);
});

test('a body that is not JSON gets 415', async () => {
  const cases = [
    { path: CREATE, contentType: 'text/plain', raw: JSON.stringify(createBody()) },
    { path: CREATE, contentType: 'application/x-www-form-urlencoded', raw: 'amount=100' },
    { path: `${CREATE}/${authorized}/capture`, contentType: 'application/xml', raw: '<capture/>' },
    { path: `${CREATE}/${authorized}/refund`, contentType: 'multipart/form-data; boundary=x', raw: '--x--' },
  ];
  for (const { path, contentType, raw } of cases) {
    const reply = await server.call('POST', path, { raw, idempotencyKey: 'media-1', headers: { 'Content-Type': contentType } });
    assertProblem(reply, 415, 'POST', path);
    assert.equal(reply.body.title, 'Unsupported Media Type');
  }
  // A media type that cannot even be parsed.
  const garbled = await server.call('POST', CREATE, { raw: '{}', idempotencyKey: 'media-2', headers: { 'Content-Type': '/;;' } });
  assertProblem(garbled, 415, 'POST', CREATE);
});

test('JSON media types with parameters or a +json suffix are JSON', async () => {
  for (const contentType of ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.kassa+json']) {
    const body = createBody();
    const reply = await server.call('POST', CREATE, {
      raw: JSON.stringify(body),
      idempotencyKey: body.reference,
      headers: { 'Content-Type': contentType },
    });
    assert.equal(reply.status, 201, `${contentType}: ${reply.text}`);
  }
});

test('a body over KASSA_BODY_LIMIT gets 413', async () => {
  const body = createBody({ paymentDescription: 'x'.repeat(BODY_LIMIT) });
  const reply = await server.call('POST', CREATE, { body, idempotencyKey: 'big-1' });
  assertProblem(reply, 413, 'POST', CREATE);
  assert.equal(reply.body.title, 'Payload Too Large');
  // Just under the limit is parsed (and then judged on its content).
  const fits = createBody({ metadata: { note: 'y'.repeat(BODY_LIMIT - 400) } });
  const under = await server.call('POST', CREATE, { body: fits, idempotencyKey: 'big-2' });
  assert.ok(under.status !== 413 && under.status < 500, under.text);
});

test('an unknown path gets 404', async () => {
  for (const path of ['/epayment/v1/nothing', '/epayment/v2/payments', '/nothing?token=abc', '/epayment/v1/payments/abcdefgh12/explode']) {
    const reply = await server.call('GET', path);
    assertProblem(reply, 404, 'GET', path);
    assert.equal(reply.body.title, 'Not Found');
  }
});

test('a known path with the wrong method gets 405 with Allow', async () => {
  const cases = [
    { method: 'DELETE', path: `${CREATE}/${authorized}`, allow: 'GET' },
    { method: 'PUT', path: CREATE, allow: 'POST' },
    { method: 'GET', path: `${CREATE}/${authorized}/capture`, allow: 'POST' },
    { method: 'PATCH', path: `${CREATE}/${authorized}/events`, allow: 'GET' },
    { method: 'GET', path: `/epayment/v1/test/payments/${authorized}/approve`, allow: 'POST' },
  ];
  for (const { method, path, allow } of cases) {
    const reply = await server.call(method, path);
    assertProblem(reply, 405, method, path);
    assert.equal(reply.headers.get('allow'), allow);
  }
  const options = await server.call('OPTIONS', CREATE);
  assertProblem(options, 405, 'OPTIONS', CREATE);
  assert.equal(options.headers.get('allow'), 'POST');
  // fetch refuses to send TRACE.
  const trace = await new Promise<{ status: number; allow: string | undefined }>((resolve, reject) => {
    const url = new URL(server.url);
    httpRequest({ host: url.hostname, port: url.port, method: 'TRACE', path: `${CREATE}/${authorized}` })
      .on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow });
      })
      .on('error', reject)
      .end();
  });
  assert.deepEqual(trace, { status: 405, allow: 'GET' });
});

test('an invalid reference in the path is a 400 field error on reference', async () => {
  for (const reference of [
    'short',
    'a'.repeat(65),
    'a'.repeat(300),
    'has_underscore',
    'dots.are.out',
    encodeURIComponent('æøå-reference'),
  ]) {
    const path = `${CREATE}/${reference}`;
    assertFieldErrors(await server.call('GET', path), 'GET', path, ['reference']);
    assertFieldErrors(await server.call('GET', `${path}/events`), 'GET', `${path}/events`, ['reference']);
    const capture = await server.call('POST', `${path}/capture`, { body: nok(100), idempotencyKey: 'ref-1' });
    assertFieldErrors(capture, 'POST', `${path}/capture`, ['reference']);
    const cancel = await server.call('POST', `${path}/cancel`, { body: {} });
    assertFieldErrors(cancel, 'POST', `${path}/cancel`, ['reference']);
  }
  // A path that is not even valid percent-encoding.
  const broken = await server.call('GET', `${CREATE}/abc%zzdefgh`);
  assertProblem(broken, 400, 'GET', `${CREATE}/abc%zzdefgh`);
});

test('Idempotency-Key is required on create, capture and refund, optional on cancel', async () => {
  assertFieldErrors(await server.call('POST', CREATE, { body: createBody() }), 'POST', CREATE, ['Idempotency-Key']);
  for (const operation of ['capture', 'refund']) {
    const path = `${CREATE}/${authorized}/${operation}`;
    assertFieldErrors(await server.call('POST', path, { body: nok(100) }), 'POST', path, ['Idempotency-Key']);
    // An empty key is the same as none (the SDK sends "" for unset headers).
    const empty = await server.call('POST', path, { body: nok(100), headers: { 'Idempotency-Key': '' } });
    assertFieldErrors(empty, 'POST', path, ['Idempotency-Key']);
  }
  const created = await server.createPayment();
  const cancel = await server.call('POST', `${CREATE}/${created.reference}/cancel`, { body: {} });
  assert.equal(cancel.status, 200, cancel.text);
  assertMatchesOpenApi('POST', `${CREATE}/${created.reference}/cancel`, 200, cancel.body);
});

test('Idempotency-Key longer than 50 characters is a 400 field error', async () => {
  const reply = await server.call('POST', CREATE, { body: createBody(), idempotencyKey: 'k'.repeat(51) });
  assertFieldErrors(reply, 'POST', CREATE, ['Idempotency-Key']);
  const capture = await server.call('POST', `${CREATE}/${authorized}/capture`, { body: nok(100), idempotencyKey: 'k'.repeat(51) });
  assertFieldErrors(capture, 'POST', `${CREATE}/${authorized}/capture`, ['Idempotency-Key']);
  const atLimit = await server.call('POST', CREATE, { body: createBody(), idempotencyKey: 'k'.repeat(50) });
  assert.equal(atLimit.status, 201, atLimit.text);
});

test('Vipps-System-* headers longer than 30 characters are 400 field errors (open question 24)', async () => {
  const long = 's'.repeat(31);
  const reply = await server.call('POST', CREATE, {
    body: createBody(),
    idempotencyKey: 'sys-1',
    headers: { 'Vipps-System-Name': long, 'Vipps-System-Plugin-Version': long },
  });
  assertFieldErrors(reply, 'POST', CREATE, ['Vipps-System-Name', 'Vipps-System-Plugin-Version']);
  const capture = await server.call('POST', `${CREATE}/${authorized}/capture`, {
    body: nok(100),
    idempotencyKey: 'sys-2',
    headers: { 'Vipps-System-Version': long },
  });
  assertFieldErrors(capture, 'POST', `${CREATE}/${authorized}/capture`, ['Vipps-System-Version']);
  for (const read of [`${CREATE}/${authorized}`, `${CREATE}/${authorized}/events`]) {
    const reply = await server.call('GET', read, { headers: { 'Vipps-System-Plugin-Name': long } });
    assertFieldErrors(reply, 'GET', read, ['Vipps-System-Plugin-Name']);
  }
  const exact = 's'.repeat(30);
  const fine = await server.call('POST', CREATE, {
    body: createBody(),
    idempotencyKey: 'sys-3',
    headers: {
      'Vipps-System-Name': exact,
      'Vipps-System-Version': exact,
      'Vipps-System-Plugin-Name': exact,
      'Vipps-System-Plugin-Version': exact,
    },
  });
  assert.equal(fine.status, 201, fine.text);
});

test('a cancel body that is not an object of the spec gets one field error per problem', async () => {
  const at = `${CREATE}/${authorized}/cancel`;
  assertFieldErrors(await server.call('POST', at, { raw: '{"cancelTransactionOnly":"yes"}' }), 'POST', at, ['cancelTransactionOnly']);
  assertFieldErrors(await server.call('POST', at, { raw: '[]' }), 'POST', at, ['body']);
});

test('field errors of the body and of the headers come together in one 400', async () => {
  const reply = await server.call('POST', CREATE, {
    body: createBody({ reference: 'x' }),
    idempotencyKey: 'both-1',
    headers: { 'Vipps-System-Name': 's'.repeat(31) },
  });
  assertFieldErrors(reply, 'POST', CREATE, ['reference', 'Vipps-System-Name']);
});

test('text the database cannot store, and absurd nesting, are 400 field errors rather than 500s', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ paymentDescription: 'Socks\u0000and shoes' }, 'paymentDescription'],
    [{ paymentDescription: 'Half a pair \ud800' }, 'paymentDescription'],
    [{ metadata: { orderId: 'A\u0000' } }, 'metadata.orderId'],
    [{ metadata: { 'key\u0000': 'value' } }, 'metadata'],
    [{ receipt: { orderLines: [{ name: '\udfff' }] } }, 'receipt.orderLines[0].name'],
  ];
  for (const [fields, field] of cases) {
    const reply = await server.call('POST', CREATE, { body: createBody(fields), idempotencyKey: `store-${field}` });
    assertFieldErrors(reply, 'POST', CREATE, [field]);
  }
  const deep = `${JSON.stringify(createBody()).slice(0, -1)},"extra":${'['.repeat(1000)}${']'.repeat(1000)}}`;
  assertFieldErrors(await server.call('POST', CREATE, { raw: deep, idempotencyKey: 'deep-1' }), 'POST', CREATE, ['body']);
  // Brackets inside strings are text, not nesting.
  const bracketed = await server.call('POST', CREATE, {
    body: createBody({ paymentDescription: '[[[[{{{{'.repeat(10) }),
    idempotencyKey: 'deep-2',
  });
  assert.equal(bracketed.status, 201, bracketed.text);
});

test('a NUL in a path parameter or a query value is a 400 field error on any route (never a 500 from the database)', async () => {
  const cases: [string, string, string][] = [
    ['GET', `${CREATE}/abc%00defgh`, 'reference'],
    ['GET', '/kassa/v1/webhooks/deliveries?reference=%00', 'reference'],
    ['GET', '/kassa/v1/webhooks/attempts?reference=a%00b', 'reference'],
    ['GET', '/qr/v1/merchant-redirect/%00', 'id'],
    ['DELETE', '/qr/v1/merchant-redirect/qr%00', 'id'],
    ['GET', '/vipps-userinfo-api/userinfo/%00', 'sub'],
    ['GET', '/app?user=%00', 'user'],
    ['GET', '/app/code/%00', 'publicId'],
    ['GET', '/qr/r/%00', 'publicId'],
    ['GET', '/dashboard/payments/123456/%00', 'reference'],
    ['GET', '/dashboard/requests?reference=%00', 'reference'],
    ['GET', `${CREATE}/${authorized}?note=%00`, 'note'],
  ];
  for (const [method, path, field] of cases) {
    const reply = await server.call(method, path);
    assertFieldErrors(reply, method, path, [field]);
  }
});

test('a value the database refuses as data is answered 400, not as a fault of the platform', async () => {
  // Requests are checked before they reach the database; this is the net under those checks.
  for (const sql of ["select 'x'::int", 'select 2147483647::int + 1', "select convert_from('\\x00'::bytea, 'UTF8')"]) {
    const error = await server.ctx.db.query(sql).then(
      () => assert.fail(`${sql} should fail`),
      (e: unknown) => e,
    );
    assert.equal(problemFor(error, { url: '/epayment/v1/payments', id: 'trace' }).problem.status, 400, sql);
  }
  assert.equal(problemFor(new Error('a bug'), { url: '/epayment/v1/payments', id: 'trace' }).problem.status, 500);
});

test('odd but harmless requests are never a 500', async () => {
  const odd: { method: string; path: string; raw?: string; headers?: Record<string, string>; idempotencyKey?: string }[] = [
    { method: 'POST', path: CREATE, raw: 'null', idempotencyKey: 'odd-1' },
    { method: 'POST', path: CREATE, raw: '[]', idempotencyKey: 'odd-2' },
    { method: 'POST', path: CREATE, raw: '"a string"', idempotencyKey: 'odd-3' },
    { method: 'POST', path: CREATE, raw: '12', idempotencyKey: 'odd-4' },
    { method: 'POST', path: CREATE, raw: '', idempotencyKey: 'odd-5' },
    {
      method: 'POST',
      path: CREATE,
      raw: JSON.stringify(createBody({ amount: { currency: 'NOK', value: 1e300 } })),
      idempotencyKey: 'odd-6',
    },
    { method: 'POST', path: CREATE, raw: JSON.stringify(createBody({ amount: 'lots' })), idempotencyKey: 'odd-7' },
    {
      method: 'POST',
      path: CREATE,
      raw: '{"amount":{"currency":"NOK","value":1e400},"reference":12345678901234567890123}',
      idempotencyKey: 'odd-8',
    },
    { method: 'POST', path: CREATE, raw: JSON.stringify(createBody({ customer: null, metadata: [] })), idempotencyKey: 'odd-9' },
    { method: 'POST', path: `${CREATE}/${authorized}/capture`, raw: '{"modificationAmount":null}', idempotencyKey: 'odd-10' },
    {
      method: 'POST',
      path: `${CREATE}/${authorized}/capture`,
      raw: '{"modificationAmount":{"currency":"NOK","value":-5}}',
      idempotencyKey: 'odd-11',
    },
    {
      method: 'POST',
      path: `${CREATE}/${authorized}/capture`,
      raw: '{"modificationAmount":{"currency":"NOK","value":1.5}}',
      idempotencyKey: 'odd-12',
    },
    {
      method: 'POST',
      path: `${CREATE}/${authorized}/refund`,
      raw: '{"modificationAmount":{"currency":"SEK","value":100}}',
      idempotencyKey: 'odd-13',
    },
    { method: 'POST', path: `${CREATE}/${authorized}/cancel`, raw: '{"cancelTransactionOnly":"yes"}' },
    { method: 'POST', path: `${CREATE}/${authorized}/cancel`, raw: '', headers: { 'Content-Type': 'application/json' } },
    { method: 'POST', path: `/epayment/v1/test/payments/${authorized}/approve`, raw: '{"customer":{"phoneNumber":{}}}' },
    { method: 'GET', path: `${CREATE}/${authorized}?x=%zz&y` },
    { method: 'HEAD', path: `${CREATE}/${authorized}` },
    { method: 'OPTIONS', path: CREATE },
  ];
  for (const { method, path, raw, headers, idempotencyKey } of odd) {
    const reply = await server.call(method, path, {
      ...(raw === undefined ? {} : { raw }),
      ...(headers ? { headers } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    assert.ok(reply.status < 500, `${method} ${path} ${raw ?? ''} → ${reply.status} ${reply.text}`);
    if (reply.status >= 400 && method !== 'HEAD') assertProblem(reply, reply.status, method, path);
  }
});

test('headers larger than the HTTP parser accepts get a 431 Problem', async () => {
  const url = new URL(server.url);
  const reply = await new Promise<{ status: number; contentType: string; body: string }>((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'GET',
      path: `${CREATE}/abcdefgh12`,
      headers: { 'X-Filler': 'f'.repeat(64 * 1024), 'Ocp-Apim-Subscription-Key': NO.subscriptionKey },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(reply.status, 431);
  assert.match(reply.contentType, /^application\/problem\+json/);
  const problem = JSON.parse(reply.body);
  assert.equal(problem.status, 431);
  assert.match(problem.traceId, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});
