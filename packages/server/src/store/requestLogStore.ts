/** SQL for the request log. */
import type { Queryable } from './database.ts';
import { storableCopy, storableText } from './storableText.ts';

export interface RequestLogEntry {
  at: Date;
  msn: string | null;
  pspId: string | null;
  clientId: string | null;
  method: string;
  route: string;
  path: string;
  reference: string | null;
  status: number;
  latencyMs: number;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  body: unknown;
  problem: unknown;
  errorCode: number | null;
  fault: string | null;
  traceId: string;
}

/** A request_log row as read back (the columns of migration 004). */
export interface RequestLogRow {
  id: number;
  at: Date;
  msn: string | null;
  psp_id: string | null;
  client_id: string | null;
  method: string;
  route: string;
  path: string;
  reference: string | null;
  status: number;
  latency_ms: number;
  idempotency_key: string | null;
  headers: Record<string, string>;
  body: unknown;
  problem: unknown;
  error_code: number | null;
  fault: string | null;
  trace_id: string;
}

const COLUMNS = [
  'at',
  'msn',
  'psp_id',
  'client_id',
  'method',
  'route',
  'path',
  'reference',
  'status',
  'latency_ms',
  'idempotency_key',
  'headers',
  'body',
  'problem',
  'error_code',
  'fault',
  'trace_id',
] as const;

/**
 * One multi-row insert for a batch (the log is written in the background, off the request path). What a
 * client sent is stored whatever it holds: text PostgreSQL refuses is stored with U+FFFD in its place, so
 * that no entry fails the batch with the others in it.
 */
export async function insertRequestLog(db: Queryable, entries: RequestLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const params: unknown[] = [];
  const rows = entries.map((e) => {
    const values = [
      e.at,
      e.msn,
      e.pspId,
      e.clientId,
      e.method,
      e.route,
      storableText(e.path),
      e.reference === null ? null : storableText(e.reference),
      e.status,
      e.latencyMs,
      e.idempotencyKey === null ? null : storableText(e.idempotencyKey),
      json(e.headers),
      json(e.body),
      json(e.problem),
      e.errorCode,
      e.fault,
      e.traceId,
    ];
    const placeholders = values.map((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  await db.query(`insert into request_log (${COLUMNS.join(', ')}) values ${rows.join(', ')}`, params);
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(storableCopy(value)));

export async function pruneRequestLog(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query('delete from request_log where at < $1', [before]);
  return rowCount;
}
