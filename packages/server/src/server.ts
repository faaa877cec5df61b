/** Starts a Kassa server: database, migrations, seed, HTTP app, background jobs. Used by main.ts and the tests. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { CallerCache } from './auth/callerCache.ts';
import { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { ServerContext } from './context.ts';
import { startTestControls } from './control/testControls.ts';
import type { RequestLogWriter } from './http/requestLog.ts';
import { startRequestLogRetention } from './http/requestLogRetention.ts';
import { createLogger } from './logger.ts';
import { startSweeper } from './operations/sweepDueTransitions.ts';
import { seedTestData } from './seed.ts';
import type { Database } from './store/database.ts';
import { serverSecret } from './store/merchantsStore.ts';
import { migrate } from './store/migrate.ts';
import { openDatabase } from './store/openDatabase.ts';
import { WebhookDispatcher } from './webhooks/webhookDispatcher.ts';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  ctx: ServerContext;
  cache: CallerCache;
  /** Delivers webhooks; in the background unless `background: false`, then by `deliverDue()`. */
  webhooks: WebhookDispatcher;
  /** The buffered request log; `flush()` writes what it holds (tests read the log after it). */
  requestLog: RequestLogWriter;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this database instead of opening one from the config (tests). */
  db?: Database;
  clock?: Clock;
  logger?: ReturnType<typeof createLogger>;
  /** Background jobs (sweeper); tests may run them by hand. */
  background?: boolean;
  /** Deliver webhooks in the background whatever `background` says (tests of the dispatcher itself). */
  backgroundWebhooks?: boolean;
}

export async function prepareDatabase(db: Database, config: Config): Promise<void> {
  await migrate(db);
  if (config.mode === 'test') await seedTestData(db);
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config.logLevel);
  const db =
    options.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize }));
  await prepareDatabase(db, config);
  const tokenKey = Buffer.from(await serverSecret(db, 'access-token-key', () => randomBytes(32).toString('base64')), 'base64');
  const ctx: ServerContext = { config: { ...config }, db, clock: options.clock ?? new Clock(), log, tokenKey };
  // Time control and fault injection exist in test mode only (docs/time-and-faults.md).
  const controls = config.mode === 'test' ? await startTestControls(ctx) : undefined;
  const webhooks = new WebhookDispatcher({
    db,
    clock: ctx.clock,
    log,
    mode: config.mode,
    timeoutMs: config.webhookTimeoutMs,
    concurrency: config.webhookConcurrency,
    beforeAttempt: controls?.beforeAttempt,
  });
  const { app, cache, requestLog } = buildApp(ctx, { onEvents: () => webhooks.wake() });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (config.port === 0 && !process.env.KASSA_PUBLIC_URL) ctx.config.publicUrl = `http://${config.host}:${port}`;
  const stopSweeper =
    options.background === false
      ? () => {}
      : startSweeper(
          db,
          ctx.clock,
          () => webhooks.wake(),
          (error) => log.error({ err: error }, 'sweeper failed'),
        );
  const stopRetention =
    options.background === false
      ? () => {}
      : startRequestLogRetention(db, ctx.clock, config.requestLogRetentionDays, (error) =>
          log.error({ err: error }, 'request log pruning failed'),
        );
  await ((options.backgroundWebhooks ?? options.background !== false) ? webhooks.start() : webhooks.prepare());
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    app,
    ctx,
    cache,
    webhooks,
    requestLog,
    async close() {
      stopSweeper();
      stopRetention();
      await webhooks.stop();
      await app.close();
      await requestLog.flush();
      await controls?.stop();
      if (!options.db) await db.close();
    },
  };
}
