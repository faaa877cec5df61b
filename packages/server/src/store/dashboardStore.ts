/**
 * SQL for the dashboard (docs/dashboard.md): payments by keyset pagination with filters, a payment's
 * timeline sources, every webhook registration and delivery, and the request log. Each list query is
 * built from the filters actually given, so the planner sees plain predicates it can match to the
 * indexes of migration 006 — also in a generic plan, which is why the reference prefix is a range
 * (`~>=~`/`~<~`, text_pattern_ops) rather than a LIKE with a parameter.
 */

import type { WebhookOwner } from '../webhooks/types.ts';
import { pgErrorCode, type Queryable } from './database.ts';
import type { RequestLogEntry, RequestLogRow } from './requestLogStore.ts';

export const PAYMENT_STATES = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'] as const;

export interface PaymentFilter {
  msn?: string;
  state?: (typeof PAYMENT_STATES)[number];
  referencePrefix?: string;
  /** created_at ≥ from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  /** Keyset: rows strictly older than this (created_at, id). */
  before?: { createdAt: Date; id: number };
  limit: number;
}

export interface PaymentListRow {
  id: number;
  msn: string;
  reference: string;
  state: string;
  currency: string;
  amount: number;
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
  userFlow: string;
  createdAt: Date;
}

/** The first string after every string that starts with `prefix` (for a text_pattern_ops range). */
export function prefixUpperBound(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** The SQL and parameters of a payments page (exported so the tests can EXPLAIN exactly this). */
export function paymentsQuery(filter: PaymentFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (clause: (n: (value: unknown) => string) => string) => where.push(clause((value) => `$${params.push(value)}`));
  if (filter.msn !== undefined) add((p) => `msn = ${p(filter.msn)}`);
  if (filter.state !== undefined) add((p) => `state = ${p(filter.state)}`);
  if (filter.referencePrefix) {
    const prefix = filter.referencePrefix;
    add((p) => `reference ~>=~ ${p(prefix)} and reference ~<~ ${p(prefixUpperBound(prefix))}`);
  }
  if (filter.from !== undefined) add((p) => `created_at >= ${p(filter.from)}`);
  if (filter.to !== undefined) add((p) => `created_at < ${p(filter.to)}`);
  if (filter.before !== undefined) {
    const before = filter.before;
    add((p) => `(created_at, id) < (${p(before.createdAt)}::timestamptz, ${p(before.id)}::bigint)`);
  }
  const columns = `id, msn, reference, state, currency, amount, authorized_amount, captured_amount, cancelled_amount,
            refunded_amount, user_flow, created_at`;
  const conditions = where.length > 0 ? `where ${where.join(' and ')}` : '';
  const order = `order by created_at desc, id desc limit ${p(params, filter.limit)}`;
  // A reference prefix is a search: its matches are found first (text_pattern_ops index), then ordered.
  // Left to itself the planner may walk the time index backwards hoping to meet matches early, which a
  // rare prefix turns into a walk through the whole table.
  const sql = filter.referencePrefix
    ? `with matched as materialized (select ${columns} from payments ${conditions}) select * from matched ${order}`
    : `select ${columns} from payments ${conditions} ${order}`;
  return { sql, params };
}

function p(params: unknown[], value: unknown): string {
  return `$${params.push(value)}`;
}

export async function listPayments(db: Queryable, filter: PaymentFilter): Promise<PaymentListRow[]> {
  const { sql, params } = paymentsQuery(filter);
  const { rows } = await db.query<{
    id: number;
    msn: string;
    reference: string;
    state: string;
    currency: string;
    amount: number;
    authorized_amount: number;
    captured_amount: number;
    cancelled_amount: number;
    refunded_amount: number;
    user_flow: string;
    created_at: Date;
  }>(sql, params);
  return rows.map((r) => ({
    id: Number(r.id),
    msn: r.msn,
    reference: r.reference,
    state: r.state,
    currency: r.currency,
    amount: Number(r.amount),
    authorized: Number(r.authorized_amount),
    captured: Number(r.captured_amount),
    cancelled: Number(r.cancelled_amount),
    refunded: Number(r.refunded_amount),
    userFlow: r.user_flow,
    createdAt: r.created_at,
  }));
}

// ---------------------------------------------------------------------------------------------------
// A payment's timeline: one query per source, each on its own index

export interface EventRecord {
  id: number;
  name: string;
  amount: number;
  currency: string;
  occurredAt: Date;
  pspReference: string;
  idempotencyKey: string | null;
  success: boolean;
}

export async function paymentEvents(db: Queryable, paymentId: number): Promise<EventRecord[]> {
  const { rows } = await db.query<{
    id: number;
    name: string;
    amount: number;
    currency: string;
    occurred_at: Date;
    psp_reference: string;
    idempotency_key: string | null;
    success: boolean;
  }>(
    `select id, name, amount, currency, occurred_at, psp_reference, idempotency_key, success
       from payment_events where payment_id = $1 order by id`,
    [paymentId],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    amount: Number(r.amount),
    currency: r.currency,
    occurredAt: r.occurred_at,
    pspReference: r.psp_reference,
    idempotencyKey: r.idempotency_key,
    success: r.success,
  }));
}

export interface AttemptRecord {
  deliveryId: number;
  registrationId: string;
  url: string;
  eventType: string;
  deliveryState: string;
  replayOf: number | null;
  /** Null for a delivery not tried yet. */
  attempt: number | null;
  startedAt: Date | null;
  durationMs: number | null;
  httpStatus: number | null;
  outcome: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
  fault: string | null;
}

/** Every delivery of the payment's events, one row per attempt (a delivery not yet tried: one row without attempt). */
export async function paymentWebhookAttempts(db: Queryable, msn: string, reference: string): Promise<AttemptRecord[]> {
  const { rows } = await db.query<{
    delivery_id: number;
    registration_id: string;
    url: string;
    event_type: string;
    state: string;
    replay_of: number | null;
    attempt: number | null;
    started_at: Date | null;
    duration_ms: number | null;
    http_status: number | null;
    outcome: string | null;
    error: string | null;
    next_attempt_at: Date | null;
    fault: string | null;
  }>(
    `select d.id as delivery_id, d.registration_id, r.url, d.event_type, d.state, d.replay_of, a.attempt, a.started_at,
            a.duration_ms, a.http_status, a.outcome, a.error, coalesce(a.next_attempt_at, case when d.state = 'pending' then d.next_attempt_at end) as next_attempt_at,
            coalesce(a.fault, d.fault) as fault
       from webhook_deliveries d
       join webhook_registrations r on r.id = d.registration_id
       left join webhook_attempts a on a.delivery_id = d.id
      where d.msn = $1 and d.reference = $2
      order by d.id, a.id`,
    [msn, reference],
  );
  return rows.map((r) => ({
    deliveryId: Number(r.delivery_id),
    registrationId: r.registration_id,
    url: r.url,
    eventType: r.event_type,
    deliveryState: r.state,
    replayOf: r.replay_of === null ? null : Number(r.replay_of),
    attempt: r.attempt,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    httpStatus: r.http_status,
    outcome: r.outcome,
    error: r.error,
    nextAttemptAt: r.next_attempt_at,
    fault: r.fault,
  }));
}

export type RequestRecord = RequestLogEntry & { id: number };

function toRequestRecord(r: RequestLogRow): RequestRecord {
  return {
    id: Number(r.id),
    at: r.at,
    msn: r.msn,
    pspId: r.psp_id,
    clientId: r.client_id,
    method: r.method,
    route: r.route,
    path: r.path,
    reference: r.reference,
    status: r.status,
    latencyMs: r.latency_ms,
    idempotencyKey: r.idempotency_key,
    headers: r.headers ?? {},
    body: r.body,
    problem: r.problem,
    errorCode: r.error_code,
    fault: r.fault,
    traceId: r.trace_id,
  };
}

/** The payment's API calls (index request_log_reference), oldest first, at most `limit`. */
export async function paymentRequests(db: Queryable, msn: string, reference: string, limit = 500): Promise<RequestRecord[]> {
  const { rows } = await db.query<RequestLogRow>('select * from request_log where msn = $1 and reference = $2 order by at, id limit $3', [
    msn,
    reference,
    limit,
  ]);
  return rows.map(toRequestRecord);
}

export interface CardCallbackRecord {
  id: number;
  sequence: number;
  url: string;
  sentAt: Date;
  durationMs: number | null;
  httpStatus: number | null;
  outcome: string;
  result: string | null;
  error: string | null;
}

const UNDEFINED_TABLE = '42P01';

/**
 * The PSP card callbacks of a payment (migration 007). A server without the PSP tables shows none:
 * the timeline's sources are independent, and this one arrived with the PSP issue.
 */
export async function paymentCardCallbacks(db: Queryable, paymentId: number): Promise<CardCallbackRecord[]> {
  try {
    const { rows } = await db.query<{
      id: number;
      sequence: number;
      url: string;
      sent_at: Date;
      duration_ms: number | null;
      http_status: number | null;
      outcome: string;
      result: string | null;
      error: string | null;
    }>(
      `select id, sequence, url, sent_at, duration_ms, http_status, outcome, result, error
         from card_callbacks where payment_id = $1 order by id`,
      [paymentId],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      sequence: r.sequence,
      url: r.url,
      sentAt: r.sent_at,
      durationMs: r.duration_ms,
      httpStatus: r.http_status,
      outcome: r.outcome,
      result: r.result,
      error: r.error,
    }));
  } catch (error) {
    if (pgErrorCode(error) === UNDEFINED_TABLE) return [];
    throw error;
  }
}

export interface AppAttemptRecord {
  phone: string;
  cardId: string | null;
  reason: string;
  attemptedAt: Date;
}

/** Authorizations that failed in the wallet-app simulator (the payment stayed CREATED). */
export async function paymentAppAttempts(db: Queryable, paymentId: number): Promise<AppAttemptRecord[]> {
  const { rows } = await db.query<{ phone: string; card_id: string | null; reason: string; attempted_at: Date }>(
    'select phone, card_id, reason, attempted_at from app_authorization_attempts where payment_id = $1 order by id',
    [paymentId],
  );
  return rows.map((r) => ({ phone: r.phone, cardId: r.card_id, reason: r.reason, attemptedAt: r.attempted_at }));
}

// ---------------------------------------------------------------------------------------------------
// Webhooks

export interface RegistrationRecord {
  id: string;
  bucket: string;
  msn: string | null;
  pspId: string | null;
  url: string;
  events: string[];
  createdAt: Date;
  lastSuccessAt: Date | null;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
}

export async function listAllRegistrations(db: Queryable, msn?: string): Promise<RegistrationRecord[]> {
  const { rows } = await db.query<{
    id: string;
    bucket: string;
    msn: string | null;
    psp_id: string | null;
    url: string;
    events: string[];
    created_at: Date;
    last_success_at: Date | null;
    failing_since: Date | null;
    disabled_at: Date | null;
    disabled_reason: string | null;
  }>(
    `select id, bucket, msn, psp_id, url, events, created_at, last_success_at, failing_since, disabled_at, disabled_reason
       from webhook_registrations ${msn ? 'where msn = $1' : ''}
      order by disabled_at is not null, created_at desc, id
      limit 500`,
    msn ? [msn] : [],
  );
  return rows.map((r) => ({
    id: r.id,
    bucket: r.bucket,
    msn: r.msn,
    pspId: r.psp_id,
    url: r.url,
    events: r.events,
    createdAt: r.created_at,
    lastSuccessAt: r.last_success_at,
    failingSince: r.failing_since,
    disabledAt: r.disabled_at,
    disabledReason: r.disabled_reason,
  }));
}

export interface DeliveryRecord {
  id: number;
  registrationId: string;
  url: string;
  msn: string;
  reference: string;
  eventType: string;
  state: string;
  attempts: number;
  nextAttemptAt: Date | null;
  /** Pending behind an earlier delivery of the same payment to the same receiver (it goes when that one is done). */
  queued: boolean;
  deliveredAt: Date | null;
  droppedReason: string | null;
  replayOf: number | null;
  fault: string | null;
  lastStatus: number | null;
  lastOutcome: string | null;
}

export interface DeliveryListFilter {
  msn?: string;
  reference?: string;
  state?: 'pending' | 'delivered' | 'dropped';
  beforeId?: number;
  limit: number;
}

export async function listRecentDeliveries(db: Queryable, filter: DeliveryListFilter): Promise<DeliveryRecord[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.msn !== undefined && filter.reference !== undefined) {
    where.push(`d.msn = ${p(params, filter.msn)} and d.reference = ${p(params, filter.reference)}`);
  } else if (filter.msn !== undefined) where.push(`d.msn = ${p(params, filter.msn)}`);
  if (filter.state !== undefined) where.push(`d.state = ${p(params, filter.state)}`);
  if (filter.beforeId !== undefined) where.push(`d.id < ${p(params, filter.beforeId)}`);
  const { rows } = await db.query<{
    id: number;
    registration_id: string;
    url: string;
    msn: string;
    reference: string;
    event_type: string;
    state: string;
    attempts: number;
    next_attempt_at: Date;
    is_head: boolean;
    delivered_at: Date | null;
    dropped_reason: string | null;
    replay_of: number | null;
    fault: string | null;
    last_status: number | null;
    last_outcome: string | null;
  }>(
    `select d.id, d.registration_id, r.url, d.msn, d.reference, d.event_type, d.state, d.attempts, d.next_attempt_at, d.is_head,
            d.delivered_at, d.dropped_reason, d.replay_of, d.fault, last.http_status as last_status, last.outcome as last_outcome
       from webhook_deliveries d
       join webhook_registrations r on r.id = d.registration_id
       left join lateral (select a.http_status, a.outcome from webhook_attempts a where a.delivery_id = d.id order by a.id desc limit 1) last on true
      ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by d.id desc
      limit ${p(params, filter.limit)}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    registrationId: r.registration_id,
    url: r.url,
    msn: r.msn,
    reference: r.reference,
    eventType: r.event_type,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.state === 'pending' && r.is_head ? r.next_attempt_at : null,
    queued: r.state === 'pending' && !r.is_head,
    deliveredAt: r.delivered_at,
    droppedReason: r.dropped_reason,
    replayOf: r.replay_of === null ? null : Number(r.replay_of),
    fault: r.fault,
    lastStatus: r.last_status,
    lastOutcome: r.last_outcome,
  }));
}

/** Whose registration a delivery belongs to: the owner the shared replay function acts for. */
export async function deliveryOwner(db: Queryable, deliveryId: number): Promise<WebhookOwner | null> {
  const { rows } = await db.query<{ bucket: 'sales-unit' | 'psp'; msn: string | null; psp_id: string | null }>(
    `select r.bucket, r.msn, r.psp_id from webhook_deliveries d join webhook_registrations r on r.id = d.registration_id
      where d.id = $1`,
    [deliveryId],
  );
  const row = rows[0];
  if (!row) return null;
  return row.bucket === 'sales-unit'
    ? { bucket: 'sales-unit', msn: row.msn as string, pspId: null }
    : { bucket: 'psp', msn: row.msn, pspId: row.psp_id as string };
}

// ---------------------------------------------------------------------------------------------------
// The request log

export interface RequestFilter {
  msn?: string;
  reference?: string;
  /** '2xx', '4xx', '5xx'. */
  statusClass?: 2 | 3 | 4 | 5;
  /** Rows strictly older than this (at, id). */
  before?: { at: Date; id: number };
  limit: number;
}

/** The SQL of a request-log page (exported so the tests can EXPLAIN exactly this). */
export function requestsQuery(filter: RequestFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.msn !== undefined) where.push(`msn = ${p(params, filter.msn)}`);
  if (filter.reference !== undefined) where.push(`reference = ${p(params, filter.reference)}`);
  if (filter.statusClass !== undefined) {
    where.push(`status >= ${p(params, filter.statusClass * 100)} and status < ${p(params, filter.statusClass * 100 + 100)}`);
  }
  if (filter.before !== undefined) {
    where.push(`(at, id) < (${p(params, filter.before.at)}::timestamptz, ${p(params, filter.before.id)}::bigint)`);
  }
  return {
    sql: `select * from request_log ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
           order by at desc, id desc limit ${p(params, filter.limit)}`,
    params,
  };
}

export async function listRequests(db: Queryable, filter: RequestFilter): Promise<RequestRecord[]> {
  const { sql, params } = requestsQuery(filter);
  const { rows } = await db.query<RequestLogRow>(sql, params);
  return rows.map(toRequestRecord);
}

export async function findRequest(db: Queryable, id: number): Promise<RequestRecord | null> {
  const { rows } = await db.query<RequestLogRow>('select * from request_log where id = $1', [id]);
  return rows[0] ? toRequestRecord(rows[0]) : null;
}
