/**
 * API fault injection (docs/time-and-faults.md): rules per sales unit answer matching calls with an
 * error (500, 503, 429 with Retry-After), add latency, or hold them until the client times out —
 * before the operation runs or after it committed — deterministically by seed, and every fault shows
 * in the request log. Each test uses sales units of its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fires } from '../src/control/faultRules.ts';
import type { DemoSalesUnit } from '../src/seed.ts';
import { findPayment, listEvents } from '../src/store/paymentsStore.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { addSalesUnit, authorizedPayment, capture, paymentPath, readConsistent } from './support/payments.ts';
import { assertErrorCode, assertFieldErrors, assertProblem } from './support/problems.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const FAULTS = '/kassa/v1/faults';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function addRule(unit: DemoSalesUnit, body: Record<string, unknown>) {
  const reply = await server.call('POST', FAULTS, { unit, body: { target: 'api', ...body } });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.rule;
}

async function ruleNow(unit: DemoSalesUnit, id: number) {
  const reply = await server.call('GET', `${FAULTS}/${id}`, { unit });
  assert.equal(reply.status, 200, reply.text);
  return reply.body.rule;
}

interface LogRow {
  method: string;
  route: string;
  status: number;
  fault: string | null;
  latency_ms: number;
  idempotency_key: string | null;
}

async function logOf(unit: DemoSalesUnit): Promise<LogRow[]> {
  await server.requestLog.flush();
  const { rows } = await server.ctx.db.query<LogRow>('select * from request_log where msn = $1 order by id', [unit.msn]);
  return rows;
}

test('an error before the operation keeps it from running; the client sees the status and Retry-After', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const rule = await addRule(unit, { kind: 'error', status: 503, retryAfterSeconds: 2, match: { operation: 'createPayment' }, count: 1 });
  assert.equal(rule.when, 'before', 'before is the default');
  const reference = `fault-before-${randomUUID().slice(0, 8)}`;
  const key = randomUUID();
  const refused = await server.createPayment({ reference }, { unit, idempotencyKey: key });
  assertProblem(refused, 503, 'POST', '/epayment/v1/payments');
  assert.equal(refused.headers.get('retry-after'), '2');
  assert.equal(await findPayment(server.ctx.db, unit.msn, reference), null, 'nothing was created');

  const retried = await server.createPayment({ reference }, { unit, idempotencyKey: key });
  assert.equal(retried.status, 201, 'the rule is spent after one fault');
  assertMatchesOpenApi('POST', '/epayment/v1/payments', 201, retried.body);
  const after = await ruleNow(unit, rule.id);
  assert.deepEqual([after.matched, after.injected, after.spent], [1, 1, true], 'a spent rule draws no more');

  const log = await logOf(unit);
  assert.deepEqual(
    log.map((row) => [row.method, row.status, row.fault]),
    [
      ['POST', 503, `error 503 before (rule ${rule.id})`],
      ['POST', 201, null],
    ],
  );
});

test('an error after the operation loses the answer of a committed capture; a retry with the same key gets it, with one effect', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const reference = await authorizedPayment(server, 10000, unit);
  const rule = await addRule(unit, { kind: 'error', when: 'after', match: { operation: 'capturePayment' }, count: 1 });
  const key = randomUUID();
  const lost = await capture(server, reference, 4000, { unit, key });
  assertErrorCode(lost, 500, 3010, 'POST', `${paymentPath(reference)}/capture`);
  assert.match(lost.body.detail, new RegExp(`rule ${rule.id}`));
  assert.deepEqual((await readConsistent(server, reference, unit)).aggregate.captured, 4000, 'the capture committed');

  const retried = await capture(server, reference, 4000, { unit, key });
  assert.equal(retried.status, 200, retried.text);
  assertMatchesOpenApi('POST', `${paymentPath(reference)}/capture`, 200, retried.body);
  assert.equal(retried.body.aggregate.capturedAmount.value, 4000);
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  const events = await listEvents(server.ctx.db, payment?.id ?? 0);
  assert.deepEqual(
    events.map((e) => e.name),
    ['CREATED', 'AUTHORIZED', 'CAPTURED'],
    'one capture',
  );
  const captures = (await logOf(unit)).filter((row) => row.route.endsWith('/capture'));
  assert.deepEqual(
    captures.map((row) => [row.status, row.idempotency_key, row.fault]),
    [
      [500, key, `error 500 after (rule ${rule.id})`],
      [200, key, null],
    ],
  );
});

test('capture faults: the acquirer fails an accepted capture — 6260 or 6280, a CAPTURED event with success false, the key free for the retry', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const receiver = await WebhookReceiver.start();
  try {
    const registered = await server.call('POST', '/webhooks/v1/webhooks', {
      unit,
      body: { url: receiver.url, events: ['epayments.payment.captured.v1'] },
    });
    assert.equal(registered.status, 201, registered.text);
    const reference = await authorizedPayment(server, 10000, unit);
    const path = `${paymentPath(reference)}/capture`;
    const funds = await addRule(unit, { kind: 'fundsUnavailable', match: { operation: 'capturePayment' }, count: 1 });
    assert.equal(funds.when, null, 'a capture fault strikes inside the capture');
    // Calls that are not captures never draw a capture fault.
    assert.equal((await server.call('GET', paymentPath(reference), { unit })).status, 200);
    const key = randomUUID();
    const unavailable = await capture(server, reference, 4000, { unit, key });
    assertErrorCode(unavailable, 400, 6260, 'POST', path);
    const otherKey = randomUUID();
    const captured = await capture(server, reference, 4000, { unit, key: otherKey });
    assert.equal(captured.status, 200, 'the rule is spent; the capture goes through');
    assert.equal(captured.body.aggregate.capturedAmount.value, 4000, 'the failed capture changed nothing');

    await addRule(unit, { kind: 'captureFailed', count: 1 });
    const tryLater = await capture(server, reference, 6000, { unit, key });
    assertErrorCode(tryLater, 503, 6280, 'POST', path);
    const retried = await capture(server, reference, 6000, { unit, key });
    assert.equal(retried.status, 200, `the same key runs again: ${retried.text}`);
    assert.equal(retried.body.aggregate.capturedAmount.value, 10000);

    const { events } = await readConsistent(server, reference, unit);
    assert.deepEqual(
      events.filter((e) => e.name === 'CAPTURED').map((e) => [e.amount.value, e.success, e.idempotencyKey]),
      [
        [4000, false, key],
        [4000, true, otherKey],
        [6000, false, key],
        [6000, true, key],
      ],
    );
    await server.deliverWebhooks();
    await receiver.waitFor('four capture webhooks', (r) => r.requests.length === 4);
    assert.deepEqual(
      receiver.requests.map((r) => [(r.body as { amount: { value: number } }).amount.value, (r.body as { success: boolean }).success]),
      [
        [4000, false],
        [4000, true],
        [6000, false],
        [6000, true],
      ],
    );
    const captures = (await logOf(unit)).filter((row) => row.route.endsWith('/capture'));
    assert.deepEqual(
      captures.map((row) => [row.status, row.fault]),
      [
        [400, `fundsUnavailable (rule ${funds.id})`],
        [200, null],
        [503, `captureFailed (rule ${funds.id + 1})`],
        [200, null],
      ],
    );
  } finally {
    await receiver.close();
  }
});

test('every nth matching call gets 429 with Retry-After (1 s unless given); rules match by method and route', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const { reference } = await server.createPayment({}, { unit });
  const rule = await addRule(unit, {
    kind: 'error',
    status: 429,
    everyNth: 2,
    match: { method: 'get', route: '/epayment/v1/payments/:reference' },
  });
  assert.deepEqual([rule.match.method, rule.retryAfterSeconds], ['GET', 1]);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const reply = await server.call('GET', paymentPath(reference), { unit });
    statuses.push(reply.status);
    if (reply.status === 429) {
      assertProblem(reply, 429, 'GET', paymentPath(reference));
      assert.equal(reply.headers.get('retry-after'), '1');
    }
    // The event log is another route: never faulted by this rule.
    assert.equal((await server.call('GET', `${paymentPath(reference)}/events`, { unit })).status, 200);
  }
  assert.deepEqual(statuses, [200, 429, 200, 429]);
  assert.deepEqual([(await ruleNow(unit, rule.id)).matched, (await ruleNow(unit, rule.id)).injected], [4, 2]);
});

test('latency delays the answer before or after the operation, and shows in the logged latency', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const { reference } = await server.createPayment({}, { unit });
  const slowRead = await addRule(unit, { kind: 'latency', delayMs: 150, match: { operation: 'getPayment' } });
  const slowAnswer = await addRule(unit, { kind: 'latency', delayMs: 150, when: 'after', match: { operation: 'getPaymentEvents' } });
  for (const path of [paymentPath(reference), `${paymentPath(reference)}/events`]) {
    const started = performance.now();
    const reply = await server.call('GET', path, { unit });
    assert.equal(reply.status, 200, reply.text);
    assertMatchesOpenApi('GET', path, 200, reply.body);
    assert.ok(performance.now() - started >= 150, `${path} was held`);
  }
  const log = await logOf(unit);
  const faulted = log.filter((row) => row.fault !== null);
  assert.deepEqual(
    faulted.map((row) => row.fault),
    [`latency 150 ms before (rule ${slowRead.id})`, `latency 150 ms after (rule ${slowAnswer.id})`],
  );
  for (const row of faulted) assert.ok(row.latency_ms >= 150, `logged latency ${row.latency_ms}`);
});

test('a timeout holds the call until the client gives up; before, the operation never runs; after, it did', async () => {
  const unit = await addSalesUnit(server, 'NO', {});
  const reference = await authorizedPayment(server, 10000, unit);
  const hold = await addRule(unit, { kind: 'timeout', match: { operation: 'capturePayment' }, count: 1 });
  assert.equal(hold.delayMs, 35_000, 'held past the SDK’s 30 s timeout by default (open question 27)');
  const token = await server.token(unit);
  const headers = {
    Authorization: `Bearer ${token}`,
    'Ocp-Apim-Subscription-Key': unit.subscriptionKey,
    'Merchant-Serial-Number': unit.msn,
    'Content-Type': 'application/json',
  };
  const body = JSON.stringify({ modificationAmount: { currency: 'NOK', value: 1000 } });
  const path = `${paymentPath(reference)}/capture`;
  await assert.rejects(
    fetch(server.url + path, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': randomUUID() },
      body,
      signal: AbortSignal.timeout(200),
    }),
    { name: 'TimeoutError' },
  );
  // The held request is let go when its client leaves, without running the capture.
  await waitUntil(async () => (await logOf(unit)).some((row) => row.fault?.startsWith('timeout')));
  assert.equal((await readConsistent(server, reference, unit)).aggregate.captured, 0);

  // After the operation, with a hold the client outwaits: the capture commits, the client gets 504.
  const late = await addRule(unit, { kind: 'timeout', when: 'after', delayMs: 100, match: { operation: 'capturePayment' }, count: 1 });
  const key = randomUUID();
  const timedOut = await capture(server, reference, 1000, { unit, key });
  assertProblem(timedOut, 504, 'POST', path);
  assert.match(timedOut.body.detail, new RegExp(`rule ${late.id}`));
  assert.equal((await readConsistent(server, reference, unit)).aggregate.captured, 1000);
  const retried = await capture(server, reference, 1000, { unit, key });
  assert.equal(retried.status, 200);
  assert.equal(retried.body.aggregate.capturedAmount.value, 1000, 'the retry replays the stored answer');

  const captures = (await logOf(unit)).filter((row) => row.route.endsWith('/capture'));
  assert.deepEqual(
    captures.map((row) => row.fault),
    [`timeout 35000 ms before (rule ${hold.id})`, `timeout 100 ms after (rule ${late.id})`, null],
  );
  assert.equal(captures[0]?.status, 499, 'logged as "client closed request"');
  assert.equal(captures[1]?.status, 504);
});

/** Polls a condition for up to 5 s (the request log is written in the background). */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail('condition not met within 5 s');
}

test('the same seed and the same calls give the same faults; another seed other ones', async () => {
  const units = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  const seeds = ['checkout-42', 'checkout-42', 'another-seed'];
  const rules = [];
  for (const [i, unit] of units.entries()) {
    rules.push(await addRule(unit, { kind: 'error', status: 500, probability: 0.5, seed: seeds[i], match: { operation: 'getPayment' } }));
  }
  const sequences: number[][] = [];
  for (const unit of units) {
    const { reference } = await server.createPayment({}, { unit });
    const statuses: number[] = [];
    for (let n = 0; n < 16; n++) statuses.push((await server.call('GET', paymentPath(reference), { unit })).status);
    sequences.push(statuses);
  }
  const expected = (seed: string) =>
    Array.from({ length: 16 }, (_, i) => (fires({ seed, probability: 0.5, everyNth: null }, i + 1) ? 500 : 200));
  assert.deepEqual(sequences[0], expected('checkout-42'));
  assert.deepEqual(sequences[1], sequences[0], 'same seed, same faults');
  assert.deepEqual(sequences[2], expected('another-seed'));
  assert.notDeepEqual(sequences[2], sequences[0]);
  assert.ok(sequences[0]?.includes(500) && sequences[0]?.includes(200), 'about half fail');

  // Without a seed a rule gets a random one, shown so the run can be repeated.
  const unseeded = await addRule(units[0] as DemoSalesUnit, { kind: 'latency', delayMs: 1, probability: 0.1 });
  assert.match(unseeded.seed, /^[0-9a-f]{16}$/);
});

test('rules are managed per sales unit; bad rules are refused; the control API and test helpers are never faulted', async () => {
  const [mine, theirs] = [await addSalesUnit(server, 'NO', {}), await addSalesUnit(server, 'NO', {})];
  // Everything of `mine` fails — except what Kassa itself offers to manage that.
  const everything = await addRule(mine, { kind: 'error', status: 503 });
  const webhookRule = await addRule(mine, { target: 'webhook', kind: 'drop' });
  const { reference } = await server.createPayment({}, { unit: theirs });
  assert.equal((await server.call('GET', paymentPath(reference), { unit: theirs })).status, 200, 'other units go on');
  assertProblem(await server.call('GET', paymentPath('any-reference-1'), { unit: mine }), 503, 'GET', paymentPath('any-reference-1'));

  const listed = await server.call('GET', FAULTS, { unit: mine });
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.rules.map((r: { id: number }) => r.id),
    [everything.id, webhookRule.id],
  );
  assert.deepEqual(Object.keys(everything).sort(), [
    'count',
    'createdAt',
    'createdBy',
    'delayMs',
    'everyNth',
    'id',
    'injected',
    'kind',
    'match',
    'matched',
    'msn',
    'probability',
    'retryAfterSeconds',
    'seed',
    'spent',
    'status',
    'target',
    'when',
  ]);
  assert.equal(everything.createdBy, mine.clientId);
  const onlyWebhook = await server.call('GET', `${FAULTS}?target=webhook&msn=${mine.msn}`, { unit: mine });
  assert.deepEqual(
    onlyWebhook.body.rules.map((r: { id: number }) => r.id),
    [webhookRule.id],
  );
  assert.deepEqual((await server.call('GET', FAULTS, { unit: theirs })).body.rules, []);
  assertProblem(await server.call('GET', `${FAULTS}/${everything.id}`, { unit: theirs }), 404, 'GET', `${FAULTS}/${everything.id}`);
  assertProblem(await server.call('DELETE', `${FAULTS}/${everything.id}`, { unit: theirs }), 404, 'DELETE', `${FAULTS}/${everything.id}`);

  const del = await server.call('DELETE', `${FAULTS}/${everything.id}`, { unit: mine });
  assert.equal(del.status, 204);
  assert.equal((await server.call('GET', paymentPath('any-reference-1'), { unit: mine })).status, 404, 'in force at once');
  const cleared = await server.call('DELETE', FAULTS, { unit: mine });
  assert.deepEqual(cleared.body, { deleted: 1 });

  const bad = (body: Record<string, unknown>, fields: string[]) =>
    server.call('POST', FAULTS, { unit: mine, body }).then((reply) => assertFieldErrors(reply, 'POST', FAULTS, fields));
  await bad({ target: 'api', kind: 'drop' }, ['kind']);
  await bad({ target: 'webhook', kind: 'delay', when: 'after', match: { method: 'POST' } }, ['match.method', 'when', 'delayMs']);
  await bad({ target: 'api', kind: 'error', status: 418, probability: 0.5, everyNth: 2 }, ['everyNth', 'status']);
  await bad({ target: 'api', kind: 'error', status: 500, retryAfterSeconds: 5 }, ['retryAfterSeconds']);
  await bad({ target: 'api', kind: 'latency', probabilty: 0.5 }, ['probabilty']);
  await bad({ target: 'api', kind: 'fundsUnavailable', when: 'after', match: { operation: 'refundPayment' } }, ['when', 'match.operation']);
  await bad({ target: 'webhook', kind: 'captureFailed' }, ['kind']);
  await bad({ target: 'api', kind: 'latency', delayMs: 10, match: { operation: 'fly', colour: 'red' } }, [
    'match.operation',
    'match.colour',
  ]);
  await bad({ target: 'sideways', kind: 'error', probability: 2 }, ['target', 'probability']);
  // Beyond what the store counts: a 400, not a database error.
  await bad({ target: 'api', kind: 'error', everyNth: 2 ** 53, count: 2 ** 31 }, ['everyNth', 'count']);
  await bad({ target: 'api', kind: 'error', match: { method: '💶' } }, ['match.method']);
  await bad({ target: 'api', kind: 'error', match: { route: `/${'r'.repeat(300)}` } }, ['match.route']);
  assertProblem(
    await server.call('POST', FAULTS, { unit: mine, body: { msn: theirs.msn, target: 'api', kind: 'error' } }),
    403,
    'POST',
    FAULTS,
  );
  assertProblem(await server.call('POST', FAULTS, { anonymous: true, body: { target: 'api', kind: 'error' } }), 401, 'POST', FAULTS);
  assertFieldErrors(await server.call('GET', `${FAULTS}?colour=red`, { unit: mine }), 'GET', `${FAULTS}?colour=red`, ['colour']);
  assertFieldErrors(await server.call('GET', `${FAULTS}/abc`, { unit: mine }), 'GET', `${FAULTS}/abc`, ['id']);

  // With a rule that fails every call of the unit, its keys still manage rules, move the clock and force approve.
  const created = await server.createPayment({}, { unit: mine });
  await addRule(mine, { kind: 'error', status: 500 });
  assert.equal((await server.call('GET', paymentPath(created.reference), { unit: mine })).status, 500);
  assert.equal((await server.call('GET', FAULTS, { unit: mine })).status, 200);
  assert.equal((await server.call('GET', '/kassa/v1/clock', { unit: mine })).status, 200);
  assert.equal((await server.approve(created.reference, mine)).status, 200);
  assert.equal((await server.call('DELETE', FAULTS, { unit: mine })).status, 200);
});
