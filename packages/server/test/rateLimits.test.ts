/**
 * Per-reference rate limits (spec §13.6, platform-guidelines §5): 5 writes a minute per reference + MSN,
 * 120 reads a minute per reference + subscription key, then 429 with Retry-After; the window follows
 * the clock of the caller's sales unit. Across `--workers N` processes: scale.test.ts. KASSA_RATE_LIMITS=off lets everything through.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { RateLimiter } from '../src/http/rateLimiter.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { assertProblem } from './support/problems.ts';
import { DK, newReference, type Reply, startTestServer, type TestServer } from './support/testServer.ts';

let limited: TestServer;
let unlimited: TestServer;
before(async () => {
  // The same traffic against both settings of KASSA_RATE_LIMITS, hence two servers in this file.
  [limited, unlimited] = await Promise.all([startTestServer({ KASSA_RATE_LIMITS: 'on' }), startTestServer({ KASSA_RATE_LIMITS: 'off' })]);
});
after(async () => {
  await Promise.all([limited?.close(), unlimited?.close()]);
});

const path = (reference: string) => `/epayment/v1/payments/${reference}`;
const capture = (on: TestServer, reference: string, value = 100) =>
  on.call('POST', `${path(reference)}/capture`, { idempotencyKey: randomUUID(), body: { modificationAmount: { currency: 'NOK', value } } });

async function authorizedPayment(on: TestServer): Promise<string> {
  const created = await on.createPayment({ amount: { currency: 'NOK', value: 100000 } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await on.approve(created.reference)).status, 200);
  return created.reference;
}

function assertRateLimited(reply: Reply, method: string, at: string): number {
  assertProblem(reply, 429, method, at);
  assert.equal(reply.body.title, 'Too Many Requests');
  const retryAfter = Number(reply.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${reply.headers.get('retry-after')}`);
  return retryAfter;
}

test('the 6th capture of one reference within a minute gets 429 with Retry-After; the clock frees it', async () => {
  const reference = await authorizedPayment(limited); // the create counts for creates only; force approve not at all
  for (let i = 1; i <= 5; i++) {
    const reply = await capture(limited, reference);
    assert.equal(reply.status, 200, `capture ${i}: ${reply.text}`);
    assertMatchesOpenApi('POST', `${path(reference)}/capture`, 200, reply.body);
  }
  const retryAfter = assertRateLimited(await capture(limited, reference), 'POST', `${path(reference)}/capture`);
  // A refused call did nothing: 5 captures of 100.
  const got = await limited.call('GET', path(reference));
  assert.equal(got.body.aggregate.capturedAmount.value, 500);
  // Each operation has its own allowance (§13.6 has a row per operation): refunds still go through.
  const refund = () =>
    limited.call('POST', `${path(reference)}/refund`, {
      idempotencyKey: randomUUID(),
      body: { modificationAmount: { currency: 'NOK', value: 10 } },
    });
  for (let i = 1; i <= 5; i++) assert.equal((await refund()).status, 200, `refund ${i}`);
  assertRateLimited(await refund(), 'POST', `${path(reference)}/refund`);

  // Other references, and the same reference at another sales unit, are unaffected.
  const other = await authorizedPayment(limited);
  assert.equal((await capture(limited, other)).status, 200);
  const atDk = await limited.createPayment({ reference }, { unit: DK });
  assert.equal(atDk.status, 201, atDk.text);

  // Retry-After is honest: once that many seconds have passed on the server clock, writes go through.
  limited.clock.advance(retryAfter * 1000);
  const again = await capture(limited, reference);
  assert.equal(again.status, 200, again.text);
});

test('a create counts against its reference: the 6th create call with one reference gets 429', async () => {
  const reference = newReference('limit');
  const first = await limited.createPayment({ reference });
  assert.equal(first.status, 201);
  for (let i = 2; i <= 5; i++) {
    // Retries with new keys are refused as a reused reference (4150) but still count (§13.6).
    const reply = await limited.createPayment({ reference });
    assert.equal(reply.status, 409, reply.text);
  }
  assertRateLimited(await limited.createPayment({ reference }), 'POST', '/epayment/v1/payments');
});

test("the window runs on the sales unit's clock: moving the unit a minute ahead frees its references", async () => {
  const reference = newReference('unitclock');
  const create = () => limited.createPayment({ reference }, { unit: DK });
  assert.equal((await create()).status, 201);
  for (let i = 2; i <= 5; i++) assert.equal((await create()).status, 409);
  assertRateLimited(await create(), 'POST', '/epayment/v1/payments');
  const moved = await limited.call('POST', '/kassa/v1/clock', { unit: DK, body: { msn: DK.msn, advanceSeconds: 61 } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await create()).status, 409, 'counted again: a reused reference, no longer rate limited');
});

test('the 121st read of one reference within a minute gets 429; other references and a minute later are fine', async () => {
  const { reference } = await limited.createPayment();
  const other = (await limited.createPayment()).reference;
  for (let i = 1; i <= 120; i++) {
    const reply = await limited.call('GET', path(reference));
    assert.equal(reply.status, 200, `read ${i}: ${reply.text}`);
  }
  assertRateLimited(await limited.call('GET', path(reference)), 'GET', path(reference));
  // GET events has its own allowance: polling the payment does not starve the event log.
  for (let i = 1; i <= 120; i++) assert.equal((await limited.call('GET', `${path(reference)}/events`)).status, 200, `events ${i}`);
  assertRateLimited(await limited.call('GET', `${path(reference)}/events`), 'GET', `${path(reference)}/events`);
  // Reads and writes are counted apart, and other references have their own allowance.
  assert.equal((await limited.call('POST', `${path(reference)}/cancel`, { body: {} })).status, 200);
  assert.equal((await limited.call('GET', path(other))).status, 200);
  // Another subscription key has its own allowance (here it is simply not its payment).
  assert.equal((await limited.call('GET', path(reference), { unit: DK })).status, 404);

  limited.clock.advance(60_000);
  const later = await limited.call('GET', path(reference));
  assert.equal(later.status, 200);
  assertMatchesOpenApi('GET', path(reference), 200, later.body);
});

test('polling an unknown reference counts as well (platform-guidelines §5: check the reference spelling)', async () => {
  const unknown = path(newReference('typo'));
  for (let i = 1; i <= 120; i++) assert.equal((await limited.call('GET', unknown)).status, 404);
  assertRateLimited(await limited.call('GET', unknown), 'GET', unknown);
});

test('the counters forget a key a minute of real time after its last call, whatever clock the key runs on', () => {
  let wallMs = 0;
  const limiter = new RateLimiter(() => wallMs);
  const hourAhead = 60 * 60_000; // a sales unit moved an hour ahead of global time
  for (let i = 0; i < 5; i++) {
    assert.equal(limiter.hit('global', 5, i), null);
    assert.equal(limiter.hit('ahead', 5, hourAhead + i), null);
  }
  assert.equal(limiter.hit('global', 5, 10), 60);
  assert.equal(limiter.hit('ahead', 5, hourAhead + 10), 60);
  wallMs = 59_000;
  assert.equal(limiter.hit('global', 5, 59_000), 1, 'still counted on its own clock');
  wallMs = 120_000;
  assert.equal(limiter.hit('other', 5, 120_000), null);
  assert.equal(limiter.size, 1, 'idle keys of either clock are gone');
});

test('with KASSA_RATE_LIMITS=off nothing is rate limited', async () => {
  const reference = await authorizedPayment(unlimited);
  for (let i = 1; i <= 12; i++) assert.equal((await capture(unlimited, reference)).status, 200, `capture ${i}`);
  for (let i = 1; i <= 150; i++) assert.equal((await unlimited.call('GET', path(reference))).status, 200, `read ${i}`);
});
