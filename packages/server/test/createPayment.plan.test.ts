/**
 * The shared statement of plain creates (store/paymentsStore.ts, insertPaymentsClaimingKeys) must find
 * used idempotency keys through the key's index at every size of the table. Its input comes from
 * jsonb_to_recordset, which the planner takes for 100 rows whatever the batch holds; asked as an anti
 * join, that estimate made a hash join over a sequential scan of all keys look cheaper up to tens of
 * thousands of keys, so each create batch read the whole table (bench: 2 323 scans, 23.7 million rows
 * read in 8 s of create load). The plans are the measure, as in dashboard.scale.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Database, Queryable } from '../src/store/database.ts';
import { migrate } from '../src/store/migrate.ts';
import { type ClaimedCreate, insertPaymentsClaimingKeys } from '../src/store/paymentsStore.ts';
import { newModel, salesUnit } from './support/paymentModel.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';

let testDb: TestDatabase;
let db: Database;
before(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
  await migrate(db);
  await db.query("insert into sales_units (msn, name, market, currency) values ('123456', 'Plan test', 'NO', 'NOK')");
});
after(() => testDb.drop());

/** A plain create of the model's CREATED payment, with its own reference, pspReference, token and key. */
function plainCreate(): ClaimedCreate {
  const { id: _, ...payment } = newModel(salesUnit('NO'), 1000, new Date()).payment;
  return {
    payment: { ...payment, reference: `plan-${randomUUID()}`, pspReference: randomUUID(), redirectToken: randomUUID() },
    claim: { operation: 'create', key: randomUUID(), fingerprint: 'plan', status: 201, body: {} },
  };
}

/** The statement and parameters insertPaymentsClaimingKeys sends for a batch of `size` creates. */
async function createStatement(size: number): Promise<{ text: string; values: readonly unknown[] }> {
  let sent: { text: string; values: readonly unknown[] } | undefined;
  const recorder: Queryable = {
    async query(text, values) {
      sent = { text, values: values ?? [] };
      return { rows: [], rowCount: 0 };
    },
    async exec() {},
  };
  await insertPaymentsClaimingKeys(recorder, Array.from({ length: size }, plainCreate));
  assert.ok(sent, 'the batch is one statement');
  return sent;
}

async function storeKeys(total: number): Promise<void> {
  await db.query(
    `insert into idempotency_keys (msn, operation, key, fingerprint, status, body, created_at)
     select '123456', 'create', 'stored-' || i, 'f', 201, '{}', now()
       from generate_series((select count(*) from idempotency_keys) + 1, $1) as i`,
    [total],
  );
  await db.query('analyze idempotency_keys');
}

for (const keys of [2_000, 20_000]) {
  test(`with ${keys.toLocaleString('en')} keys stored, a batch of creates probes the key index instead of reading every key`, async () => {
    await storeKeys(keys);
    for (const size of [1, 8]) {
      const { text, values } = await createStatement(size);
      const { rows } = await db.query<{ 'QUERY PLAN': string }>(`explain ${text}`, values);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      assert.doesNotMatch(plan, /Seq Scan on idempotency_keys\b/, `a batch of ${size}:\n${plan}`);
      assert.match(plan, /Index (Only )?Scan using idempotency_keys_pkey/, `a batch of ${size}:\n${plan}`);
    }
  });
}

test('a create whose key is stored already is left out of the batch, and the others are written', async () => {
  await storeKeys(2_000);
  const replay = plainCreate();
  replay.claim.key = 'stored-1';
  const fresh = plainCreate();
  const written = await insertPaymentsClaimingKeys(db, [replay, fresh]);
  assert.deepEqual(
    written.map((p) => p.reference),
    [fresh.payment.reference],
  );
  const { rows } = await db.query<{ count: number }>('select count(*)::int as count from payments where reference = $1', [
    replay.payment.reference,
  ]);
  assert.equal(rows[0]?.count, 0);
});
