/**
 * The Database interface on both stores: a transaction's last statement may carry its COMMIT
 * (QueryOptions.commit, one round trip on PostgreSQL) with the same outcome as a commit after the work.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../src/store/database.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';

let testDb: TestDatabase;
let db: Database;
before(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
  await db.exec('create table ledger (id int primary key, amount int not null check (amount > 0))');
});
after(() => testDb.drop());

async function ids(): Promise<number[]> {
  return (await db.query<{ id: number }>('select id from ledger order by id')).rows.map((r) => r.id);
}

test('a last statement carrying the COMMIT commits everything before it', async () => {
  const result = await db.transaction(async (tx) => {
    await tx.query('insert into ledger values ($1, $2)', [1, 10]);
    return (await tx.query<{ id: number }>('insert into ledger values ($1, $2) returning id', [2, 20], { commit: true })).rows;
  });
  assert.deepEqual(result, [{ id: 2 }]);
  assert.deepEqual(await ids(), [1, 2]);
});

test('when that statement fails, nothing of the transaction stays and its error is thrown', async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query('insert into ledger values ($1, $2)', [3, 30]);
      await tx.query('insert into ledger values ($1, $2)', [4, -1], { commit: true }); // check constraint
    }),
    (error: { code?: string }) => error.code === '23514',
  );
  assert.deepEqual(await ids(), [1, 2]);
  // The connection is clean afterwards: the next transactions work, on every pooled connection.
  await Promise.all(
    [5, 6, 7, 8].map((id) => db.transaction((tx) => tx.query('insert into ledger values ($1, 1)', [id], { commit: true }))),
  );
  assert.deepEqual(await ids(), [1, 2, 5, 6, 7, 8]);
});

test('a statement after the committing one is refused, not run outside the transaction', async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query('insert into ledger values ($1, $2)', [9, 90], { commit: true });
      await tx.query('insert into ledger values ($1, $2)', [10, 100]);
    }),
    /after the transaction committed/,
  );
  assert.equal((await ids()).includes(10), false);
});
