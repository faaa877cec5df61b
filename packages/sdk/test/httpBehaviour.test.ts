/**
 * The SDK against a real HTTP server that misbehaves on purpose: headers, one Idempotency-Key per
 * logical call, retries of network errors, timeouts, 429 and 5xx with back-off, no retries of other 4xx,
 * typed errors, and the log records of failed calls. Time is a ManualScheduler: no test sleeps.
 */
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { AccessTokenError, ApiError, type Client, ConfigurationError, createClient, NetworkError, TimeoutError } from '../src/index.ts';
import { ManualScheduler } from '../src/scheduler.ts';
import { driveRetries } from './support/driveRetries.ts';
import { captureLogs, type LogCapture } from './support/logCapture.ts';
import {
  hang,
  type MisbehavingServer,
  problem,
  reset,
  respond,
  startMisbehavingServer,
  tokenResponse,
} from './support/misbehavingServer.ts';

const REF = 'order-1001-abcdef';
const CAPTURE = `/epayment/v1/payments/${REF}/capture`;
const modified = {
  amount: { currency: 'NOK', value: 10000 },
  state: 'AUTHORIZED',
  aggregate: {
    authorizedAmount: { currency: 'NOK', value: 10000 },
    cancelledAmount: { currency: 'NOK', value: 0 },
    capturedAmount: { currency: 'NOK', value: 5000 },
    refundedAmount: { currency: 'NOK', value: 0 },
  },
  pspReference: 'b4b0c5a2-1b6e-4d53-9a7e-0c5d1c1e9f10',
  reference: REF,
};
const captureBody = { modificationAmount: { currency: 'NOK' as const, value: 5000 } };

let server: MisbehavingServer;
let scheduler: ManualScheduler;
let logs: LogCapture;
let client: Client;

function newClient(overrides: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    baseUrl: server.url,
    clientId: 'client-id-1',
    clientSecret: 'very-secret-value',
    subscriptionKey: 'subscription-key-1',
    merchantSerialNumber: '123456',
    system: { name: 'acme', version: '3.1.2', pluginName: 'acme-webshop', pluginVersion: '4.5.6' },
    scheduler,
    logger: logs.logger,
    random: () => 0.5,
    ...overrides,
  });
}

before(async () => {
  server = await startMisbehavingServer();
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.tokenAnswer = tokenResponse();
  scheduler = new ManualScheduler();
  logs = captureLogs();
  client = newClient();
});

test('sends the platform headers: token, subscription key, MSN, the four Vipps-System-* and one Idempotency-Key', async () => {
  server.script('POST', CAPTURE, respond(200, modified));
  const result = await client.epayment.capturePayment(REF, captureBody, { idempotencyKey: 'capture-1001-1' });
  assert.equal(result.aggregate.capturedAmount.value, 5000);

  const [token] = server.requestsTo('POST', '/accesstoken/get');
  assert.equal(token?.headers.client_id, 'client-id-1');
  assert.equal(token?.headers.client_secret, 'very-secret-value');
  assert.equal(token?.headers['ocp-apim-subscription-key'], 'subscription-key-1');
  assert.equal(token?.headers['merchant-serial-number'], '123456');
  assert.equal(token?.body, '', 'the token call has no body (§2.1)');

  const [call] = server.requestsTo('POST', CAPTURE);
  assert.ok(call);
  assert.match(String(call.headers.authorization), /^Bearer token-\d+$/);
  assert.equal(call.headers['ocp-apim-subscription-key'], 'subscription-key-1');
  assert.equal(call.headers['merchant-serial-number'], '123456');
  assert.equal(call.headers['vipps-system-name'], 'acme');
  assert.equal(call.headers['vipps-system-version'], '3.1.2');
  assert.equal(call.headers['vipps-system-plugin-name'], 'acme-webshop');
  assert.equal(call.headers['vipps-system-plugin-version'], '4.5.6');
  assert.equal(call.headers['idempotency-key'], 'capture-1001-1');
  assert.equal(call.headers['content-type'], 'application/json');
  assert.equal(call.headers['psp-id'], undefined, 'no Psp-Id unless configured');
  assert.deepEqual(JSON.parse(call.body), captureBody);
});

test('a PSP sends Psp-Id on every API call but not on the token call (§3.1, §18)', async () => {
  client = newClient({ pspId: 'C948DFD1546347568874C4DDC93A2E3C', merchantSerialNumber: '654321' });
  server.script('GET', `/epayment/v1/payments/${REF}`, respond(200, { ...modified, profile: {}, paymentMethod: { type: 'WALLET' } }));
  await client.epayment.getPayment(REF);
  assert.equal(server.requestsTo('POST', '/accesstoken/get')[0]?.headers['psp-id'], undefined);
  const [get] = server.requestsTo('GET', `/epayment/v1/payments/${REF}`);
  assert.equal(get?.headers['psp-id'], 'C948DFD1546347568874C4DDC93A2E3C');
  assert.equal(get?.headers['merchant-serial-number'], '654321');
  assert.equal(get?.headers['idempotency-key'], undefined, 'reads carry no Idempotency-Key');
});

test('the system plugin pair defaults to the system pair; every Vipps-System-* value is at most 30 characters', async () => {
  const c = newClient({ system: { name: 'acme', version: '1.0.0' } });
  assert.equal(c.config.systemHeaders['Vipps-System-Plugin-Name'], 'acme');
  assert.equal(c.config.systemHeaders['Vipps-System-Plugin-Version'], '1.0.0');
  assert.throws(
    () => newClient({ system: { name: 'a'.repeat(31), version: '1' } }),
    (error: Error) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, /Vipps-System-Name must be at most 30 characters \(got 31/);
      return true;
    },
  );
  assert.throws(() => newClient({ system: { name: 'acme', version: '1', pluginVersion: 'v'.repeat(40) } }), /Vipps-System-Plugin-Version/);
  assert.doesNotThrow(() => newClient({ system: { name: 'a'.repeat(30), version: '1' } }));
  assert.throws(() => newClient({ merchantSerialNumber: '12-456' }), /4–7 digits/);
  // Per call too, before anything is sent.
  await assert.rejects(newClient().epayment.getPayment(REF, { merchantSerialNumber: 'abc' }), ConfigurationError);
  assert.throws(() => newClient({ baseUrl: 'not a url' }), ConfigurationError);
});

test('503, 503, 200: three attempts with the same Idempotency-Key and the same body, waits growing with jitter', async () => {
  server.script('POST', CAPTURE, problem(503, 'Service Unavailable'), problem(503, 'Service Unavailable'), respond(200, modified));
  const { result, waits } = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.equal(result.reference, REF);
  const attempts = server.requestsTo('POST', CAPTURE);
  assert.equal(attempts.length, 3);
  const keys = new Set(attempts.map((a) => a.headers['idempotency-key']));
  assert.equal(keys.size, 1, 'one Idempotency-Key per logical operation, reused on every retry');
  assert.match(String([...keys][0]), /^[0-9a-f-]{36}$/);
  for (const attempt of attempts) assert.deepEqual(JSON.parse(attempt.body), captureBody, 'a full body on every attempt');
  // Equal jitter with random() = 0.5: 3/4 of 500 ms, then of 1000 ms.
  assert.deepEqual(waits, [375, 750]);
});

test('back-off is random within bounds and grows; attempts are bounded (4 by default) and the error says how many', async () => {
  client = newClient({ random: () => 0.999 });
  server.script('POST', CAPTURE, problem(502, 'Bad Gateway'));
  await assert.rejects(
    driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs),
    (error: ApiError & { waits: number[] }) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 502);
      assert.equal(error.attempts, 4, 'the real attempt count (open question 28)');
      assert.equal(error.waits.length, 3);
      assert.ok(error.waits[0]! <= 500 && error.waits[0]! >= 250);
      assert.ok(error.waits[1]! <= 1000 && error.waits[1]! >= 500);
      assert.ok(error.waits[2]! <= 2000 && error.waits[2]! >= 1000);
      return true;
    },
  );
  assert.equal(server.requestsTo('POST', CAPTURE).length, 4);
  assert.equal(logs.of('http.attempt_failed').length, 3);
  assert.equal(logs.of('http.failed').length, 1);
});

test('429 with Retry-After in seconds is waited out; an HTTP-date Retry-After too', async () => {
  server.script('POST', CAPTURE, problem(429, 'Too Many Requests', undefined, { 'Retry-After': '7' }), respond(200, modified));
  const first = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.deepEqual(first.waits, [7000]);

  const inTwelveSeconds = new Date(scheduler.now() + 12_000).toUTCString();
  server.script(
    'POST',
    CAPTURE,
    respond(429, { statusCode: 429, message: 'Rate limit is exceeded.' }, { 'Retry-After': inTwelveSeconds }),
    respond(200, modified),
  );
  const second = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.deepEqual(second.waits, [12_000]);
});

test('a 429 without Retry-After (an API gateway answer) still waits a second at least', async () => {
  server.script('POST', CAPTURE, respond(429, { statusCode: 429, message: 'Rate limit is exceeded.' }), respond(200, modified));
  const { waits } = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.deepEqual(waits, [1000]);
});

test('a Retry-After beyond the accepted wait is not waited for: the 429 comes back with retryAfterMs', async () => {
  server.script(
    'POST',
    CAPTURE,
    respond(429, { statusCode: 429, message: 'Rate limit is exceeded. Try again in 3600 seconds.' }, { 'Retry-After': '3600' }),
  );
  await assert.rejects(driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs), (error: ApiError) => {
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 3_600_000);
    assert.equal(error.problem, undefined, 'the gateway body is not a Problem');
    assert.equal(error.detail, 'Rate limit is exceeded. Try again in 3600 seconds.');
    return true;
  });
  assert.equal(server.requestsTo('POST', CAPTURE).length, 1);
});

test('a reset connection is retried with the same key', async () => {
  server.script('POST', CAPTURE, reset, respond(200, modified));
  const { waits } = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.equal(waits.length, 1);
  const [failed] = logs.of('http.attempt_failed');
  assert.match(String(failed?.networkError), /ECONNRESET|UND_ERR|socket/i);
  const keys = server.requestsTo('POST', CAPTURE).map((r) => r.headers['idempotency-key']);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1]);
});

test('a slow answer times out after 30 s (total), is retried with the same key, and succeeds', async () => {
  server.script('POST', CAPTURE, hang, respond(200, modified));
  const call = driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  await server.waitForRequests(1);
  await scheduler.advance(29_999);
  assert.equal(logs.of('http.attempt_failed').length, 0, 'not before 30 s');
  await scheduler.advance(1);
  const { result } = await call;
  assert.equal(result.reference, REF);
  const [timedOut] = logs.of('http.attempt_failed');
  assert.equal(timedOut?.networkError, 'TOTAL_TIMEOUT');
  const keys = server.requestsTo('POST', CAPTURE).map((r) => r.headers['idempotency-key']);
  assert.deepEqual(keys, [keys[0], keys[0]]);
});

test('a timeout is tried once more (open question 27), then surfaces as TimeoutError, an unknown outcome', async () => {
  client = newClient({ timeouts: { totalMs: 1000 } });
  server.script('POST', CAPTURE, hang);
  const call = driveRetries(client.epayment.capturePayment(REF, captureBody, { idempotencyKey: 'cap-timeout-1' }), scheduler, logs);
  const rejected = assert.rejects(call, (error: TimeoutError) => {
    assert.ok(error instanceof TimeoutError);
    assert.ok(error instanceof NetworkError);
    assert.equal(error.phase, 'total');
    assert.equal(error.attempts, 2);
    assert.equal(error.idempotencyKey, 'cap-timeout-1', 'so the caller can retry with the same key later');
    assert.equal(error.endpoint, '/epayment/v1/payments/{reference}/capture');
    return true;
  });
  await server.waitForRequests(1);
  await scheduler.advance(1000);
  await server.waitForRequests(2);
  await scheduler.advance(1000);
  await rejected;
});

test('the connect phase (TCP + TLS handshake) has its own 5 s limit', async () => {
  // A TCP server that accepts connections but never speaks TLS: the handshake never completes.
  const silent: Server = createTcpServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const accepted = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
  try {
    client = newClient({ baseUrl: `https://127.0.0.1:${port}`, retry: { maxAttempts: 1 } });
    const rejected = assert.rejects(client.accessToken.get(), (error: TimeoutError) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.phase, 'connect');
      assert.equal(error.timeoutMs, 5000);
      return true;
    });
    await accepted;
    await scheduler.advance(4999);
    assert.equal(logs.of('http.failed').length, 0, 'not before 5 s');
    await scheduler.advance(1);
    await rejected;
  } finally {
    silent.close();
  }
});

test('a 4xx other than 429 is never retried; the typed error carries the Problem, the code and the traceId', async () => {
  server.script('POST', CAPTURE, problem(400, 'Capture amount too high', 6090));
  await assert.rejects(client.epayment.capturePayment(REF, captureBody, { idempotencyKey: 'cap-6090' }), (error: ApiError) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.errorCode, 6090);
    assert.equal(error.traceId, `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    assert.equal(error.problem?.title, 'Capture amount too high');
    assert.equal(error.attempts, 1);
    assert.equal(error.operation, 'capturePayment');
    assert.match(error.message, /POST \/epayment\/v1\/payments\/order-1001-abcdef\/capture → 400 \[6090\] Capture amount too high/);
    return true;
  });
  for (const [status, code] of [
    [409, 4010],
    [404, 5090],
  ] as const) {
    server.requests.length = 0;
    server.script('POST', CAPTURE, problem(status, 'refused', code));
    await assert.rejects(
      client.epayment.capturePayment(REF, captureBody),
      (error: ApiError) => error.status === status && error.errorCode === code,
    );
    assert.equal(server.requestsTo('POST', CAPTURE).length, 1, `${status} is not retried`);
  }
});

test('423 (locked by a concurrent operation) is retried shortly with the same Idempotency-Key (§15.2)', async () => {
  server.script('POST', CAPTURE, problem(423, 'Order processing', 6160), respond(200, modified));
  const { result, waits } = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.equal(result.reference, REF);
  assert.equal(waits.length, 1);
  const keys = new Set(server.requestsTo('POST', CAPTURE).map((a) => a.headers['idempotency-key']));
  assert.equal(keys.size, 1);
});

test('validation Problems expose their field errors', async () => {
  server.script(
    'POST',
    '/epayment/v1/payments',
    respond(400, {
      type: 'https://httpstatuses.io/400',
      title: 'Bad Request',
      status: 400,
      detail: 'See extraDetails for further details',
      traceId: 't-1',
      extraDetails: [{ name: 'reference', reason: "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,64}$'." }],
    }),
  );
  await assert.rejects(
    client.epayment.createPayment({
      amount: { currency: 'NOK', value: 100 },
      paymentMethod: { type: 'WALLET' },
      reference: 'x',
      userFlow: 'QR',
    }),
    (error: ApiError) => {
      assert.equal(error.errorCode, undefined);
      assert.deepEqual(
        error.fieldErrors.map((f) => f.name),
        ['reference'],
      );
      return true;
    },
  );
});

test('every failed attempt is logged with endpoint, redacted headers, body, status, code, message and traceId', async () => {
  server.script('POST', CAPTURE, problem(503, 'Service Unavailable'), problem(400, 'Capture amount too high', 6090));
  await assert.rejects(driveRetries(client.epayment.capturePayment(REF, captureBody, { idempotencyKey: 'cap-log-1' }), scheduler, logs));
  const [retrying, failed] = [logs.of('http.attempt_failed')[0], logs.of('http.failed')[0]];
  assert.ok(retrying && failed);
  assert.equal(retrying.level, 'warn');
  assert.equal(retrying.status, 503);
  assert.equal(retrying.willRetry, true);
  assert.equal(failed.level, 'error');
  assert.equal(failed.endpoint, '/epayment/v1/payments/{reference}/capture');
  assert.equal(failed.path, CAPTURE);
  assert.equal(failed.method, 'POST');
  assert.equal(failed.status, 400);
  assert.equal(failed.errorCode, 6090);
  assert.equal(failed.title, 'Capture amount too high');
  assert.equal(failed.detail, 'Capture amount too high (test)');
  assert.equal(failed.traceId, `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
  assert.equal(failed.idempotencyKey, 'cap-log-1');
  assert.equal(failed.attempt, 2);
  assert.deepEqual(failed.requestBody, captureBody);
  const headers = failed.requestHeaders as Record<string, string>;
  assert.equal(headers.Authorization, 'Bearer [REDACTED]');
  assert.equal(headers['Ocp-Apim-Subscription-Key'], '[REDACTED]');
  assert.equal(headers['Merchant-Serial-Number'], '123456');
  assert.equal(headers['Vipps-System-Name'], 'acme');
  const everything = JSON.stringify(logs.entries);
  for (const secret of ['very-secret-value', 'subscription-key-1', 'token-'])
    assert.ok(!everything.includes(secret), `${secret} never logged`);
});

test("a logged body hides a person's credentials: customer tokens, personal QR contents, landing tokens", async () => {
  const approve = `/epayment/v1/test/payments/${REF}/approve`;
  server.script('POST', approve, problem(400, 'Approve failed', 10010));
  await assert.rejects(driveRetries(client.epayment.forceApprovePayment(REF, { token: 'landing-token-xyz' }), scheduler, logs));
  assert.deepEqual(logs.of('http.failed')[0]?.requestBody, { token: '[REDACTED]' });
  assert.ok(!JSON.stringify(logs.entries).includes('landing-token-xyz'));
});

test('an unexpected 401 drops the cached token and tries once more with a new one', async () => {
  server.script('POST', CAPTURE, respond(401, { statusCode: 401, message: 'Unauthorized' }), respond(200, modified));
  const before = server.tokenCalls();
  const { result } = await driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs);
  assert.equal(result.reference, REF);
  assert.equal(server.tokenCalls() - before, 2);
  const [first, second] = server.requestsTo('POST', CAPTURE);
  assert.notEqual(first?.headers.authorization, second?.headers.authorization);
  assert.equal(first?.headers['idempotency-key'], second?.headers['idempotency-key']);

  server.requests.length = 0;
  server.script('POST', CAPTURE, respond(401, { statusCode: 401, message: 'Unauthorized' }));
  await assert.rejects(
    driveRetries(client.epayment.capturePayment(REF, captureBody), scheduler, logs),
    (error: ApiError) => error.status === 401,
  );
  assert.equal(server.requestsTo('POST', CAPTURE).length, 2, 'one renewal, not a loop');
});

test('the token is cached, fetched once for concurrent callers, and renewed before it expires', async () => {
  server.tokenAnswer = tokenResponse('600'); // 10 minutes: renewal window = max(10 %, 60 s) = the last 60 s
  server.script('GET', `/epayment/v1/payments/${REF}`, respond(200, { ...modified, profile: {}, paymentMethod: { type: 'WALLET' } }));
  const before = server.tokenCalls();
  await Promise.all(Array.from({ length: 10 }, () => client.epayment.getPayment(REF)));
  assert.equal(server.tokenCalls() - before, 1, 'ten concurrent callers, one token request');

  await scheduler.advance(539_000); // 9 min − 1 s: still outside the renewal window
  await client.epayment.getPayment(REF);
  assert.equal(server.tokenCalls() - before, 1);

  await scheduler.advance(2000); // inside the last 60 s: the old token still serves while one renewal runs
  const path = `/epayment/v1/payments/${REF}`;
  const oldToken = server.requestsTo('GET', path).at(-1)?.headers.authorization;
  server.requests.length = 0;
  await Promise.all(Array.from({ length: 5 }, () => client.epayment.getPayment(REF)));
  assert.deepEqual(new Set(server.requestsTo('GET', path).map((r) => r.headers.authorization)), new Set([oldToken]));
  await until(() => server.tokenCalls() - before === 2);
  await until(() => client.accessToken.cached !== undefined && client.accessToken.cached.receivedAt === scheduler.now());
  await client.epayment.getPayment(REF);
  assert.notEqual(server.requestsTo('GET', path).at(-1)?.headers.authorization, oldToken, 'the renewed token is used next');
  assert.equal(server.tokenCalls() - before, 2, 'one renewal for all callers');

  await scheduler.advance(11 * 60_000); // past the renewed token's life too: callers wait for a new one
  await client.epayment.getPayment(REF);
  assert.equal(server.tokenCalls() - before, 3);
});

test('token fields given as numbers are accepted (open question 1)', async () => {
  server.tokenAnswer = tokenResponse(3600);
  const token = await client.accessToken.get();
  assert.match(token, /^token-/);
  assert.equal(client.accessToken.cached!.expiresAt - client.accessToken.cached!.receivedAt, 3_600_000);
});

test('token-service errors are AccessTokenErrors with the OAuth fields; not retried', async () => {
  server.tokenAnswer = respond(401, {
    error: 'invalid_client',
    error_description: 'AADSTS7000215: Invalid client secret provided.',
    error_codes: [7000215],
    timestamp: '2026-01-05 09:00:00Z',
    trace_id: 'trace-token-1',
    correlation_id: 'trace-token-1',
  });
  await assert.rejects(client.accessToken.get(), (error: AccessTokenError) => {
    assert.ok(error instanceof AccessTokenError);
    assert.equal(error.error, 'invalid_client');
    assert.deepEqual(error.errorCodes, [7000215]);
    assert.equal(error.traceId, 'trace-token-1');
    return true;
  });
  assert.equal(server.requestsTo('POST', '/accesstoken/get').length, 1);
});

test('the caller sets the Idempotency-Key; an over-long key is refused before sending', async () => {
  server.script('POST', `/epayment/v1/payments/${REF}/cancel`, respond(200, modified));
  await client.epayment.cancelPayment(REF, { cancelTransactionOnly: true }, { idempotencyKey: 'cancel-1001' });
  const [cancel] = server.requestsTo('POST', `/epayment/v1/payments/${REF}/cancel`);
  assert.equal(cancel?.headers['idempotency-key'], 'cancel-1001');
  assert.deepEqual(JSON.parse(cancel?.body ?? ''), { cancelTransactionOnly: true });
  await assert.rejects(client.epayment.capturePayment(REF, captureBody, { idempotencyKey: 'k'.repeat(51) }), ConfigurationError);
  assert.equal(server.requestsTo('POST', CAPTURE).length, 0);
});

test('force approve is refused against the production base URL, like the official SDK', async () => {
  const production = newClient({ baseUrl: 'https://api.vipps.no' });
  await assert.rejects(production.epayment.forceApprovePayment(REF, {}), /only in the test environment/);
});

test('a 2xx that is not JSON is not taken for the platform answer', async () => {
  server.script('GET', `/epayment/v1/payments/${REF}`, (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<html>captive portal</html>');
  });
  await assert.rejects(client.epayment.getPayment(REF), ApiError);
});

test('a webhook registration (not idempotent on the server) is repeated only when the first attempt surely had no effect', async () => {
  const PATH = '/webhooks/v1/webhooks';
  server.script('POST', PATH, problem(503, 'Service Unavailable'), respond(201, { id: 'w-2', secret: 's-2' }));
  await assert.rejects(
    client.webhooks.register({ url: 'https://shop.example/hooks', events: ['epayments.payment.authorized.v1'] }),
    (error: ApiError) => {
      assert.equal(error.status, 503);
      assert.equal(error.attempts, 1, 'a 503 may come after the registration was made: not repeated');
      return true;
    },
  );
  server.requests.length = 0;
  server.script(
    'POST',
    PATH,
    problem(429, 'Too Many Requests', undefined, { 'Retry-After': '1' }),
    respond(201, { id: 'w-3', secret: 's-3' }),
  );
  const { result } = await driveRetries(
    client.webhooks.register({ url: 'https://shop.example/hooks', events: ['epayments.payment.captured.v1'] }),
    scheduler,
    logs,
  );
  assert.deepEqual(result, { id: 'w-3', secret: 's-3' }, 'a 429 was refused before anything happened: repeated');
  assert.equal(server.requestsTo('POST', PATH).length, 2);
});

test('a merchant redirect QR whose create is repeated after a lost answer is found, not reported as a conflict', async () => {
  const PATH = '/qr/v1/merchant-redirect';
  const code = { id: 'poster-1', url: 'https://qr.example/img.svg', redirectUrl: 'https://shop.example/poster', expiresIn: null };
  server.script('POST', PATH, problem(502, 'Bad Gateway'), problem(409, 'Conflict'));
  server.script('GET', `${PATH}/poster-1`, respond(200, code));
  const { result } = await driveRetries(
    client.qr.createMerchantRedirectQr({ id: 'poster-1', redirectUrl: 'https://shop.example/poster' }),
    scheduler,
    logs,
  );
  assert.deepEqual(result, code);
  assert.equal(server.requestsTo('POST', PATH)[0]?.headers.accept, 'image/svg+xml');
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition not reached');
}
