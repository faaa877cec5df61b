/**
 * A fresh database per test file: in-memory PGlite by default; with DATABASE_URL, a new database on
 * that PostgreSQL server, dropped afterwards (each test file gets its own, so files run in parallel).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/store/database.ts';
import { openPgliteDatabase } from '../../src/store/pgliteDatabase.ts';
import { openPostgresDatabase } from '../../src/store/postgresDatabase.ts';

export interface TestDatabase {
  db: Database;
  /** The connection string of the fresh PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const db = await openPgliteDatabase();
    return { db, url: undefined, drop: () => db.close() };
  }
  const name = `kassa_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openPostgresDatabase(url.toString(), 8);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      // pool.end() resolves before the server has seen every connection close; forcing the drop then
      // terminates them, and a FATAL arriving on a closing client is an uncaught 'error' in the test.
      for (let i = 0; i < 50; i += 1) {
        const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
