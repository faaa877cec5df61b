import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type Database, type Queryable, refuseAfterCommit } from './database.ts';
import { lockDataDir } from './dataDirLock.ts';

const INT8 = 20;

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory (tests). */
export async function openPgliteDatabase(dataDir?: string): Promise<Database> {
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const db = new PGlite(dataDir, { parsers: { [INT8]: (value: string) => Number(value) } });
  try {
    await db.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query(sql, params) {
      const result = await q.query(sql, params as unknown[]);
      return { rows: result.rows as never[], rowCount: result.rows.length || (result.affectedRows ?? 0) };
    },
    async exec(sql) {
      await q.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...wrap(db),
    // QueryOptions.commit changes nothing here (one connection, no round trips to save), but nothing
    // may follow the statement that carries it, on PGlite as on PostgreSQL.
    transaction: (work) =>
      db.transaction((tx) => {
        const inner = wrap(tx);
        let committed = false;
        return work({
          query(sql, params, options) {
            refuseAfterCommit(committed);
            committed = options?.commit === true;
            return inner.query(sql, params);
          },
          exec: inner.exec,
        });
      }),
    async listen(channel, onNotify) {
      const unsubscribe = await db.listen(channel, onNotify);
      return unsubscribe;
    },
    async close() {
      await db.close();
      unlock();
    },
  };
}
