import { resolve } from 'node:path';

export type Mode = 'test' | 'production';

export interface Config {
  mode: Mode;
  port: number;
  host: string;
  /** PostgreSQL connection string; undefined selects the embedded PGlite store in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Base URL that customer-facing links (redirectUrl, QR images) point at. */
  publicUrl: string;
  /** Scheme of the wallet app's native links (the platform's `vipps://` / `vippsMT://`). */
  appScheme: string;
  rateLimits: boolean;
  logLevel: string;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Webhook receiver deadline (platform-guidelines §4.5: 10 s); shorter only to test timeouts quickly. */
  webhookTimeoutMs: number;
  /** Webhook attempts one process runs at once. */
  webhookConcurrency: number;
  /** PostgreSQL connections per process; unset: sized to the machine (store/postgresDatabase.ts). */
  databasePoolSize: number | undefined;
  /** Days of real time the request log keeps a call (KASSA_REQUEST_LOG_DAYS). */
  requestLogRetentionDays: number;
  /**
   * KASSA_ADMIN_TOKEN: opens the dashboard and the checklist report to whoever sends it (docs/dashboard.md).
   * Without it the dashboard is open to loopback callers in test mode and closed (404) otherwise.
   */
  adminToken: string | undefined;
  /** How long a PSP card callback may take (epayment-api §17.3: 20 s); shorter only to test timeouts quickly. */
  cardCallbackTimeoutMs: number;
}

/** Reads the environment into one typed object; every default is here. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const mode = env.KASSA_MODE ?? 'test';
  if (mode !== 'test' && mode !== 'production') throw new Error(`KASSA_MODE must be "test" or "production", not "${mode}"`);
  const port = Number(env.PORT ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not "${env.PORT}"`);
  const host = env.HOST ?? '127.0.0.1';
  const rateLimits = env.KASSA_RATE_LIMITS ?? 'on';
  if (rateLimits !== 'on' && rateLimits !== 'off') throw new Error('KASSA_RATE_LIMITS must be "on" or "off"');
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    mode,
    port,
    host,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.KASSA_DATA_DIR ?? '.kassa'),
    publicUrl: (env.KASSA_PUBLIC_URL ?? `http://${publicHost}:${port}`).replace(/\/$/, ''),
    appScheme: env.KASSA_APP_SCHEME ?? 'kassa',
    rateLimits: rateLimits === 'on',
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimit: Number(env.KASSA_BODY_LIMIT ?? 1024 * 1024),
    webhookTimeoutMs: positiveInteger(env, 'KASSA_WEBHOOK_TIMEOUT_MS', 10_000),
    webhookConcurrency: positiveInteger(env, 'KASSA_WEBHOOK_CONCURRENCY', 128),
    databasePoolSize: env.KASSA_DB_POOL ? positiveInteger(env, 'KASSA_DB_POOL', 0) : undefined,
    requestLogRetentionDays: positiveInteger(env, 'KASSA_REQUEST_LOG_DAYS', 14),
    adminToken: env.KASSA_ADMIN_TOKEN || undefined,
    cardCallbackTimeoutMs: positiveInteger(env, 'KASSA_CARD_CALLBACK_TIMEOUT_MS', 20_000),
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not "${env[name]}"`);
  return value;
}
