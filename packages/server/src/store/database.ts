/** The one interface the rest of the server sees; PGlite and PostgreSQL both implement it. */
export interface Queryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: Row[]; rowCount: number }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface QueryOptions {
  /**
   * Inside a transaction on PostgreSQL: this is the transaction's last statement, and its COMMIT goes
   * out with it, in the same round trip (a statement that fails turns that COMMIT into a rollback, and
   * its error is what the transaction throws). Elsewhere it changes nothing: the transaction commits
   * when its work returns, as always.
   */
  commit?: boolean;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `work` in one transaction; rolls back when it throws. `lockTimeout` (e.g. '2s') bounds how
   * long a statement waits for a row lock (PostgreSQL; PGlite has one connection and never waits).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options?: { lockTimeout?: string }): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Both stores' transactions refuse a statement after the one that carried the COMMIT (QueryOptions.commit). */
export function refuseAfterCommit(committed: boolean): void {
  if (committed) throw new Error('A statement after the transaction committed.');
}

/** PostgreSQL error codes the server reacts to. */
export const PgError = {
  uniqueViolation: '23505',
  lockNotAvailable: '55P03',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
