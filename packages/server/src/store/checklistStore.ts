/**
 * SQL for the go-live checklist: loads the evidence of one sales unit or PSP since a time — requests,
 * payments created in the period with their events, webhook registrations, deliveries and attempts.
 * The evaluation itself is pure (checklist/evaluateChecklist.ts).
 */

import type {
  AttemptFacts,
  DeliveryFacts,
  EventFacts,
  Evidence,
  LoggedRequest,
  PaymentFacts,
  RegistrationFacts,
  ReportScope,
  SalesUnitFacts,
} from '../checklist/types.ts';
import type { Queryable } from './database.ts';
import type { RequestLogRow } from './requestLogStore.ts';

/** The newest this many requests (and payments) are read; an older `since` is moved up and the report says so. */
export const EVIDENCE_LIMIT = 50_000;

export async function scopeSalesUnits(db: Queryable, scope: ReportScope): Promise<SalesUnitFacts[]> {
  if (scope.pspId) {
    const { rows } = await db.query<SalesUnitFacts>(
      `select distinct u.msn, u.name, u.market
         from key_sets k join key_set_sales_units l on l.client_id = k.client_id join sales_units u on u.msn = l.msn
        where k.psp_id = $1 and ($2::text is null or u.msn = $2)
        order by u.msn`,
      [scope.pspId, scope.msn ?? null],
    );
    return rows;
  }
  const { rows } = await db.query<SalesUnitFacts>('select msn, name, market from sales_units where msn = $1', [scope.msn]);
  return rows;
}

export function toLoggedRequest(row: RequestLogRow): LoggedRequest {
  return {
    id: Number(row.id),
    at: row.at,
    msn: row.msn,
    pspId: row.psp_id,
    clientId: row.client_id,
    method: row.method,
    route: row.route,
    path: row.path,
    reference: row.reference,
    status: row.status,
    latencyMs: row.latency_ms,
    idempotencyKey: row.idempotency_key,
    headers: row.headers ?? {},
    body: row.body ?? undefined,
    errorCode: row.error_code,
    fault: row.fault,
    traceId: row.trace_id,
  };
}

interface PaymentRow {
  id: number;
  msn: string;
  reference: string;
  state: PaymentFacts['state'];
  currency: string;
  amount: number;
  authorized_amount: number;
  captured_amount: number;
  cancelled_amount: number;
  refunded_amount: number;
  user_flow: string;
  payment_method_type: string;
  request: Record<string, unknown>;
  customer_phone: string | null;
  customer_market: string | null;
  created_at: Date;
  expires_at: Date;
  authorized_at: Date | null;
  capture_deadline: Date | null;
}

const PAYMENT_FACTS = `select p.id, p.msn, p.reference, p.state, p.currency, p.amount, p.authorized_amount, p.captured_amount,
         p.cancelled_amount, p.refunded_amount, p.user_flow, p.payment_method_type, p.request, p.customer_phone,
         u.market as customer_market, p.created_at, p.expires_at, p.authorized_at, p.capture_deadline
    from payments p left join test_users u on u.phone = p.customer_phone`;

function toPaymentFacts(p: PaymentRow): PaymentFacts {
  return {
    id: Number(p.id),
    msn: p.msn,
    reference: p.reference,
    state: p.state,
    currency: p.currency,
    amount: Number(p.amount),
    authorized: Number(p.authorized_amount),
    captured: Number(p.captured_amount),
    cancelled: Number(p.cancelled_amount),
    refunded: Number(p.refunded_amount),
    userFlow: p.user_flow,
    paymentMethodType: p.payment_method_type,
    request: p.request ?? {},
    customerPhone: p.customer_phone,
    customerMarket: p.customer_market,
    createdAt: p.created_at,
    expiresAt: p.expires_at,
    authorizedAt: p.authorized_at,
    captureDeadline: p.capture_deadline,
  };
}

/** Reads everything the checklist judges for `scope` from `since` to `now` (the server's clock). */
export async function loadEvidence(db: Queryable, scope: ReportScope, since: Date, now: Date): Promise<Evidence> {
  const salesUnits = await scopeSalesUnits(db, scope);
  const msns = salesUnits.map((u) => u.msn);
  let effectiveSince = since;

  const requestRows = await db.query<RequestLogRow>(
    `select id, at, msn, psp_id, client_id, method, route, path, reference, status, latency_ms, idempotency_key, headers, body,
            error_code, fault, trace_id
       from request_log
      where msn = any($1::text[]) and at >= $2 and ($3::text is null or psp_id = $3)
      order by at desc, id desc
      limit ${EVIDENCE_LIMIT + 1}`,
    [msns, since, scope.pspId ?? null],
  );
  if (requestRows.rows.length > EVIDENCE_LIMIT) {
    effectiveSince = (requestRows.rows[EVIDENCE_LIMIT - 1] as RequestLogRow).at;
  }

  const paymentRows = await db.query<PaymentRow>(
    `${PAYMENT_FACTS}
      where p.msn = any($1::text[]) and p.created_at >= $2
      order by p.created_at desc, p.id desc
      limit ${EVIDENCE_LIMIT + 1}`,
    [msns, effectiveSince],
  );
  if (paymentRows.rows.length > EVIDENCE_LIMIT) {
    const oldest = (paymentRows.rows[EVIDENCE_LIMIT - 1] as PaymentRow).created_at;
    if (oldest > effectiveSince) effectiveSince = oldest;
  }
  const requests = requestRows.rows.filter((r) => r.at >= effectiveSince).map(toLoggedRequest);
  let payments: PaymentFacts[] = paymentRows.rows
    .filter((p) => p.created_at >= effectiveSince)
    .map(toPaymentFacts)
    .reverse();
  if (scope.pspId) {
    // A PSP is judged on the payments it created itself, not on its merchants' other traffic.
    const created = new Set(
      requests.filter((r) => r.method === 'POST' && r.route === '/epayment/v1/payments').map((r) => `${r.msn}/${r.reference}`),
    );
    payments = payments.filter((p) => created.has(`${p.msn}/${p.reference}`));
  }
  // Reservations made before the period and due in it or later: a 180-day deadline lies far beyond a
  // 30-day period, and what became of them shows in it. (The platform's own cancel at the deadline
  // leaves a payment AUTHORIZED, so the state finds those too, through the deadline's partial index.)
  const olderRows = await db.query<PaymentRow>(
    `${PAYMENT_FACTS}
      where p.state = 'AUTHORIZED' and p.capture_deadline >= $2 and p.msn = any($1::text[]) and p.created_at < $2
        and ($3::text is null or exists (select 1 from psp_payments pp where pp.payment_id = p.id and pp.psp_id = $3))
      order by p.capture_deadline, p.id
      limit ${EVIDENCE_LIMIT}`,
    [msns, effectiveSince, scope.pspId ?? null],
  );
  const olderReservations = olderRows.rows.map(toPaymentFacts);
  const paymentIds = [...payments, ...olderReservations].map((p) => p.id);

  const eventRows = await db.query<{
    payment_id: number;
    msn: string;
    reference: string;
    name: string;
    amount: number;
    occurred_at: Date;
    idempotency_key: string | null;
    success: boolean;
  }>(
    `select payment_id, msn, reference, name, amount, occurred_at, idempotency_key, success
       from payment_events where payment_id = any($1::bigint[]) order by payment_id, id`,
    [paymentIds],
  );
  const events: EventFacts[] = eventRows.rows.map((e) => ({
    paymentId: Number(e.payment_id),
    msn: e.msn,
    reference: e.reference,
    name: e.name,
    amount: Number(e.amount),
    occurredAt: e.occurred_at,
    idempotencyKey: e.idempotency_key,
    success: e.success,
  }));

  const registrationRows = await db.query<{
    id: string;
    url: string;
    events: string[];
    msn: string | null;
    psp_id: string | null;
    created_at: Date;
    disabled_at: Date | null;
    disabled_reason: string | null;
  }>(
    scope.pspId
      ? `select id, url, events, msn, psp_id, created_at, disabled_at, disabled_reason from webhook_registrations
          where bucket = 'psp' and psp_id = $1 and (msn is null or msn = any($2::text[])) and created_at <= $3 order by created_at, id`
      : `select id, url, events, msn, psp_id, created_at, disabled_at, disabled_reason from webhook_registrations
          where bucket = 'sales-unit' and msn = any($2::text[]) and created_at <= $3 and $1::text is null order by created_at, id`,
    [scope.pspId ?? null, msns, now],
  );
  const registrations: RegistrationFacts[] = registrationRows.rows.map((r) => ({
    id: r.id,
    url: r.url,
    events: r.events,
    msn: r.msn,
    pspId: r.psp_id,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    disabledReason: r.disabled_reason,
  }));
  const registrationIds = registrations.map((r) => r.id);

  const deliveryRows = await db.query<{
    id: number;
    registration_id: string;
    msn: string;
    reference: string;
    event_type: string;
    state: DeliveryFacts['state'];
    attempts: number;
    delivered_at: Date | null;
    dropped_reason: string | null;
    replay_of: number | null;
    fault: string | null;
  }>(
    `select id, registration_id, msn, reference, event_type, state, attempts, delivered_at, dropped_reason, replay_of, fault
       from webhook_deliveries where registration_id = any($1::uuid[]) and payment_id = any($2::bigint[]) order by id`,
    [registrationIds, paymentIds],
  );
  const deliveries: DeliveryFacts[] = deliveryRows.rows.map((d) => ({
    id: Number(d.id),
    registrationId: d.registration_id,
    msn: d.msn,
    reference: d.reference,
    eventType: d.event_type,
    state: d.state,
    attempts: d.attempts,
    deliveredAt: d.delivered_at,
    droppedReason: d.dropped_reason,
    replayOf: d.replay_of === null ? null : Number(d.replay_of),
    fault: d.fault,
  }));

  const attemptRows = await db.query<{
    delivery_id: number;
    registration_id: string;
    msn: string;
    reference: string;
    event_type: string;
    attempt: number;
    started_at: Date;
    duration_ms: number;
    http_status: number | null;
    outcome: string;
    error: string | null;
    fault: string | null;
  }>(
    `select a.delivery_id, d.registration_id, d.msn, d.reference, d.event_type, a.attempt, a.started_at, a.duration_ms,
            a.http_status, a.outcome, a.error, a.fault
       from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id
      where a.delivery_id = any($1::bigint[]) order by a.id`,
    [deliveries.map((d) => d.id)],
  );
  const attempts: AttemptFacts[] = attemptRows.rows.map((a) => ({
    deliveryId: Number(a.delivery_id),
    registrationId: a.registration_id,
    msn: a.msn,
    reference: a.reference,
    eventType: a.event_type,
    attempt: a.attempt,
    startedAt: a.started_at,
    durationMs: a.duration_ms,
    httpStatus: a.http_status,
    outcome: a.outcome,
    error: a.error,
    fault: a.fault,
  }));

  return {
    scope,
    since: effectiveSince,
    now,
    salesUnits,
    requests: requests.reverse(),
    payments,
    olderReservations,
    events,
    registrations,
    deliveries,
    attempts,
    shortenedFrom: effectiveSince > since ? since : null,
  };
}
