/**
 * Helpers for tests of capture, refund, cancel, force approve and time: authorized payments, the
 * modification calls, Problem checks against the OpenAPI, and the "aggregate = sum of the event log"
 * check of spec §11.2.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { digest } from '../../src/auth/credentials.ts';
import { applyTransition } from '../../src/operations/applyTransition.ts';
import { withLockedPayment } from '../../src/operations/lockedPayment.ts';
import { marketCurrency, type SalesUnitSettings } from '../../src/payments/salesUnits.ts';
import { abortPayment } from '../../src/payments/stateMachine.ts';
import type { Market } from '../../src/payments/types.ts';
import type { DemoSalesUnit } from '../../src/seed.ts';
import { insertKeySet, upsertSalesUnit } from '../../src/store/merchantsStore.ts';
import { findPayment, updatePayment } from '../../src/store/paymentsStore.ts';
import { assertMatchesOpenApi } from './openapi.ts';
import { NO, type Reply, type TestServer } from './testServer.ts';

export const MINUTE = 60 * 1000;
export const DAY = 24 * 60 * MINUTE;

export const paymentPath = (reference: string) => `/epayment/v1/payments/${reference}`;
export const currencyOf = (unit: DemoSalesUnit) => marketCurrency[unit.market];
export const money = (unit: DemoSalesUnit, value: number) => ({ currency: currencyOf(unit), value });

export interface AggregateBody {
  authorizedAmount: { currency: string; value: number };
  capturedAmount: { currency: string; value: number };
  cancelledAmount: { currency: string; value: number };
  refundedAmount: { currency: string; value: number };
}

export interface EventBody {
  name: string;
  amount: { currency: string; value: number };
  idempotencyKey: string | null;
  success: boolean;
  pspReference: string;
  timestamp: string;
}

/** Creates a payment and force-approves it; returns its reference. */
export async function authorizedPayment(
  server: TestServer,
  value = 10000,
  unit: DemoSalesUnit = NO,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const created = await server.createPayment({ amount: money(unit, value), ...fields }, { unit });
  assert.equal(created.status, 201, created.text);
  const approved = await server.approve(created.reference, unit);
  assert.equal(approved.status, 200, approved.text);
  return created.reference;
}

export interface ModifyOptions {
  unit?: DemoSalesUnit;
  /** Defaults to a fresh key; `null` sends none. */
  key?: string | null;
  currency?: string;
}

export function capture(server: TestServer, reference: string, value: number, options: ModifyOptions = {}): Promise<Reply> {
  return modificationCall(server, 'capture', reference, value, options);
}

export function refund(server: TestServer, reference: string, value: number, options: ModifyOptions = {}): Promise<Reply> {
  return modificationCall(server, 'refund', reference, value, options);
}

function modificationCall(
  server: TestServer,
  operation: 'capture' | 'refund',
  reference: string,
  value: number,
  options: ModifyOptions,
): Promise<Reply> {
  const unit = options.unit ?? NO;
  const key = options.key === undefined ? randomUUID() : options.key;
  return server.call('POST', `${paymentPath(reference)}/${operation}`, {
    unit,
    ...(key === null ? { headers: { 'Idempotency-Key': '<none>' } } : { idempotencyKey: key }),
    body: { modificationAmount: { currency: options.currency ?? currencyOf(unit), value } },
  });
}

export interface CancelOptions {
  unit?: DemoSalesUnit;
  /** Cancel sends no key unless given one (it is optional there, open question 5). */
  key?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export function cancel(server: TestServer, reference: string, options: CancelOptions = {}): Promise<Reply> {
  return server.call('POST', `${paymentPath(reference)}/cancel`, {
    unit: options.unit ?? NO,
    ...(options.key ? { idempotencyKey: options.key } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.raw !== undefined ? { raw: options.raw } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

/** The platform's numeric code of a domain Problem, or null. */
export function errorCodeOf(reply: Reply): number | null {
  const detail = (reply.body?.extraDetails as { name: string; reason: string }[] | undefined)?.find((d) => d.name === 'ErrorCode');
  return detail ? Number(detail.reason) : null;
}

/** A Problem with this status and code, in the platform's shape and the published schema. */
export function assertProblem(reply: Reply, method: string, path: string, status: number, code: number): void {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assertMatchesOpenApi(method, path, status, reply.body);
  assert.deepEqual(reply.body.extraDetails, [{ name: 'ErrorCode', reason: String(code) }], reply.text);
  assert.equal(reply.body.status, status);
  assert.equal(reply.body.instance, path.replace(/^\/epayment/, ''));
}

/** A successful modification: 200, JSON, the published ModificationResponse. */
export function assertModified(reply: Reply, path: string): void {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8');
  assertMatchesOpenApi('POST', path, 200, reply.body);
}

export function values(aggregate: AggregateBody) {
  return {
    authorized: aggregate.authorizedAmount.value,
    captured: aggregate.capturedAmount.value,
    cancelled: aggregate.cancelledAmount.value,
    refunded: aggregate.refundedAmount.value,
  };
}

/** The aggregate as the event log tells it (§11.2): each figure is the sum of its successful events. */
export function totalsOf(events: Pick<EventBody, 'name' | 'amount' | 'success'>[]) {
  const sum = (...names: string[]) =>
    events.filter((e) => e.success && names.includes(e.name)).reduce((total, e) => total + e.amount.value, 0);
  return {
    authorized: sum('AUTHORIZED'),
    captured: sum('CAPTURED'),
    cancelled: sum('CANCELLED', 'TERMINATED'),
    refunded: sum('REFUNDED'),
  };
}

/**
 * Reads the payment and its events over HTTP, checks both against the OpenAPI, and asserts that the
 * aggregate equals the event log and keeps the invariants of §11.2. Returns what it read.
 */
export async function readConsistent(server: TestServer, reference: string, unit: DemoSalesUnit = NO) {
  const path = paymentPath(reference);
  const got = await server.call('GET', path, { unit });
  assert.equal(got.status, 200, got.text);
  assertMatchesOpenApi('GET', path, 200, got.body);
  const log = await server.call<EventBody[]>('GET', `${path}/events`, { unit });
  assert.equal(log.status, 200, log.text);
  assertMatchesOpenApi('GET', `${path}/events`, 200, log.body);
  const aggregate = values(got.body.aggregate);
  assert.deepEqual(aggregate, totalsOf(log.body), `aggregate vs events of ${reference}: ${JSON.stringify(log.body)}`);
  const amount = got.body.amount.value as number;
  switch (got.body.state) {
    case 'AUTHORIZED':
      assert.ok(aggregate.captured + aggregate.cancelled <= aggregate.authorized, JSON.stringify(aggregate));
      assert.ok(aggregate.refunded <= aggregate.captured, JSON.stringify(aggregate));
      break;
    case 'TERMINATED':
      assert.deepEqual(aggregate, { authorized: 0, captured: 0, cancelled: amount, refunded: 0 });
      break;
    default:
      assert.deepEqual(aggregate, { authorized: 0, captured: 0, cancelled: 0, refunded: 0 });
  }
  return { payment: got.body, events: log.body, aggregate };
}

/**
 * A sales unit of its own with the given settings and a key set reaching it, so a test can change
 * settings without touching the demo units other tests use.
 */
export async function addSalesUnit(server: TestServer, market: Market, settings: Partial<SalesUnitSettings>): Promise<DemoSalesUnit> {
  const msn = String(1000000 + randomBytes(3).readUIntBE(0, 3)).slice(0, 7);
  const unit: DemoSalesUnit = {
    msn,
    name: `Test unit ${msn}`,
    market,
    clientId: randomUUID(),
    clientSecret: randomBytes(24).toString('base64'),
    subscriptionKey: randomBytes(16).toString('hex'),
  };
  await upsertSalesUnit(server.ctx.db, { msn, name: unit.name, market, currency: marketCurrency[market], settings });
  await insertKeySet(server.ctx.db, {
    clientId: unit.clientId,
    clientSecretHash: digest(unit.clientSecret),
    subscriptionKeyHash: digest(unit.subscriptionKey),
    kind: 'merchant',
    pspId: null,
    msns: [msn],
  });
  return unit;
}

/**
 * The user rejects the payment in the app (spec §11.2 CREATED → ABORTED). The app simulator is not
 * part of these tests, so the same domain transition runs directly under the payment's lock.
 */
export async function rejectByUser(server: TestServer, reference: string, unit: DemoSalesUnit = NO): Promise<void> {
  const now = () => server.clock.now();
  await withLockedPayment(server.ctx.db, unit.msn, reference, now, (tx, payment) =>
    applyTransition(tx, abortPayment(payment, now()), now()),
  );
}

/**
 * Marks a CREATED payment as being inside authorization until `until` (card callback in flight, 3-D
 * Secure), as the PSP and app flows do.
 */
export async function markProcessing(server: TestServer, reference: string, until: Date, unit: DemoSalesUnit = NO): Promise<void> {
  const payment = await findPayment(server.ctx.db, unit.msn, reference);
  assert.ok(payment, `no payment ${reference}`);
  await updatePayment(server.ctx.db, { ...payment, processingUntil: until });
}
