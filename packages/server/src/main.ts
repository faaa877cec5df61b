/** The `kassa` command line: start, migrate, merchants, users. */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { digest, newCredentials } from './auth/credentials.ts';
import { reportCommand, reportUsage } from './checklist/reportCommand.ts';
import { loadConfig } from './config.ts';
import { testUsers } from './customer/testUsers.ts';
import { formatUsers } from './customer/usersListing.ts';
import { marketCurrency } from './payments/salesUnits.ts';
import type { Market } from './payments/types.ts';
import { demoPsp } from './psp/demoPsp.ts';
import { createPspCommand } from './psp/pspCommand.ts';
import { demoSalesUnits } from './seed.ts';
import { prepareDatabase, startServer } from './server.ts';
import { findSalesUnit, insertKeySet, listSalesUnits, upsertSalesUnit } from './store/merchantsStore.ts';
import { openDatabase } from './store/openDatabase.ts';
import { forkWorkers, isWorkerProcess } from './workers.ts';

const usage = `kassa — the ePayment platform you run yourself

  kassa start [--workers N]        start the server (PORT, HOST, DATABASE_URL, KASSA_DATA_DIR, KASSA_MODE);
                                   --workers N runs N processes on one PostgreSQL (or KASSA_WORKERS=N)
  kassa migrate                    apply database migrations (and the test-mode seed) and exit
  kassa merchants create --name N --market NO|DK|FI [--msn 123456]
                                   add a sales unit with fresh, random credentials (printed once)
  kassa merchants list             list sales units
  kassa psps create --psp-id ID [--msn 123456 ...]
                                   add a PSP (card passthrough) with fresh credentials (printed once)
  kassa users                      list the test users and their cards
${reportUsage}`;

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await prepareDatabase(db, config);
    return await work(db);
  } finally {
    await db.close();
  }
}

async function start(args: string[]): Promise<void> {
  const config = loadConfig();
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } } });
  const workers = Number(values.workers ?? process.env.KASSA_WORKERS ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a whole number ≥ 1');
  if (isWorkerProcess()) {
    const server = await startServer(config);
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', () => {});
    return;
  }
  let url: string;
  let where: string;
  let stopServer: (() => Promise<void>) | undefined;
  if (workers > 1) {
    // Migrate and seed once before the workers race to do it.
    await withDatabase(async () => {});
    url = await forkWorkers(config, workers, (line) => process.stderr.write(`${line}\n`));
    where = `PostgreSQL, ${workers} worker processes`;
  } else {
    const server = await startServer(config);
    url = server.url;
    where = server.ctx.db.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
    stopServer = () => server.close();
  }
  const lines = ['', `Kassa is running at ${url} (${config.mode} mode, ${where})`];
  if (config.mode === 'test') {
    lines.push('', 'Demo sales units (test mode):');
    for (const unit of demoSalesUnits) {
      lines.push(
        `  MSN ${unit.msn} ${unit.market} ${marketCurrency[unit.market]}  client_id=${unit.clientId}  client_secret=${unit.clientSecret}  Ocp-Apim-Subscription-Key=${unit.subscriptionKey}`,
      );
    }
  }
  if (config.mode === 'test') {
    lines.push(
      '',
      'Demo PSP (test mode, CARD_PASSTHROUGH; docs/psp.md):',
      `  Psp-Id=${demoPsp.pspId}  client_id=${demoPsp.clientId}  client_secret=${demoPsp.clientSecret}  Ocp-Apim-Subscription-Key=${demoPsp.subscriptionKey}  onboarded MSN ${demoPsp.msns.join(', ')} NO NOK`,
    );
  }
  lines.push('', `Rate limits ${config.rateLimits ? 'on' : 'off'}. Health: ${url}/health`, '');
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!stopServer) return;
  const stop = async () => {
    await stopServer?.();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function createMerchant(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, market: { type: 'string' }, msn: { type: 'string' } } });
  const market = (values.market ?? 'NO').toUpperCase() as Market;
  if (!(market in marketCurrency)) throw new Error('--market must be NO, DK or FI');
  if (values.msn !== undefined && !/^[0-9]{4,7}$/.test(values.msn)) throw new Error('--msn must be 4–7 digits');
  const credentials = newCredentials();
  const created = await withDatabase(async (db) => {
    let msn = values.msn;
    while (!msn || (!values.msn && (await findSalesUnit(db, msn)))) msn = String(randomInt(100000, 1000000));
    if (values.msn && (await findSalesUnit(db, msn))) throw new Error(`sales unit ${msn} already exists`);
    const name = values.name ?? `Sales unit ${msn}`;
    await db.transaction(async (tx) => {
      await upsertSalesUnit(tx, { msn: msn as string, name, market, currency: marketCurrency[market] });
      await insertKeySet(tx, {
        clientId: credentials.clientId,
        clientSecretHash: digest(credentials.clientSecret),
        subscriptionKeyHash: digest(credentials.subscriptionKey),
        kind: 'merchant',
        pspId: null,
        msns: [msn as string],
      });
    });
    return { msn, name };
  });
  process.stdout.write(
    `${JSON.stringify({ ...created, market, currency: marketCurrency[market], client_id: credentials.clientId, client_secret: credentials.clientSecret, subscription_key: credentials.subscriptionKey }, null, 2)}\n` +
      'The secret and subscription key are stored hashed and cannot be shown again.\n',
  );
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'start':
    case undefined:
      return start([sub, ...rest].filter((arg): arg is string => arg !== undefined));
    case 'migrate':
      await withDatabase(async () => {});
      process.stdout.write('Migrations applied.\n');
      return;
    case 'merchants':
      if (sub === 'create') return createMerchant(rest);
      if (sub === 'list') {
        const units = await withDatabase((db) => listSalesUnits(db));
        for (const unit of units) process.stdout.write(`${unit.msn}\t${unit.market}\t${unit.currency}\t${unit.name}\n`);
        return;
      }
      break;
    case 'psps':
      if (sub === 'create') {
        process.stdout.write(await createPspCommand(rest, withDatabase));
        return;
      }
      break;
    case 'report':
      process.exitCode = await reportCommand(argv.slice(1), {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        env: process.env,
        fetch,
      });
      return;
    case 'users': {
      // The users test mode seeds, read from the code rather than the store, so that the list is at hand
      // while a server holds the embedded store.
      const users = [...testUsers].sort((a, b) => a.market.localeCompare(b.market) || a.phone.localeCompare(b.phone));
      process.stdout.write(formatUsers(users, new Date(), loadConfig().publicUrl));
      return;
    }
    case 'help':
    case '--help':
      process.stdout.write(usage);
      return;
  }
  process.stderr.write(usage);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`kassa: ${error.message}\n`);
  process.exit(1);
});
