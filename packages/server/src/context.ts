import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { FaultRules } from './control/faultRules.ts';
import type { Database } from './store/database.ts';

/** What every part of the server is built from; created once in app.ts, no globals. */
export interface ServerContext {
  config: Config;
  db: Database;
  clock: Clock;
  log: FastifyBaseLogger;
  /** HMAC key of access tokens, shared by every process on the database. */
  tokenKey: Uint8Array;
  /** Fault injection's rules; test mode only (control/faultRules.ts). */
  faults?: FaultRules;
}
