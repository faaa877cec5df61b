/**
 * The SDK outside this repository: `npm run build` makes `dist` a package of its own (JavaScript and
 * declarations, no dependencies), which a project installs and uses — here one in a temporary folder,
 * compiled with TypeScript strict against the declarations and run against a real Kassa.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { NO, newReference, startTestServer, type TestServer } from './support/kassa.ts';

const run = promisify(execFile);
const sdk = join(import.meta.dirname, '..');
const tsc = join(sdk, '../../node_modules/typescript/bin/tsc');

let server: TestServer;
let work: string;
before(async () => {
  server = await startTestServer();
  work = mkdtempSync(join(tmpdir(), 'kassa-sdk-dist-'));
});
after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

test('the built package installs in another project, type-checks there and creates a payment', async () => {
  const dist = join(work, 'dist');
  await run(process.execPath, [tsc, '-p', join(sdk, 'tsconfig.build.json'), '--outDir', dist]);
  await run(process.execPath, [join(sdk, 'scripts/writeDistPackage.ts'), dist]);
  const manifest = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8'));
  assert.deepEqual(manifest.exports, { '.': { types: './index.d.ts', default: './index.js' } });
  assert.equal(manifest.dependencies, undefined);

  const project = join(work, 'shop');
  mkdirSync(join(project, 'node_modules/@kassa'), { recursive: true });
  cpSync(dist, join(project, 'node_modules/@kassa/sdk'), { recursive: true });
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  const reference = newReference('dist');
  writeFileSync(
    join(project, 'pay.ts'),
    `import { createClient } from '@kassa/sdk';
const [baseUrl, clientId, clientSecret, subscriptionKey, merchantSerialNumber, reference] = process.argv.slice(2) as [string, string, string, string, string, string];
const client = createClient({ baseUrl, clientId, clientSecret, subscriptionKey, merchantSerialNumber, system: { name: 'dist-check', version: '1' } });
const created = await client.epayment.createPayment(
  { amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'WALLET' }, reference, userFlow: 'WEB_REDIRECT', returnUrl: 'https://shop.example/return' },
  { idempotencyKey: reference },
);
const payment = await client.epayment.getPayment(created.reference);
console.log(payment.state);
`,
  );
  await run(process.execPath, [
    tsc,
    '--strict',
    '--module',
    'nodenext',
    '--target',
    'es2023',
    '--types',
    'node',
    '--typeRoots',
    join(sdk, '../../node_modules/@types'),
    '--outDir',
    project,
    join(project, 'pay.ts'),
  ]);
  const { stdout } = await run(process.execPath, [
    join(project, 'pay.js'),
    server.url,
    NO.clientId,
    NO.clientSecret,
    NO.subscriptionKey,
    NO.msn,
    reference,
  ]);
  assert.equal(stdout.trim(), 'CREATED');
});
