import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

interface LogRow {
  msn: string | null;
  method: string;
  route: string;
  path: string;
  reference: string | null;
  status: number;
  latency_ms: number;
  idempotency_key: string | null;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
  error_code: number | null;
  trace_id: string;
}

async function logOf(reference: string): Promise<LogRow[]> {
  await server.requestLog.flush();
  const { rows } = await server.ctx.db.query<LogRow>('select * from request_log where reference = $1 order by id', [reference]);
  return rows;
}

test('every API call is logged per sales unit with route, status, latency, idempotency key and redacted headers', async () => {
  const created = await server.createPayment({}, { idempotencyKey: 'log-create-1', headers: { 'Vipps-System-Name': 'acme' } });
  await server.call('GET', `/epayment/v1/payments/${created.reference}`);
  const refused = await server.call('POST', `/epayment/v1/payments/${created.reference}/capture`, {
    idempotencyKey: 'log-cap-1',
    body: { modificationAmount: { currency: 'NOK', value: 500 } },
  });
  assert.equal(refused.status, 400);

  const rows = await logOf(created.reference);
  assert.deepEqual(
    rows.map((r) => [r.method, r.route, r.status, r.msn, r.idempotency_key, r.error_code]),
    [
      ['POST', '/epayment/v1/payments', 201, '123456', 'log-create-1', null],
      ['GET', '/epayment/v1/payments/:reference', 200, '123456', null, null],
      ['POST', '/epayment/v1/payments/:reference/capture', 400, '123456', 'log-cap-1', 6080],
    ],
  );
  const [create] = rows as [LogRow];
  assert.equal(create.body?.reference, created.reference);
  assert.equal(create.headers['vipps-system-name'], 'acme');
  assert.equal(create.headers.authorization, 'Bearer [redacted]');
  assert.equal(create.headers['ocp-apim-subscription-key'], '[redacted]');
  assert.ok(create.latency_ms >= 0);
  assert.match(create.trace_id, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const stored = JSON.stringify(rows);
  assert.ok(!stored.includes('kassa-demo-subscription'), 'the subscription key never reaches the log');
  assert.ok(!stored.includes((await server.token()).slice(20, 60)), 'the access token never reaches the log');
});

test('the token call is logged without its client secret; pages are not logged', async () => {
  await server.call('POST', '/accesstoken/get', {
    anonymous: true,
    headers: { client_id: 'kassa-demo-client', client_secret: 'kassa-demo-secret', 'Ocp-Apim-Subscription-Key': 'kassa-demo-subscription' },
  });
  await server.call('GET', '/health', { anonymous: true });
  await server.requestLog.flush();
  const { rows } = await server.ctx.db.query<LogRow>("select * from request_log where path in ('/accesstoken/get', '/health')");
  assert.ok(rows.length >= 1);
  assert.ok(
    rows.every((row) => row.path === '/accesstoken/get'),
    '/health is not an API call',
  );
  assert.ok(rows.every((row) => row.headers.client_secret === '[redacted]' && row.headers.client_id === 'kassa-demo-client'));
});

test('a call holding text the database refuses is logged with U+FFFD in its place, and the calls beside it are logged too', async () => {
  const [created, nulPath, nulBody] = await Promise.all([
    server.createPayment({}, { idempotencyKey: 'log-beside-nul' }),
    server.call('GET', '/epayment/v1/payments/ab%00cdefgh'),
    server.call('POST', '/epayment/v1/payments', { raw: '\u0000', idempotencyKey: 'log-nul-body' }),
  ]);
  assert.equal(nulPath.status, 400);
  assert.equal(nulBody.status, 400);
  assert.deepEqual(
    (await logOf(created.reference)).map((r) => [r.status, r.idempotency_key]),
    [[201, 'log-beside-nul']],
  );
  assert.deepEqual(
    (await logOf('ab\uFFFDcdefgh')).map((r) => [r.path, r.status]),
    [['/epayment/v1/payments/ab%00cdefgh', 400]],
  );
  const { rows } = await server.ctx.db.query<{ status: number; problem: { detail: string; extraDetails: { reason: string }[] } }>(
    "select status, problem from request_log where idempotency_key = 'log-nul-body'",
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.status, 400);
  assert.ok(!JSON.stringify(rows[0]?.problem).includes('\\u0000'));
});
