import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { type Database, type Queryable, refuseAfterCommit } from './database.ts';

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

const resultOf = (result: pg.QueryResult) => ({ rows: result.rows, rowCount: result.rowCount ?? 0 });

/**
 * Holds a connection's writes until the current tick ends, so the messages issued together (BEGIN and
 * the first statement, the last statement and COMMIT) leave in one socket write: on loopback a write is
 * among the costliest things the server does. node-postgres corks only within one statement.
 */
function writeTogether(socket: Socket): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}

/**
 * A real PostgreSQL server through a connection pool sized to the machine. Its connections pipeline
 * (node-postgres `pipeline`): a transaction's BEGIN goes out with its first statement, and its COMMIT
 * with its last when the caller marks it (QueryOptions.commit), instead of each costing a round trip of
 * its own; each statement still has its own Sync, so an error in one never touches the answer of another.
 */
export async function openPostgresDatabase(connectionString: string, poolSize?: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString, types, pipeline: true, max: poolSize ?? Math.max(4, availableParallelism() * 8) });
  // Fail fast with a clear message when the server is unreachable.
  await pool.query('select 1');
  const listeners: pg.Client[] = [];
  return {
    kind: 'postgres',
    async query(sql, params) {
      return resultOf(await pool.query(statement(sql, params)));
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(work, options) {
      const client = await pool.connect();
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      // The COMMIT, once sent with the last statement; nothing may follow it.
      let commit: Promise<unknown> | undefined;
      const tx: Queryable = {
        async query(sql, params, queryOptions) {
          refuseAfterCommit(commit !== undefined);
          writeTogether(socket);
          const running = client.query(statement(sql, params));
          if (queryOptions?.commit) {
            commit = client.query('commit');
            commit.catch(() => {}); // awaited below, after the statement's own outcome
          }
          return resultOf(await running);
        },
        async exec(sql) {
          refuseAfterCommit(commit !== undefined);
          await client.query(sql);
        },
      };
      try {
        writeTogether(socket);
        // Not awaited before the work: it is written together with the work's first statement. The
        // lock timeout is a literal from our own code, never user input.
        const begun = client.query(options?.lockTimeout ? `begin; set local lock_timeout = '${options.lockTimeout}'` : 'begin');
        begun.catch(() => {}); // a failed BEGIN fails the statement behind it, which is what throws
        const result = await work(tx);
        await begun;
        await (commit ?? client.query('commit'));
        return result;
      } catch (error) {
        // A COMMIT sent behind a failed statement ended the transaction as a rollback already.
        if (!commit) await client.query('rollback').catch(() => {});
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
