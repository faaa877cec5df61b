/**
 * Bounded lifecycle load for the scale and crash tests: concurrent payments going create → approve →
 * get → partial capture → capture → refund → events against a running server, remembering every
 * request the server acknowledged (2xx) so a test can check afterwards that each one is durable.
 */
import { randomUUID } from 'node:crypto';
import type { DemoSalesUnit } from '../../src/seed.ts';
import type { Queryable } from '../../src/store/database.ts';

export interface Acknowledged {
  reference: string;
  operation: 'create' | 'approve' | 'capture' | 'refund';
  idempotencyKey: string | null;
  amount: number;
}

export interface LoadOutcome {
  acknowledged: Acknowledged[];
  lifecycles: number;
  /** Requests that failed with a status the lifecycle did not expect (should be none). */
  unexpected: string[];
  /** Requests that got no answer (connection reset while the server was killed): unknown outcome. */
  unanswered: number;
}

export interface LoadOptions {
  baseUrl: string;
  unit: DemoSalesUnit;
  concurrency: number;
  /** Stop starting new lifecycles after this many ms or when `stop()` says so. */
  durationMs: number;
  stop?: () => boolean;
}

export async function runLifecycleLoad(options: LoadOptions): Promise<LoadOutcome> {
  const { unit, baseUrl } = options;
  const tokenResponse = await fetch(`${baseUrl}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: unit.clientId, client_secret: unit.clientSecret, 'Ocp-Apim-Subscription-Key': unit.subscriptionKey },
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const outcome: LoadOutcome = { acknowledged: [], lifecycles: 0, unexpected: [], unanswered: 0 };
  const headers = (key?: string) => ({
    Authorization: `Bearer ${token}`,
    'Ocp-Apim-Subscription-Key': unit.subscriptionKey,
    'Merchant-Serial-Number': unit.msn,
    'Content-Type': 'application/json',
    ...(key ? { 'Idempotency-Key': key } : {}),
  });
  const currency = unit.market === 'NO' ? 'NOK' : unit.market === 'DK' ? 'DKK' : 'EUR';

  /** One call; returns false when the lifecycle cannot go on. */
  async function step(ack: Omit<Acknowledged, 'idempotencyKey'> | null, method: string, path: string, key: string | null, body?: unknown) {
    let response: Response;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers: headers(key ?? undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await response.arrayBuffer();
    } catch {
      outcome.unanswered += 1;
      return false;
    }
    if (response.status >= 300) {
      outcome.unexpected.push(`${method} ${path} → ${response.status}`);
      return false;
    }
    if (ack) outcome.acknowledged.push({ ...ack, idempotencyKey: key });
    return true;
  }

  async function lifecycle(): Promise<void> {
    const reference = `load-${randomUUID()}`;
    const path = `/epayment/v1/payments/${reference}`;
    const amount = (value: number) => ({ modificationAmount: { currency, value } });
    const ok =
      (await step({ reference, operation: 'create', amount: 30000 }, 'POST', '/epayment/v1/payments', randomUUID(), {
        amount: { currency, value: 30000 },
        paymentMethod: { type: 'WALLET' },
        reference,
        userFlow: 'WEB_REDIRECT',
        returnUrl: `https://shop.example/return?reference=${reference}`,
        paymentDescription: 'Load test order',
      })) &&
      (await step(
        { reference, operation: 'approve', amount: 30000 },
        'POST',
        `/epayment/v1/test/payments/${reference}/approve`,
        null,
        {},
      )) &&
      (await step(null, 'GET', path, null)) &&
      (await step({ reference, operation: 'capture', amount: 10000 }, 'POST', `${path}/capture`, randomUUID(), amount(10000))) &&
      (await step({ reference, operation: 'capture', amount: 20000 }, 'POST', `${path}/capture`, randomUUID(), amount(20000))) &&
      (await step({ reference, operation: 'refund', amount: 5000 }, 'POST', `${path}/refund`, randomUUID(), amount(5000))) &&
      (await step(null, 'GET', `${path}/events`, null));
    if (ok) outcome.lifecycles += 1;
  }

  const deadline = Date.now() + options.durationMs;
  const running = () => Date.now() < deadline && !(options.stop?.() ?? false);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (running()) await lifecycle();
    }),
  );
  return outcome;
}

/** References whose aggregate differs from the sum of their event log, or that over-capture/over-refund (spec §11.2). */
export async function paymentsBreakingInvariants(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ reference: string }>(
    `select p.reference from payments p
       left join (
         select payment_id,
                coalesce(sum(amount) filter (where name = 'AUTHORIZED' and success), 0) as authorized,
                coalesce(sum(amount) filter (where name = 'CAPTURED' and success), 0) as captured,
                coalesce(sum(amount) filter (where name in ('CANCELLED', 'TERMINATED') and success), 0) as cancelled,
                coalesce(sum(amount) filter (where name = 'REFUNDED' and success), 0) as refunded
           from payment_events group by payment_id
       ) e on e.payment_id = p.id
      where coalesce(e.authorized, 0) <> p.authorized_amount
         or coalesce(e.captured, 0) <> p.captured_amount
         or coalesce(e.cancelled, 0) <> p.cancelled_amount
         or coalesce(e.refunded, 0) <> p.refunded_amount
         or (p.state = 'AUTHORIZED' and p.captured_amount + p.cancelled_amount > p.authorized_amount)
         or p.refunded_amount > p.captured_amount`,
  );
  return rows.map((row) => row.reference);
}

/** Acknowledged requests that left no trace in the database (must be none: an acknowledged request is durable). */
export async function lostAcknowledgements(db: Queryable, msn: string, acknowledged: Acknowledged[]): Promise<Acknowledged[]> {
  const { rows } = await db.query<{ reference: string; name: string; idempotency_key: string | null }>(
    'select reference, name, idempotency_key from payment_events where msn = $1 and success',
    [msn],
  );
  const seen = new Set(rows.map((row) => `${row.reference}|${row.name}|${row.idempotency_key ?? ''}`));
  const authorized = new Set(rows.filter((row) => row.name === 'AUTHORIZED').map((row) => row.reference));
  const eventOf = { create: 'CREATED', capture: 'CAPTURED', refund: 'REFUNDED' } as const;
  return acknowledged.filter((ack) =>
    ack.operation === 'approve'
      ? !authorized.has(ack.reference)
      : !seen.has(`${ack.reference}|${eventOf[ack.operation]}|${ack.idempotencyKey}`),
  );
}
