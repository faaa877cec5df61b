import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import type { Database, Queryable } from './database.ts';

const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * Parameterized statements are prepared once per connection under a name derived from their text,
 * so PostgreSQL parses and plans each of the server's statements once instead of on every call.
 * Statements with many parameters (multi-row batches, whose text varies with the batch) are not.
 */
const MAX_PREPARED_PARAMS = 64;
const statementNames = new Map<string, string>();

function statement(text: string, params: readonly unknown[] | undefined): pg.QueryConfig {
  if (!params || params.length === 0 || params.length > MAX_PREPARED_PARAMS) return { text, values: params as unknown[] };
  let name = statementNames.get(text);
  if (!name) {
    name = `k${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: params as unknown[] };
}

/**
 * A real PostgreSQL server through a connection pool sized to the machine. Its connections pipeline
 * (node-postgres `pipeline`): a transaction's BEGIN goes out with its first statement instead of
 * costing a round trip of its own, and each statement still has its own Sync, so an error in one never
 * touches the answer of another.
 */
export async function openPostgresDatabase(connectionString: string, poolSize?: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString, types, pipeline: true, max: poolSize ?? Math.max(4, availableParallelism() * 8) });
  // Fail fast with a clear message when the server is unreachable.
  await pool.query('select 1');
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query(sql, params) {
      const result = await client.query(statement(sql, params));
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    async exec(sql) {
      await client.query(sql);
    },
  });
  const listeners: pg.Client[] = [];
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(work, options) {
      const client = await pool.connect();
      try {
        // Not awaited before the work: it is written together with the work's first statement. The
        // lock timeout is a literal from our own code, never user input.
        const begun = client.query(options?.lockTimeout ? `begin; set local lock_timeout = '${options.lockTimeout}'` : 'begin');
        begun.catch(() => {}); // a failed BEGIN fails the statement behind it, which is what throws
        const result = await work(wrap(client));
        await begun;
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const client = new pg.Client({ connectionString });
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      });
      client.on('error', () => {});
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      listeners.push(client);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => {});
      };
    },
    async close() {
      await Promise.all(listeners.map((client) => client.end().catch(() => {})));
      await pool.end();
    },
  };
}
