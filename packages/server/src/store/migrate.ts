import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Applies the numbered SQL files in migrations/ that have not run yet, each in its own transaction.
 * An advisory lock keeps several processes starting together from applying the same file twice.
 */
export async function migrate(db: Database): Promise<string[]> {
  const files = readdirSync(migrationsDir)
    .filter((name) => /^\d{3}_.+\.sql$/.test(name))
    .sort();
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(7070)');
    await tx.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const { rows } = await tx.query<{ name: string }>('select name from schema_migrations');
    const applied = new Set(rows.map((row) => row.name));
    const ran: string[] = [];
    for (const name of files) {
      if (applied.has(name)) continue;
      await tx.exec(readFileSync(migrationsDir + name, 'utf8'));
      await tx.query('insert into schema_migrations (name) values ($1)', [name]);
      ran.push(name);
    }
    return ran;
  });
}
