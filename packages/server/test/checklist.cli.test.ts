/**
 * `kassa report` (a CI gate) and GET /kassa/v1/report: the command asks the running server, prints the
 * report as Markdown, JSON or HTML, and exits 0 when nothing is "not met", 1 when an item is, 2 when
 * there is no report. The endpoint refuses bad parameters with a Problem.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { ChecklistReport } from '../src/checklist/types.ts';
import { demoPsp } from '../src/psp/demoPsp.ts';
import { newSalesUnit, ScriptedIntegration } from './support/scriptedIntegration.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

const main = new URL('../src/main.ts', import.meta.url).pathname;
let server: TestServer;
let failingMsn: string;
let quietMsn: string;

/** Runs the real CLI; resolves with its exit code and output (a non-zero exit is an answer, not an error). */
function kassa(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { timeout: 60_000, env: { ...process.env, KASSA_ADMIN_TOKEN: '' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

before(async () => {
  server = await startTestServer();
  // A unit whose integration leaves out order details; a unit with no traffic yet.
  const unit = await newSalesUnit(server);
  const shop = new ScriptedIntegration(server, unit);
  await shop.create({ receipt: undefined });
  failingMsn = unit.msn;
  quietMsn = (await newSalesUnit(server)).msn;
  await server.requestLog.flush();
});
after(() => server?.close());

test('`kassa report` prints the Markdown report and exits 1 when an item is not met', async () => {
  const { code, stdout } = await kassa('report', '--msn', failingMsn, '--url', server.url, '--since', '1d');
  assert.equal(code, 1);
  assert.match(stdout, new RegExp(`^# Go-live checklist — MSN ${failingMsn}`));
  assert.match(stdout, /\*\*NOT PASSED — \d+ met, 3 not met, \d+ not exercised\*\*/);
  assert.match(stdout, /\| ❌ \| Endpoints integrated \| NOT MET \|/, 'one create is not every endpoint');
  assert.match(stdout, /\| ❌ \| Webhooks registered and answered \| NOT MET \|/);
  assert.match(stdout, /## ❌ Order details \(receipt\) added — NOT MET/);
  assert.match(stdout, /created without receipt or receiptUrl/);
});

test('`kassa report --format json` exits 0 when every item is met or not exercised', async () => {
  const { code, stdout } = await kassa('report', '--msn', quietMsn, '--url', server.url, '--format', 'json');
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as ChecklistReport;
  assert.equal(report.passed, true);
  assert.deepEqual(report.scope, { msn: quietMsn });
  assert.equal(report.items.length, 15);
  assert.ok(report.items.every((item) => item.status === 'not_exercised'));
});

test('`kassa report --format html` is a page that stands alone', async () => {
  const { code, stdout } = await kassa('report', '--msn', failingMsn, '--url', server.url, '--format', 'html');
  assert.equal(code, 1);
  assert.match(stdout, /^<!doctype html>/);
  assert.match(stdout, /<p class="verdict bad" data-passed="false">/);
});

test('`kassa report` without a report exits 2: no unit given, an unknown unit, no server', async () => {
  const missing = await kassa('report', '--url', server.url);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /give --msn/);
  const unknown = await kassa('report', '--msn', '9999999', '--url', server.url);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /404 Not Found — No sales unit 9999999/);
  const down = await kassa('report', '--msn', quietMsn, '--url', 'http://127.0.0.1:1');
  assert.equal(down.code, 2);
  assert.match(down.stderr, /cannot reach Kassa at http:\/\/127\.0\.0\.1:1/);
});

test('GET /kassa/v1/report refuses bad parameters with one 400 Problem naming each', async () => {
  const reply = await server.call('GET', '/kassa/v1/report?msn=12&format=pdf&since=yesterday&colour=red', { anonymous: true });
  assert.equal(reply.status, 400);
  assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.deepEqual(
    reply.body.extraDetails.map((d: { name: string }) => d.name),
    ['colour', 'msn', 'format'],
  );
  const since = await server.call('GET', `/kassa/v1/report?msn=${quietMsn}&since=yesterday`, { anonymous: true });
  assert.equal(since.status, 400);
  assert.equal(since.body.extraDetails[0].name, 'since');
  const none = await server.call('GET', '/kassa/v1/report', { anonymous: true });
  assert.equal(none.status, 400);
  assert.equal(none.body.extraDetails[0].name, 'msn');
});

test('GET /kassa/v1/report answers Markdown and says whether it passed in a header', async () => {
  const reply = await server.call('GET', `/kassa/v1/report?msn=${failingMsn}&format=md`, { anonymous: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('content-type'), 'text/markdown; charset=utf-8');
  assert.equal(reply.headers.get('x-checklist-passed'), 'false');
  assert.match(reply.text, /\| ❌ \| Order details \(receipt\) added \| NOT MET \|/);
});

test("a PSP's report covers the payments it created, for the PSP (its own keys) or an admin", async () => {
  const psp = { msn: demoPsp.msns[0] as string, name: demoPsp.salesUnitName, market: 'NO' as const, ...demoPsp };
  const headers = { 'Psp-Id': demoPsp.pspId };
  const created = await server.createPayment({}, { unit: psp, headers });
  assert.equal(created.status, 201, created.text);
  await server.requestLog.flush();
  const own = await server.call('GET', '/kassa/v1/report', { unit: psp, headers: { ...headers, 'X-Forwarded-For': '203.0.113.9' } });
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.body.scope, { pspId: demoPsp.pspId });
  assert.equal(own.body.items.find((i: { id: string }) => i.id === 'receipt').counts.payments, 1);
  const admin = await server.call('GET', `/kassa/v1/report?pspId=${demoPsp.pspId}&msn=${psp.msn}`, { anonymous: true });
  assert.equal(admin.status, 200);
  const unknown = await server.call('GET', '/kassa/v1/report?pspId=no-such-psp', { anonymous: true });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.detail, /No sales units for PSP no-such-psp/);
});

test('keys sent from the loopback speak for their own unit: its report without msn, 403 for another unit', async () => {
  const own = await server.call('GET', '/kassa/v1/report?format=json');
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.body.scope, { msn: NO.msn });
  const foreign = await server.call('GET', `/kassa/v1/report?msn=${DK.msn}`);
  assert.equal(foreign.status, 403, foreign.text);
  // Without keys the loopback is an admin (test mode), for any unit.
  assert.equal((await server.call('GET', `/kassa/v1/report?msn=${DK.msn}`, { anonymous: true })).status, 200);
});
