/**
 * Webhook delivery across real server processes (`scripts/node packages/server/src/main.ts start`),
 * each with its background dispatcher. On PostgreSQL (DATABASE_URL set): two processes share a fresh
 * database, deliver every event exactly once to a healthy receiver, and when the process holding a
 * delivery is killed, the other one delivers it. On PGlite, whose data directory belongs to one process:
 * one process delivers every event exactly once, and when it is killed mid-delivery, the restarted
 * process delivers what was in flight.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { demoSalesUnits } from '../src/seed.ts';
import { createTestDatabase, type TestDatabase } from './support/testDatabase.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const root = new URL('../../..', import.meta.url).pathname;
const NO = demoSalesUnits[0] as (typeof demoSalesUnits)[number];
const onPostgres = Boolean(process.env.DATABASE_URL);

/** One `kassa start` process and a small client for its API. */
class KassaProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output = '';
  #token: string | undefined;

  private constructor(child: ChildProcess, url: string) {
    this.child = child;
    this.url = url;
  }

  static async start(env: Record<string, string>): Promise<KassaProcess> {
    const child = spawn(join(root, 'scripts/node'), [join(root, 'packages/server/src/main.ts'), 'start'], {
      cwd: root,
      // A 2 s receiver deadline keeps the claim of a killed process short (twice the deadline + 5 s).
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        KASSA_RATE_LIMITS: 'off',
        KASSA_WEBHOOK_TIMEOUT_MS: '2000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kassa start did not come up in 90 s:\n${output}`)), 90_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Kassa is running at (http:\/\/[\d.:]+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kassa start exited with ${code}:\n${output}`));
      });
    });
    const process_ = new KassaProcess(child, url);
    process_.output = output;
    child.stdout?.on('data', (chunk: Buffer) => {
      process_.output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      process_.output += chunk.toString();
    });
    return process_;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  // biome-ignore lint/suspicious/noExplicitAny: API JSON, read field by field in the assertions
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    this.#token ??= (
      (await (
        await fetch(`${this.url}/accesstoken/get`, {
          method: 'POST',
          headers: { client_id: NO.clientId, client_secret: NO.clientSecret, 'Ocp-Apim-Subscription-Key': NO.subscriptionKey },
        })
      ).json()) as { access_token: string }
    ).access_token;
    const response = await fetch(this.url + path, {
      method,
      headers: {
        Authorization: `Bearer ${this.#token}`,
        'Ocp-Apim-Subscription-Key': NO.subscriptionKey,
        'Merchant-Serial-Number': NO.msn,
        'Idempotency-Key': crypto.randomUUID(),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async createPayment(): Promise<string> {
    const reference = `multi-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    const reply = await this.call('POST', '/epayment/v1/payments', {
      amount: { currency: 'NOK', value: 10000 },
      paymentMethod: { type: 'WALLET' },
      reference,
      userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/return',
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reference;
  }

  async approve(reference: string): Promise<void> {
    assert.equal((await this.call('POST', `/epayment/v1/test/payments/${reference}/approve`, {})).status, 200);
  }

  async capture(reference: string, value: number): Promise<void> {
    const reply = await this.call('POST', `/epayment/v1/payments/${reference}/capture`, { modificationAmount: { currency: 'NOK', value } });
    assert.equal(reply.status, 200);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  /** A clean stop (SIGTERM: the dispatcher hands back its claims). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

let database: TestDatabase | undefined;
let dataDir: string;
let env: Record<string, string>;
const running: KassaProcess[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kassa-webhooks-'));
  env = { KASSA_DATA_DIR: dataDir, DATABASE_URL: '' };
  if (onPostgres) {
    database = await createTestDatabase();
    env.DATABASE_URL = database.url as string;
  }
});
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startKassa(): Promise<KassaProcess> {
  const started = await KassaProcess.start(env);
  running.push(started);
  return started;
}

/** The attempts of one payment, from a process's control API. */
async function attemptsOf(server: KassaProcess, reference: string): Promise<Array<{ worker: string; outcome: string; eventType: string }>> {
  const reply = await server.call('GET', `/kassa/v1/webhooks/attempts?reference=${reference}&limit=1000`);
  assert.equal(reply.status, 200);
  return reply.body.attempts;
}

/** Retries `check` until it passes (for state another process writes a moment later), at most 10 s. */
async function eventually(check: () => Promise<void>): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const EVENTS = ['epayments.payment.created.v1', 'epayments.payment.authorized.v1', 'epayments.payment.captured.v1'];

test(
  onPostgres
    ? 'two processes on one PostgreSQL deliver every event exactly once to a healthy receiver, in order'
    : 'one process on PGlite delivers every event exactly once to a healthy receiver, in order',
  async () => {
    const first = await startKassa();
    const servers = onPostgres ? [first, await startKassa()] : [first];
    const receiver = await WebhookReceiver.start({ answer: () => ({ status: 200, delayMs: 20 }) });
    const registered = await first.call('POST', '/webhooks/v1/webhooks', { url: receiver.url, events: EVENTS });
    assert.equal(registered.status, 201);
    try {
      const pick = (i: number) => servers[i % servers.length] as KassaProcess;
      const references = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const reference = await pick(i).createPayment();
          await pick(i + 1).approve(reference);
          await pick(i).capture(reference, 1000 + i);
          return reference;
        }),
      );
      await receiver.waitFor('48 webhooks', (r) => r.accepted.length >= references.length * 3, 60_000);
      for (const reference of references) assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED', 'CAPTURED'], reference);
      // Exactly once: no event was sent twice, by the same process or by both.
      const keys = receiver.requests.map((r) => `${r.body.reference}/${r.body.pspReference}`);
      assert.equal(new Set(keys).size, keys.length, 'no event was delivered twice');
      assert.equal(keys.length, references.length * 3);

      await eventually(async () => {
        const workers = new Set<string>();
        let recorded = 0;
        for (const reference of references) {
          for (const attempt of await attemptsOf(first, reference)) {
            workers.add(attempt.worker.split('-')[0] as string);
            recorded += 1;
          }
        }
        assert.equal(recorded, references.length * 3, 'one attempt per event');
        assert.deepEqual([...workers].sort(), servers.map((s) => String(s.pid)).sort(), 'every process took its share of the deliveries');
      });
    } finally {
      await first.call('DELETE', `/webhooks/v1/webhooks/${registered.body.id}`);
      await receiver.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
);

test(
  onPostgres
    ? 'killing the process that is delivering an event loses nothing: the other process delivers it, then the later events'
    : 'killing the process mid-delivery loses nothing: restarted on the same data, it delivers the event, then the later events',
  async () => {
    let hangFor = '';
    const receiver = await WebhookReceiver.start({
      answer: (request) => {
        if (request.body?.reference === hangFor && request.body.name === 'CREATED') {
          hangFor = '';
          return { hang: true };
        }
        return { status: 200 };
      },
    });
    const servers = onPostgres ? [await startKassa(), await startKassa()] : [await startKassa()];
    const first = servers[0] as KassaProcess;
    const registered = await first.call('POST', '/webhooks/v1/webhooks', { url: receiver.url, events: EVENTS });
    assert.equal(registered.status, 201);
    try {
      const reference = `multi-kill-${Date.now().toString(36)}`;
      hangFor = reference;
      const created = await first.call('POST', '/epayment/v1/payments', {
        amount: { currency: 'NOK', value: 10000 },
        paymentMethod: { type: 'WALLET' },
        reference,
        userFlow: 'WEB_REDIRECT',
        returnUrl: 'https://shop.example/return',
      });
      assert.equal(created.status, 201);
      await receiver.waitFor('the CREATED webhook to hang', (r) => r.openRequests === 1, 30_000);

      // Which process holds the delivery: its claim names its pid.
      let holder: KassaProcess;
      if (onPostgres) {
        const client = new pg.Client({ connectionString: env.DATABASE_URL });
        await client.connect();
        const { rows } = await client.query("select leased_by from webhook_deliveries where reference = $1 and state = 'pending'", [
          reference,
        ]);
        await client.end();
        const pid = Number(String(rows[0]?.leased_by).split('-')[0]);
        holder = servers.find((s) => s.pid === pid) as KassaProcess;
        assert.ok(holder, `the delivery is claimed by a running process (${rows[0]?.leased_by})`);
      } else {
        holder = first;
      }
      const other = servers.find((s) => s !== holder);
      // A later event of the same payment, committed while the first one hangs: it must wait its turn.
      await (other ?? holder).approve(reference);
      await holder.kill();

      const survivor = other ?? (await startKassa());
      await receiver.waitFor('CREATED and AUTHORIZED after the kill', (r) => r.namesFor(reference).length === 2, 45_000);
      assert.deepEqual(receiver.namesFor(reference), ['CREATED', 'AUTHORIZED']);
      // The killed process never answered the receiver's first request; the event was sent again by
      // the survivor and accepted once. That is the only duplicate the receiver saw.
      const ofPayment = receiver.requests.filter((r) => r.body?.reference === reference).map((r) => r.body.name);
      assert.deepEqual(ofPayment, ['CREATED', 'CREATED', 'AUTHORIZED']);
      // The receiver has the event a moment before the survivor has recorded its answer.
      await eventually(async () => {
        const attempts = await attemptsOf(survivor, reference);
        assert.deepEqual(attempts.map((a) => [a.eventType, a.outcome]).reverse(), [
          ['epayments.payment.created.v1', 'delivered'],
          ['epayments.payment.authorized.v1', 'delivered'],
        ]);
        assert.ok(attempts.every((a) => Number(a.worker.split('-')[0]) === survivor.pid));
      });
      await survivor.call('DELETE', `/webhooks/v1/webhooks/${registered.body.id}`);
    } finally {
      await receiver.close();
    }
  },
);
