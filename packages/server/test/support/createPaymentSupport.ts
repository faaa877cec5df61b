/**
 * Helpers for the create-payment tests: request bodies, the create call itself, the 201 check against
 * the OpenAPI, sales units and PSP key sets of a test's own, users and QR check-in tokens.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { digest } from '../../src/auth/credentials.ts';
import type { TestUser } from '../../src/customer/testUsers.ts';
import { marketCurrency, type SalesUnitSettings } from '../../src/payments/salesUnits.ts';
import type { Market } from '../../src/payments/types.ts';
import type { DemoSalesUnit } from '../../src/seed.ts';
import { insertKeySet, upsertSalesUnit } from '../../src/store/merchantsStore.ts';
import { upsertUser } from '../../src/store/usersStore.ts';
import { assertMatchesOpenApi } from './openapi.ts';
import { NO, newReference, type Reply, type TestServer } from './testServer.ts';

export const PAYMENTS = '/epayment/v1/payments';
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type Unit = DemoSalesUnit & { pspId?: string };

export const currencyOf = (unit: Pick<DemoSalesUnit, 'market'>) => marketCurrency[unit.market];

/** A minimal valid WEB_REDIRECT body for `unit`, with `fields` merged over it. */
export function bodyFor(unit: Unit = NO, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const reference = (fields.reference as string | undefined) ?? newReference('create');
  return {
    amount: { currency: currencyOf(unit), value: 10000 },
    paymentMethod: { type: 'WALLET' },
    reference,
    userFlow: 'WEB_REDIRECT',
    returnUrl: `https://shop.example/return?reference=${reference}`,
    paymentDescription: 'One pair of socks',
    ...fields,
  };
}

export interface CreateOptions {
  unit?: Unit;
  /** A fresh key unless given. */
  key?: string;
  /** Send this text as the body instead of `body`. */
  raw?: string;
  headers?: Record<string, string>;
}

/** POST /epayment/v1/payments with `body` (or `raw`). PSP units send their Psp-Id. */
export function create(server: TestServer, body: unknown, options: CreateOptions = {}): Promise<Reply> {
  const unit: Unit = options.unit ?? NO;
  return server.call('POST', PAYMENTS, {
    unit,
    idempotencyKey: options.key ?? randomUUID(),
    ...(options.raw !== undefined ? { raw: options.raw } : { body }),
    headers: { ...(unit.pspId ? { 'Psp-Id': unit.pspId } : {}), ...options.headers },
  });
}

/** 201, JSON, the published CreatePaymentResponse, echoing `reference`. */
export function assertCreated(reply: Reply, reference: string): void {
  assert.equal(reply.status, 201, reply.text);
  assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8');
  assertMatchesOpenApi('POST', PAYMENTS, 201, reply.body);
  assert.equal(reply.body.reference, reference);
}

/** GET the payment, checked against the OpenAPI. */
export async function getPayment(server: TestServer, reference: string, unit: Unit = NO): Promise<Reply> {
  const path = `${PAYMENTS}/${reference}`;
  const reply = await server.call('GET', path, { unit, headers: unit.pspId ? { 'Psp-Id': unit.pspId } : {} });
  assertMatchesOpenApi('GET', path, reply.status, reply.body);
  return reply;
}

/** GET the event log, checked against the OpenAPI. */
export async function getEvents(server: TestServer, reference: string, unit: Unit = NO): Promise<Reply> {
  const path = `${PAYMENTS}/${reference}/events`;
  const reply = await server.call('GET', path, { unit, headers: unit.pspId ? { 'Psp-Id': unit.pspId } : {} });
  assertMatchesOpenApi('GET', path, reply.status, reply.body);
  return reply;
}

/** A refused create left nothing behind: the reference is unknown (404, 5090). */
export async function assertNoPayment(server: TestServer, reference: string, unit: Unit = NO): Promise<void> {
  const reply = await getPayment(server, reference, unit);
  assert.equal(reply.status, 404, `payment ${reference} exists: ${reply.text}`);
}

let msnCounter = 0;

/**
 * A sales unit of the test's own with `settings`, and a key set reaching it — merchant keys, or PSP
 * keys with a Psp-Id — so approvals can be turned off without touching the demo units.
 */
export async function addUnit(
  server: TestServer,
  market: Market,
  settings: Partial<SalesUnitSettings> = {},
  kind: 'merchant' | 'psp' = 'merchant',
): Promise<Unit> {
  msnCounter += 1;
  const msn = String(200000 + ((process.pid * 97 + msnCounter) % 400000));
  const unit: Unit = {
    msn,
    name: `Create test unit ${msn}`,
    market,
    clientId: randomUUID(),
    clientSecret: randomBytes(24).toString('base64'),
    subscriptionKey: randomBytes(16).toString('hex'),
    ...(kind === 'psp' ? { pspId: randomBytes(16).toString('hex') } : {}),
  };
  await upsertSalesUnit(server.ctx.db, { msn, name: unit.name, market, currency: marketCurrency[market], settings });
  await insertKeySet(server.ctx.db, {
    clientId: unit.clientId,
    clientSecretHash: digest(unit.clientSecret),
    subscriptionKeyHash: digest(unit.subscriptionKey),
    kind,
    pspId: unit.pspId ?? null,
    msns: [msn],
  });
  return unit;
}

/** A test user of the test's own (e.g. one who cannot pay businesses, or a child). */
export async function addUser(server: TestServer, fields: Partial<TestUser> & Pick<TestUser, 'phone'>): Promise<TestUser> {
  const user: TestUser = {
    market: 'NO',
    firstName: 'Test',
    lastName: 'User',
    email: `${fields.phone}@example.no`,
    birthDate: '1980-01-01',
    nin: '01018012345',
    address: { addressLine1: 'Gata 1', addressLine2: '', city: 'Oslo', postCode: '0150', country: 'NO' },
    cards: [
      {
        id: 'visa',
        type: 'VISA_DEBIT',
        bin8: '47969400',
        last4: '9999',
        expiry: '12/29',
        issuedIn: 'NO',
        outcome: 'approve',
        guaranteeDays: 7,
      },
    ],
    canPayBusinesses: true,
    ...fields,
  };
  await upsertUser(server.ctx.db, user);
  return user;
}

/** A QR check-in customer token (platform-guidelines §12.2), as the QR API would have stored it. */
export async function addCustomerToken(server: TestServer, msn: string, phone: string, expiresAt: Date): Promise<string> {
  const token = `ct-${randomUUID()}`;
  await server.ctx.db.query('insert into customer_tokens (token, msn, phone, expires_at) values ($1, $2, $3, $4)', [
    token,
    msn,
    phone,
    expiresAt,
  ]);
  return token;
}

/** An RFC 3339 instant `ms` after the server's clock. */
export function inFuture(server: TestServer, ms: number): string {
  return new Date(server.clock.nowMs() + ms).toISOString();
}

/** A receipt in `currency` with one line, as long-living payments require. */
export function receiptIn(currency: string) {
  return {
    orderLines: [{ name: 'Socks', id: 'sku-1', totalAmount: 10000, totalAmountExcludingTax: 8000, totalTaxAmount: 2000, taxRate: 2500 }],
    bottomLine: { currency, receiptNumber: '1001' },
  };
}
