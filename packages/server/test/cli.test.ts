import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import { openPgliteDatabase } from '../src/store/pgliteDatabase.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';

const run = promisify(execFile);
const main = new URL('../src/main.ts', import.meta.url).pathname;

let database: TestDatabase | undefined;
let dataDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kassa-cli-'));
  env = { ...process.env, KASSA_DATA_DIR: dataDir, DATABASE_URL: '' };
  if (process.env.DATABASE_URL) {
    // A fresh database that the CLI process and the server below share.
    database = await createTestDatabase();
    env.DATABASE_URL = database.url;
  }
});
after(async () => {
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const kassa = (...args: string[]) => run(process.execPath, [main, ...args], { env, timeout: 60_000 });

test('`kassa merchants create` adds a sales unit whose random credentials work, stored hashed', async () => {
  const { stdout } = await kassa('merchants', 'create', '--name', 'Fjord Kaffe', '--market', 'DK', '--msn', '4455');
  const created = JSON.parse(stdout.slice(0, stdout.lastIndexOf('}') + 1));
  assert.equal(created.msn, '4455');
  assert.equal(created.currency, 'DKK');
  assert.match(created.client_id, /^[0-9a-f-]{36}$/);
  assert.match(created.subscription_key, /^[0-9a-f]{32}$/);

  const listed = await kassa('merchants', 'list');
  assert.match(listed.stdout, /4455\tDK\tDKK\tFjord Kaffe/);
  await assert.rejects(kassa('merchants', 'create', '--msn', '4455'), /already exists/);

  const config = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1' } as Record<string, string>);
  const server = await startServer(config, { logger: createLogger('silent'), background: false });
  try {
    const token = await fetch(`${server.url}/accesstoken/get`, {
      method: 'POST',
      headers: {
        client_id: created.client_id,
        client_secret: created.client_secret,
        'Ocp-Apim-Subscription-Key': created.subscription_key,
      },
    });
    assert.equal(token.status, 200);
    const { access_token } = (await token.json()) as { access_token: string };
    const payment = await fetch(`${server.url}/epayment/v1/payments`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${access_token}`,
        'Ocp-Apim-Subscription-Key': created.subscription_key,
        'Merchant-Serial-Number': '4455',
        'Content-Type': 'application/json',
        'Idempotency-Key': 'cli-1',
      },
      body: JSON.stringify({
        amount: { currency: 'DKK', value: 1500 },
        paymentMethod: { type: 'WALLET' },
        reference: 'fjord-kaffe-0001',
        userFlow: 'WEB_REDIRECT',
        returnUrl: 'https://fjord.example/return',
      }),
    });
    assert.equal(payment.status, 201);
    const { rows } = await server.ctx.db.query<{ client_secret_hash: string }>(
      'select client_secret_hash from key_sets where client_id = $1',
      [created.client_id],
    );
    assert.notEqual(rows[0]?.client_secret_hash, created.client_secret);
    assert.equal(rows[0]?.client_secret_hash.length, 64);
  } finally {
    await server.close();
  }
});

test('`kassa users` lists the test users with their cards', async () => {
  const { stdout } = await kassa('users');
  assert.match(stdout, /4791234567\tNO\tOla Nordmann/);
  assert.match(stdout, /4511223344\tDK/);
  assert.match(stdout, /358401234567\tFI/);
  assert.match(stdout, /declined/);
});

test('the embedded store serves one process: a second is refused while it is held, and takes over a lock its owner left behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-cli-lock-'));
  const embedded = (...args: string[]) =>
    run(process.execPath, [main, ...args], { env: { ...env, KASSA_DATA_DIR: dir, DATABASE_URL: '' }, timeout: 60_000 });
  try {
    const held = await openPgliteDatabase(dir);
    try {
      await assert.rejects(
        embedded('merchants', 'create', '--name', 'Beside the server', '--market', 'NO'),
        (error: Error & { stderr: string }) => {
          assert.match(error.stderr, new RegExp(`in use by process ${process.pid} \\(a running Kassa server\\)`));
          return true;
        },
      );
      // The test users come from the code, not the store.
      assert.match((await embedded('users')).stdout, /4791234567\tNO\tOla Nordmann/);
    } finally {
      await held.close();
    }
    assert.ok(!existsSync(join(dir, 'kassa.pid')), 'closing releases the lock');
    assert.doesNotMatch((await embedded('merchants', 'list')).stdout, /Beside the server/);

    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    writeFileSync(join(dir, 'kassa.pid'), String(gone));
    assert.match((await embedded('merchants', 'list')).stdout, /123456\tNO/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown command prints the usage and exits with 2', async () => {
  await assert.rejects(
    kassa('frobnicate'),
    (error: { code: number; stderr: string }) => error.code === 2 && /kassa start/.test(error.stderr),
  );
});
