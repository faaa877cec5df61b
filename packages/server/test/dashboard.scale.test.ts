/**
 * The dashboard with 100,000 payments (issue 7: "it must be fast with 100,000 payments"). The payments,
 * one event and one logged create call each are inserted by three `insert … select generate_series`
 * statements; then the plans of the list, search, page and timeline queries must read an index range
 * (no sequential scan of a big table, no sort of the whole result), and the pages answer within a
 * generous bound. The plans are the measure: they do not depend on how busy the machine is.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type PaymentFilter, paymentsQuery, type RequestFilter, requestsQuery } from '../src/store/dashboardStore.ts';
import type { Queryable } from '../src/store/database.ts';
import { DK, FI, NO, startTestServer, type TestServer } from './support/testServer.ts';

const COUNT = 100_000;
let server: TestServer;
let db: Queryable;

before(async () => {
  server = await startTestServer();
  db = server.ctx.db;
  // Three sales units of very different sizes (90 %, 9 %, 1 %), five states, one payment a second going
  // back ~28 hours; references scale-<n>.
  await db.query(
    `insert into payments (msn, reference, psp_reference, state, currency, amount, user_flow, payment_method_type, request,
                           created_at, expires_at)
     select case when i % 100 = 0 then '765432' when i % 100 < 10 then '654321' else '123456' end,
            'scale-' || lpad(i::text, 6, '0'),
            gen_random_uuid(),
            (array['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'])[1 + i % 5],
            case when i % 100 = 0 then 'EUR' when i % 100 < 10 then 'DKK' else 'NOK' end,
            1000 + i,
            'WEB_REDIRECT', 'WALLET',
            jsonb_build_object('reference', 'scale-' || lpad(i::text, 6, '0'), 'paymentDescription', 'Scale test'),
            $1::timestamptz - make_interval(secs => i),
            $1::timestamptz - make_interval(secs => i) + interval '10 minutes'
       from generate_series(1, ${COUNT}) as i`,
    [server.clock.now()],
  );
  await db.query(
    `insert into payment_events (payment_id, msn, reference, name, amount, currency, occurred_at, success)
     select id, msn, reference, 'CREATED', amount, currency, created_at, true from payments where reference like 'scale-%'`,
  );
  await db.query(
    `insert into request_log (at, msn, method, route, path, reference, status, latency_ms, headers, trace_id)
     select created_at, msn, 'POST', '/epayment/v1/payments', '/epayment/v1/payments', reference, 201, 3, '{}', 'scale'
       from payments where reference like 'scale-%'`,
  );
  await db.query('analyze payments');
  await db.query('analyze payment_events');
  await db.query('analyze request_log');
});
after(() => server?.close());

async function plan(sql: string, params: unknown[] = []): Promise<string> {
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

const BIG_TABLES = ['payments', 'payment_events', 'request_log'];
/** A Sort node (an Incremental Sort over an index-ordered read only orders ties, and is allowed). */
const FULL_SORT = /(^|\n)\s*(->\s*)?Sort\s+\(/;

/** An index range read: no sequential scan of a big table, and (for ordered pages) no sort of the rows. */
function assertIndexed(text: string, index: string, options: { sorted?: boolean } = {}): void {
  for (const table of BIG_TABLES) assert.doesNotMatch(text, new RegExp(`Seq Scan on ${table}\\b`), `sequential scan of ${table}:\n${text}`);
  assert.match(text, new RegExp(`(Index|Index Only|Bitmap Index) Scan(?: Backward)? (using|on) ${index}\\b`), `uses ${index}:\n${text}`);
  if (options.sorted !== false) assert.doesNotMatch(text, FULL_SORT, `no sort:\n${text}`);
}

test('100,000 payments are there', async () => {
  const { rows } = await db.query<{ count: number }>("select count(*)::int as count from payments where reference like 'scale-%'");
  assert.equal(rows[0]?.count, COUNT);
});

test('the payment list queries read one index range each, whatever the filters', async () => {
  const limit = 51;
  const cases: [PaymentFilter, string, boolean?][] = [
    [{ limit }, 'payments_created'],
    // The big unit's newest payments are simply the newest payments; a small unit needs its own index.
    [{ msn: NO.msn, limit }, '(payments_created|payments_msn_created)'],
    [{ msn: FI.msn, limit }, 'payments_msn_created'],
    [{ state: 'EXPIRED', limit }, '(payments_created|payments_state_created)'],
    [{ msn: FI.msn, state: 'AUTHORIZED', limit }, 'payments_msn_state_created'],
    [{ msn: DK.msn, state: 'TERMINATED', limit }, 'payments_msn_state_created'],
    [{ msn: FI.msn, before: { createdAt: new Date(server.clock.nowMs() - 50_000_000), id: 50_000 }, limit }, 'payments_msn_created'],
    [{ from: new Date(server.clock.nowMs() - 3_600_000), to: new Date(server.clock.nowMs()), limit }, 'payments_created'],
    // A prefix matches few rows: found by the text_pattern_ops index, then those few are sorted.
    [{ referencePrefix: 'scale-0421', limit }, 'payments_reference_prefix', false],
  ];
  for (const [filter, index, sorted] of cases) {
    const { sql, params } = paymentsQuery(filter);
    assertIndexed(await plan(sql, params), index, { sorted: sorted ?? true });
  }
});

test("a payment's timeline and the request log read their indexes", async () => {
  const { rows } = await db.query<{ id: number }>("select id from payments where msn = '123456' and reference = 'scale-050011'");
  const id = rows[0]?.id;
  assert.ok(id);
  assertIndexed(await plan('select * from payment_events where payment_id = $1 order by id', [id]), 'payment_events_payment');
  assertIndexed(
    await plan('select * from request_log where msn = $1 and reference = $2 order by at, id limit 500', ['123456', 'scale-050011']),
    'request_log_reference',
    { sorted: false },
  );
  // Ties on `at` are ordered by id with an incremental sort over an index-ordered read, not a full
  // sort; one payment's calls are few and may be sorted.
  const cases: [RequestFilter, string, boolean][] = [
    [{ limit: 101 }, 'request_log_at', true],
    [{ msn: FI.msn, limit: 101 }, 'request_log_msn_at', true],
    [{ msn: NO.msn, reference: 'scale-050011', limit: 101 }, 'request_log_reference', false],
  ];
  for (const [filter, index, sorted] of cases) {
    const { sql, params } = requestsQuery(filter);
    assertIndexed(await plan(sql, params), index, { sorted });
  }
});

test('the dashboard pages answer within a generous bound with 100,000 payments', async () => {
  const paths = [
    '/dashboard',
    `/dashboard?msn=${FI.msn}&state=AUTHORIZED`,
    '/dashboard?q=scale-0999',
    `/dashboard/payments/${NO.msn}/scale-050011`,
    `/dashboard/requests?msn=${NO.msn}`,
  ];
  for (const path of paths) {
    const started = performance.now();
    const response = await fetch(server.url + path);
    const text = await response.text();
    const ms = performance.now() - started;
    assert.equal(response.status, 200, `${path}: ${text.slice(0, 200)}`);
    assert.ok(ms < 5000, `${path} took ${Math.round(ms)} ms`);
  }
  const first = await (await fetch(`${server.url}/dashboard?msn=${NO.msn}`)).text();
  const next = /<a rel="next" href="([^"]+)"/.exec(first)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(next);
  assert.equal((await fetch(server.url + next)).status, 200);
});
