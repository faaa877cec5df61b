/**
 * The load generator, run as its own process by bench/run.ts so it does not share the server's CPU
 * budget accounting: drives concurrent payment lifecycles (or create-only load) against a base URL
 * and hosts the webhook receiver that measures delivery lag. Prints one JSON result on stdout.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { percentiles, Recorder } from './stats.ts';

interface Options {
  mode: 'lifecycles' | 'creates';
  baseUrl: string;
  concurrency: number;
  durationSeconds: number;
  /** Lifecycles started per second at most (0 = as fast as possible). */
  rate: number;
  /** Register a webhook to a local receiver and measure delivery lag. */
  webhooks: boolean;
  /** The target has no token endpoint and takes any Bearer token (Prism, the bare reference server). */
  tokenless?: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const unit = {
  clientId: 'kassa-demo-client',
  clientSecret: 'kassa-demo-secret',
  subscriptionKey: 'kassa-demo-subscription',
  msn: '123456',
};
const pool = new Pool(options.baseUrl, { connections: options.concurrency + 4, pipelining: 1 });
const recorder = new Recorder();

async function call(name: string, method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: unknown) {
  const started = performance.now();
  const response = await pool.request({ method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.body.text();
  const ms = performance.now() - started;
  if (response.statusCode >= 300) {
    recorder.error(name);
    throw new Error(`${name} → ${response.statusCode} ${text.slice(0, 300)}`);
  }
  recorder.record(name, ms);
  return text ? JSON.parse(text) : undefined;
}

async function accessToken(): Promise<string> {
  const body = await call('token', 'POST', '/accesstoken/get', {
    client_id: unit.clientId,
    client_secret: unit.clientSecret,
    'ocp-apim-subscription-key': unit.subscriptionKey,
  });
  return body.access_token;
}

function apiHeaders(token: string, idempotencyKey?: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'ocp-apim-subscription-key': unit.subscriptionKey,
    'merchant-serial-number': unit.msn,
    'content-type': 'application/json',
    'vipps-system-name': 'kassa-bench',
    'vipps-system-version': '1',
    'vipps-system-plugin-name': 'kassa-bench',
    'vipps-system-plugin-version': '1',
    ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
  };
}

function createBody(reference: string) {
  return {
    amount: { currency: 'NOK', value: 49900 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    paymentDescription: 'Benchmark order',
  };
}

async function lifecycle(): Promise<void> {
  const token = await accessToken();
  const reference = `bench-${randomUUID()}`;
  const path = `/epayment/v1/payments/${reference}`;
  await call('create', 'POST', '/epayment/v1/payments', apiHeaders(token, randomUUID()), createBody(reference));
  await call('approve', 'POST', `/epayment/v1/test/payments/${reference}/approve`, apiHeaders(token), {});
  await call('get', 'GET', path, apiHeaders(token));
  const amount = (value: number) => ({ modificationAmount: { currency: 'NOK', value } });
  await call('capture', 'POST', `${path}/capture`, apiHeaders(token, randomUUID()), amount(20000));
  await call('capture', 'POST', `${path}/capture`, apiHeaders(token, randomUUID()), amount(29900));
  await call('refund', 'POST', `${path}/refund`, apiHeaders(token, randomUUID()), amount(10000));
  const events = await call('events', 'GET', `${path}/events`, apiHeaders(token));
  if (!Array.isArray(events) || events.length !== 5) throw new Error(`expected 5 events, got ${JSON.stringify(events)}`);
  recorder.record('lifecycle', 0);
}

async function createOnly(token: string): Promise<void> {
  const reference = `bench-${randomUUID()}`;
  await call('create', 'POST', '/epayment/v1/payments', apiHeaders(token, randomUUID()), createBody(reference));
}

/** A webhook receiver on loopback; lag = arrival time − the event's timestamp (same machine clock). */
async function startReceiver() {
  const lags: number[] = [];
  let received = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received += 1;
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
        lags.push(Date.now() - Date.parse(event.timestamp));
      } catch {}
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/webhooks`, lags, received: () => received, close: () => server.close() };
}

async function main(): Promise<void> {
  const receiver = options.webhooks ? await startReceiver() : undefined;
  let registration: { id: string; token: string } | undefined;
  if (receiver) {
    const token = await accessToken();
    const registered = await call('register-webhook', 'POST', '/webhooks/v1/webhooks', apiHeaders(token, randomUUID()), {
      url: receiver.url,
      events: [
        'epayments.payment.created.v1',
        'epayments.payment.authorized.v1',
        'epayments.payment.captured.v1',
        'epayments.payment.refunded.v1',
      ],
    });
    registration = { id: registered.id, token };
  }
  const deadline = performance.now() + options.durationSeconds * 1000;
  const startedAt = performance.now();
  let started = 0;
  const sharedToken = options.mode !== 'creates' ? '' : options.tokenless ? 'any-token' : await accessToken();
  const failures: string[] = [];
  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      // Each worker takes its start slot before it waits for it: slots computed after the wait would let
      // every idle worker wake for the same slot, and the "rate" would be bursts at full concurrency.
      const slot = started++;
      if (options.rate > 0) {
        const due = startedAt + (slot / options.rate) * 1000;
        if (due >= deadline) return;
        if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      }
      try {
        await (options.mode === 'creates' ? createOnly(sharedToken) : lifecycle());
      } catch (error) {
        if (failures.length < 5) failures.push((error as Error).message);
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - startedAt) / 1000;
  // Every event of the run counts: wait until deliveries stop arriving (the outbox drained), then remove
  // the registration so the next phase does not inherit retries to a receiver that is gone.
  let drainMs = 0;
  if (receiver && registration) {
    const drainStarted = performance.now();
    let seen = -1;
    while (receiver.received() !== seen && performance.now() - drainStarted < 120_000) {
      seen = receiver.received();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    drainMs = Math.round(performance.now() - drainStarted - 1000);
    await call('delete-webhook', 'DELETE', `/webhooks/v1/webhooks/${registration.id}`, apiHeaders(registration.token));
  }
  const operations = recorder.summary(seconds);
  const writes = ['create', 'approve', 'capture', 'refund'].reduce((sum, name) => sum + (operations[name]?.count ?? 0), 0);
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      operations,
      lifecyclesPerSecond: (operations.lifecycle?.count ?? 0) / seconds,
      writesPerSecond: writes / seconds,
      failures,
      webhooks: receiver ? { received: receiver.received(), drainMs, lagMs: percentiles(receiver.lags) } : undefined,
    })}\n`,
  );
  receiver?.close();
  await pool.close();
}

await main();
