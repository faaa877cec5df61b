/**
 * Fault rules (test mode): what a rule is, how a request body becomes one, when it fires, and the
 * in-process copy of the rules that every API call and webhook delivery consults without a query.
 *
 * Determinism: a rule numbers the requests (or first delivery attempts) it matches, n = 1, 2, ..., in
 * the database, so every process draws from the same sequence; whether draw n fires depends only on
 * the rule and n: every `everyNth`-th draw, or when the seeded hash of (seed, n) falls below
 * `probability`. The same seed and the same order of requests give the same faults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Static, Type as T } from '@sinclair/typebox';
import { type FieldError, ValidationError } from '../errors.ts';
import { validatorFor } from '../http/validation.ts';
import { drawFaultRule, FAULTS_CHANNEL, listFaultRules, takeFault } from '../store/controlStore.ts';
import type { Database } from '../store/database.ts';
import { EPAYMENT_EVENT_TYPES } from '../webhooks/eventTypes.ts';
import {
  API_FAULT_KINDS,
  type FaultMatch,
  type FaultRule,
  type FaultTarget,
  isCaptureFault,
  type NewFaultRule,
  WEBHOOK_FAULT_KINDS,
} from './types.ts';

/** The SDK's operation names (packages/sdk) of the calls a rule can pick by `match.operation`. */
export const API_OPERATIONS: Readonly<Record<string, string>> = {
  'POST /epayment/v1/payments': 'createPayment',
  'GET /epayment/v1/payments/:reference': 'getPayment',
  'GET /epayment/v1/payments/:reference/events': 'getPaymentEvents',
  'POST /epayment/v1/payments/:reference/capture': 'capturePayment',
  'POST /epayment/v1/payments/:reference/refund': 'refundPayment',
  'POST /epayment/v1/payments/:reference/cancel': 'cancelPayment',
  'POST /webhooks/v1/webhooks': 'registerWebhook',
  'GET /webhooks/v1/webhooks': 'listWebhooks',
  'DELETE /webhooks/v1/webhooks/:id': 'deleteWebhook',
};
const OPERATION_NAMES = [...new Set(Object.values(API_OPERATIONS))];
const API_STATUSES = [429, 500, 502, 503, 504];
const MAX_DELAY_MS = 600_000;
/** Past the SDK's total timeout of 30 s (open question 27), so a client with default settings gives up. */
export const DEFAULT_TIMEOUT_HOLD_MS = 35_000;
/** How long a 'reorder' fault holds a delivery back at most when the payment has no later event. */
export const DEFAULT_REORDER_HOLD_MS = 10_000;

/** The methods of the APIs a fault can strike. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
/** The largest count the store keeps (a PostgreSQL integer). */
const MAX_COUNT = 2_147_483_647;

const MatchSchema = T.Object({
  method: T.Optional(T.String({ minLength: 1 })),
  route: T.Optional(T.String({ minLength: 1, maxLength: 200, pattern: '^/' })),
  operation: T.Optional(T.Unsafe<string>({ type: 'string', enum: OPERATION_NAMES })),
  eventType: T.Optional(T.Unsafe<string>({ type: 'string', enum: [...EPAYMENT_EVENT_TYPES] })),
});

export const FaultRuleRequestSchema = T.Object({
  msn: T.Optional(T.String({ pattern: '^[0-9]{4,7}$' })),
  target: T.Unsafe<FaultTarget>({ type: 'string', enum: ['api', 'webhook'] }),
  match: T.Optional(MatchSchema),
  kind: T.Unsafe<string>({ type: 'string', enum: [...API_FAULT_KINDS, ...WEBHOOK_FAULT_KINDS] }),
  when: T.Optional(T.Unsafe<'before' | 'after'>({ type: 'string', enum: ['before', 'after'] })),
  status: T.Optional(T.Integer()),
  retryAfterSeconds: T.Optional(T.Integer({ minimum: 0, maximum: 86_400 })),
  delayMs: T.Optional(T.Integer({ minimum: 1, maximum: MAX_DELAY_MS })),
  probability: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
  everyNth: T.Optional(T.Integer({ minimum: 1, maximum: MAX_COUNT })),
  count: T.Optional(T.Integer({ minimum: 1, maximum: MAX_COUNT })),
  seed: T.Optional(T.Union([T.String({ minLength: 1, maxLength: 100 }), T.Integer()])),
});
export type FaultRuleRequest = Static<typeof FaultRuleRequestSchema>;

function unknownFields(value: unknown, known: readonly string[], prefix = ''): FieldError[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ name: `${prefix}${key}`, reason: `Unknown field; the fields are ${known.join(', ')}.` }));
}

/**
 * The rule a POST /kassa/v1/faults body describes, for sales unit `msn`. Every problem is reported
 * at once; unknown fields are refused rather than ignored, since a misspelt `probabilty` would
 * otherwise silently fault every request.
 */
export function faultRuleFrom(body: unknown, msn: string, createdBy: string): NewFaultRule {
  const errors = [
    ...validatorFor(FaultRuleRequestSchema)(body),
    ...unknownFields(body, Object.keys(FaultRuleRequestSchema.properties)),
    ...unknownFields((body as { match?: unknown } | undefined)?.match, Object.keys(MatchSchema.properties), 'match.'),
  ];
  if (errors.length > 0) throw new ValidationError(errors);
  const request = body as FaultRuleRequest;
  const match: FaultMatch = { ...request.match };
  const api = request.target === 'api';
  const kinds: readonly string[] = api ? API_FAULT_KINDS : WEBHOOK_FAULT_KINDS;
  if (!kinds.includes(request.kind)) errors.push({ name: 'kind', reason: `A ${request.target} fault is one of: ${kinds.join(', ')}.` });
  const apiOnly = (['method', 'route', 'operation'] as const).filter((field) => match[field] !== undefined);
  if (!api) for (const field of apiOnly) errors.push({ name: `match.${field}`, reason: 'Webhook faults match by eventType only.' });
  if (match.method !== undefined && !METHODS.includes(match.method.toUpperCase())) {
    errors.push({ name: 'match.method', reason: `The method is one of: ${METHODS.join(', ')}.` });
  }
  if (api && match.eventType !== undefined)
    errors.push({ name: 'match.eventType', reason: 'API faults match by method, route and operation.' });
  if (!api && request.when !== undefined) errors.push({ name: 'when', reason: 'Only API faults happen before or after the operation.' });
  const captureFault = isCaptureFault(request.kind);
  if (captureFault && request.when !== undefined) {
    errors.push({ name: 'when', reason: `A ${request.kind} fault strikes inside the capture, neither before nor after it.` });
  }
  if (captureFault && match.operation !== undefined && match.operation !== 'capturePayment') {
    errors.push({ name: 'match.operation', reason: `A ${request.kind} fault strikes captures only (capturePayment).` });
  }
  if (request.probability !== undefined && request.everyNth !== undefined) {
    errors.push({ name: 'everyNth', reason: 'Give probability or everyNth, not both.' });
  }
  let status: number | null = null;
  let retryAfterSeconds: number | null = request.retryAfterSeconds ?? null;
  let delayMs: number | null = request.delayMs ?? null;
  if (request.kind === 'error') {
    status = request.status ?? 500;
    if (!API_STATUSES.includes(status)) errors.push({ name: 'status', reason: `The status must be one of: ${API_STATUSES.join(', ')}.` });
    if (retryAfterSeconds !== null && status !== 429 && status !== 503) {
      errors.push({ name: 'retryAfterSeconds', reason: 'Retry-After goes with status 429 or 503.' });
    }
    // "429 with Retry-After": the platform's rate limiter always says when to come back (spec §13.6).
    if (status === 429) retryAfterSeconds ??= 1;
  } else {
    if (request.status !== undefined) errors.push({ name: 'status', reason: 'Only error faults have a status.' });
    if (request.retryAfterSeconds !== undefined) errors.push({ name: 'retryAfterSeconds', reason: 'Only error faults have Retry-After.' });
  }
  if (request.kind === 'latency' || request.kind === 'delay') {
    if (delayMs === null) errors.push({ name: 'delayMs', reason: `A ${request.kind} fault needs delayMs.` });
  } else if (request.kind === 'timeout') delayMs ??= DEFAULT_TIMEOUT_HOLD_MS;
  else if (request.kind === 'reorder') delayMs ??= DEFAULT_REORDER_HOLD_MS;
  else if (delayMs !== null) errors.push({ name: 'delayMs', reason: `A ${request.kind} fault has no delay.` });
  if (errors.length > 0) throw new ValidationError(errors);
  return {
    msn,
    target: request.target,
    match: { ...match, ...(match.method ? { method: match.method.toUpperCase() } : {}) },
    kind: request.kind as FaultRule['kind'],
    when: api && !captureFault ? (request.when ?? 'before') : null,
    status,
    retryAfterSeconds,
    delayMs,
    probability: request.probability ?? null,
    everyNth: request.everyNth ?? null,
    count: request.count ?? null,
    seed: request.seed === undefined ? randomBytes(8).toString('hex') : String(request.seed),
    createdBy,
  };
}

/** A number in [0, 1) that depends only on the seed and the draw number. */
export function seededChance(seed: string, n: number): number {
  const hash = createHash('sha256').update(`${seed}:${n}`).digest();
  return hash.readUIntBE(0, 6) / 2 ** 48;
}

/** Whether draw `n` (1, 2, ...) of the rule fires, its count aside. */
export function fires(rule: Pick<FaultRule, 'everyNth' | 'probability' | 'seed'>, n: number): boolean {
  if (rule.everyNth !== null) return n % rule.everyNth === 0;
  if (rule.probability !== null) return seededChance(rule.seed, n) < rule.probability;
  return true;
}

/** How a fault is named in the request log and in webhook records: "error 503 after (rule 7)". */
export function faultLabel(rule: FaultRule): string {
  const parts: string[] = [rule.kind];
  if (rule.status !== null) parts.push(String(rule.status));
  if (rule.delayMs !== null) parts.push(`${rule.delayMs} ms`);
  if (rule.when !== null) parts.push(rule.when);
  return `${parts.join(' ')} (rule ${rule.id})`;
}

/** A rule as the control API shows it. */
export function faultRuleView(rule: FaultRule) {
  return { ...rule, spent: rule.count !== null && rule.injected >= rule.count };
}

const RELOAD_MS = 5000;

/**
 * The rules in this process, by sales unit, kept current by FAULTS_CHANNEL notifications (and a
 * reload every few seconds). Requests of units without rules cost nothing; a matching request costs
 * one update of the rule's counter, two when it fires.
 */
export class FaultRules {
  readonly #db: Database;
  readonly #onError: (error: unknown) => void;
  #byMsn = new Map<string, FaultRule[]>();
  /** Rules that used up their count here; skipped until a reload says otherwise. */
  readonly #spent = new Set<number>();
  #generation = 0;
  #latest: Promise<void> = Promise.resolve();
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(db: Database, onError: (error: unknown) => void) {
    this.#db = db;
    this.#onError = onError;
  }

  async start(): Promise<void> {
    await this.reload();
    this.#unlisten = await this.#db.listen(FAULTS_CHANNEL, () => void this.reload().catch(this.#onError));
    this.#timer = setInterval(() => void this.reload().catch(this.#onError), RELOAD_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#unlisten?.().catch(() => {});
  }

  /** Reads every rule again (after a change in this process, so the next request sees it). */
  reload(): Promise<void> {
    // A notification or tick that arrives while the server closes must not query a closing database.
    if (this.#stopped) return Promise.resolve();
    const run = this.#load(++this.#generation);
    this.#latest = run;
    return run;
  }

  async #load(generation: number): Promise<void> {
    const rules = await listFaultRules(this.#db);
    // A slower, older reload must not overwrite a newer one; it resolves when the newer one has applied,
    // so a caller that awaited reload() (a rule just created) never goes on with the old rules.
    if (generation !== this.#generation) return this.#latest;
    const byMsn = new Map<string, FaultRule[]>();
    this.#spent.clear();
    for (const rule of rules) {
      if (rule.count !== null && rule.injected >= rule.count) continue;
      byMsn.set(rule.msn, [...(byMsn.get(rule.msn) ?? []), rule]);
    }
    this.#byMsn = byMsn;
  }

  /** The unit's live rules for `target`, oldest first. */
  rulesFor(msn: string, target: FaultTarget): FaultRule[] {
    const rules = this.#byMsn.get(msn);
    if (!rules) return [];
    return rules.filter((rule) => rule.target === target && !this.#spent.has(rule.id));
  }

  /** Draws once for a matching request; true when the rule fires (and its count allows). */
  async draw(rule: FaultRule): Promise<boolean> {
    const drawn = await drawFaultRule(this.#db, rule.id);
    if (!drawn) return false;
    if (drawn.count !== null && drawn.injected >= drawn.count) {
      this.#spent.add(rule.id);
      return false;
    }
    if (!fires(rule, drawn.n)) return false;
    const injected = await takeFault(this.#db, rule.id);
    if (injected === null || (rule.count !== null && injected >= rule.count)) this.#spent.add(rule.id);
    return injected !== null;
  }
}
