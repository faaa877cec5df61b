import type { Database } from './database.ts';
import { openPgliteDatabase } from './pgliteDatabase.ts';
import { openPostgresDatabase } from './postgresDatabase.ts';

/** PostgreSQL when a connection string is given, the embedded PGlite store otherwise. */
export function openDatabase(options: { databaseUrl?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  return options.databaseUrl ? openPostgresDatabase(options.databaseUrl, options.poolSize) : openPgliteDatabase(options.dataDir);
}
