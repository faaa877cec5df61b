/** SQL for payments, their event log and idempotency records. */

import type { Currency, NewEvent, Payment, PaymentEvent, PaymentMethodType, State, Transition, UserFlow } from '../payments/types.ts';
import type { Queryable, QueryOptions } from './database.ts';
import { OUTBOX_CTES } from './webhooksStore.ts';

interface PaymentRow {
  id: number;
  msn: string;
  reference: string;
  psp_reference: string;
  state: State;
  currency: Currency;
  amount: number;
  authorized_amount: number;
  captured_amount: number;
  cancelled_amount: number;
  refunded_amount: number;
  user_flow: UserFlow;
  payment_method_type: PaymentMethodType;
  card_bin: string | null;
  redirect_token: string | null;
  request: Record<string, unknown>;
  customer_phone: string | null;
  created_at: Date;
  expires_at: Date;
  authorized_at: Date | null;
  capture_deadline: Date | null;
  capture_guaranteed_until: Date | null;
  profile_sub: string | null;
  user_details: Record<string, unknown> | null;
  shipping_details: Record<string, unknown> | null;
  processing_until: Date | null;
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    msn: row.msn,
    reference: row.reference,
    pspReference: row.psp_reference,
    state: row.state,
    currency: row.currency,
    amount: row.amount,
    aggregate: {
      authorized: row.authorized_amount,
      captured: row.captured_amount,
      cancelled: row.cancelled_amount,
      refunded: row.refunded_amount,
    },
    userFlow: row.user_flow,
    paymentMethodType: row.payment_method_type,
    cardBin: row.card_bin,
    redirectToken: row.redirect_token,
    request: row.request,
    customerPhone: row.customer_phone,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    authorizedAt: row.authorized_at,
    captureDeadline: row.capture_deadline,
    captureGuaranteedUntil: row.capture_guaranteed_until,
    profileSub: row.profile_sub,
    userDetails: row.user_details,
    shippingDetails: row.shipping_details,
    processingUntil: row.processing_until,
  };
}

export type NewPayment = Omit<Payment, 'id'>;

/** An idempotency key claimed together with a new payment, holding the outcome to replay (spec §12.1). */
export interface CreateClaim {
  operation: string;
  key: string;
  fingerprint: string;
  status: number;
  body: unknown;
}

/**
 * Inserts a new payment and its CREATED event (with the event's webhook outbox) in one statement.
 * Null when the reference exists for the sales unit (rule 13), and then nothing is written.
 */
export async function insertPayment(tx: Queryable, p: NewPayment, created: NewEvent): Promise<Payment | null> {
  const { rows } = await tx.query<PaymentRow>(
    `with inserted as (
       insert into payments (msn, reference, psp_reference, state, currency, amount, user_flow, payment_method_type,
         redirect_token, request, customer_phone, created_at, expires_at)
       select $1::text, $2::text, $3::uuid, $4::text, $5::text, $6::bigint, $7::text, $8::text, $9::text, $10::jsonb, $11::text,
              $12::timestamptz, $13::timestamptz
       on conflict (msn, reference) do nothing
       returning *
     ),
     ${eventCtes(14, 'inserted.id', 'from inserted')}
     select inserted.*, (select count(*) from notified) as notified from inserted`,
    [
      p.msn,
      p.reference,
      p.pspReference,
      p.state,
      p.currency,
      p.amount,
      p.userFlow,
      p.paymentMethodType,
      p.redirectToken,
      JSON.stringify(p.request),
      p.customerPhone,
      p.createdAt,
      p.expiresAt,
      ...eventParams(p, created, p.createdAt),
    ],
  );
  return rows[0] ? toPayment(rows[0]) : null;
}

/** A plain create as insertPaymentsClaimingKeys takes it: the payment and the key claim holding its 201. */
export interface ClaimedCreate {
  payment: NewPayment;
  claim: CreateClaim;
}

/**
 * Whole plain creates, one or several in one statement run without a transaction around it (one
 * statement is atomic on its own; several share a round trip, a commit and a WAL flush). Each inserts
 * its payment and CREATED event only while its idempotency key is unused, and claims the key, with the
 * outcome to replay, for the payment it inserted. The result lists the payments written: a create left
 * out found its key used or its reference taken (rule 13). A claim of a key that another create of the
 * statement, or a concurrent request, claimed too fails the whole statement with a unique violation on
 * idempotency_keys: nothing is written, so a payment never exists without its key, nor a key holding a
 * 201 without its payment.
 */
export async function insertPaymentsClaimingKeys(db: Queryable, creates: readonly ClaimedCreate[]): Promise<Payment[]> {
  const input = creates.map(({ payment: p, claim }) => ({
    msn: p.msn,
    reference: p.reference,
    psp_reference: p.pspReference,
    state: p.state,
    currency: p.currency,
    amount: p.amount,
    user_flow: p.userFlow,
    payment_method_type: p.paymentMethodType,
    redirect_token: p.redirectToken,
    request: p.request,
    customer_phone: p.customerPhone,
    created_at: p.createdAt,
    expires_at: p.expiresAt,
    operation: claim.operation,
    key: claim.key,
    fingerprint: claim.fingerprint,
    status: claim.status,
    body: claim.body ?? null,
  }));
  const { rows } = await db.query<PaymentRow>(
    `with input as (
       select * from jsonb_to_recordset($1::jsonb) as i (msn text, reference text, psp_reference uuid, state text, currency text,
         amount bigint, user_flow text, payment_method_type text, redirect_token text, request jsonb, customer_phone text,
         created_at timestamptz, expires_at timestamptz, operation text, key text, fingerprint text, status integer, body jsonb)
     ),
     inserted as (
       insert into payments (msn, reference, psp_reference, state, currency, amount, user_flow, payment_method_type,
         redirect_token, request, customer_phone, created_at, expires_at)
       select msn, reference, psp_reference, state, currency, amount, user_flow, payment_method_type, redirect_token, request,
              customer_phone, created_at, expires_at
         from input i
        -- A scalar subquery, not NOT EXISTS: the planner takes jsonb_to_recordset for 100 rows, and as an
        -- anti join that made a hash over every stored key look cheaper than probing the key's index
        -- (test/createPayment.plan.test.ts).
        where (select true from idempotency_keys k where k.msn = i.msn and k.operation = i.operation and k.key = i.key) is null
       on conflict (msn, reference) do nothing
       returning *
     ),
     claimed as (
       insert into idempotency_keys (msn, operation, key, fingerprint, created_at, status, body)
       select i.msn, i.operation, i.key, i.fingerprint, i.created_at, i.status, coalesce(i.body::json, 'null'::json)
         from inserted p join input i on i.psp_reference = p.psp_reference
       returning 1
     ),
     written as (
       insert into payment_events (payment_id, msn, reference, psp_reference, name, amount, currency, occurred_at,
         idempotency_key, success, extra)
       select p.id, p.msn, p.reference, p.psp_reference::text, 'CREATED', p.amount, p.currency, p.created_at, i.key, true, null
         from inserted p join input i on i.psp_reference = p.psp_reference
       returning *
     ),
     ${OUTBOX_CTES}
     select inserted.*, (select count(*) from notified) as notified from inserted`,
    [JSON.stringify(input)],
  );
  return rows.map(toPayment);
}

export async function findPayment(db: Queryable, msn: string, reference: string): Promise<Payment | null> {
  const { rows } = await db.query<PaymentRow>('select * from payments where msn = $1 and reference = $2', [msn, reference]);
  return rows[0] ? toPayment(rows[0]) : null;
}

/** The payment and its event log in one round trip (GET events). */
export async function findPaymentWithEvents(
  db: Queryable,
  msn: string,
  reference: string,
): Promise<{ payment: Payment; events: PaymentEvent[] } | null> {
  const { rows } = await db.query<PaymentRow & { events: (Omit<EventRow, 'occurred_at'> & { occurred_at: string })[] }>(
    `select p.*, coalesce((select json_agg(e order by e.id) from payment_events e where e.payment_id = p.id), '[]') as events
       from payments p where p.msn = $1 and p.reference = $2`,
    [msn, reference],
  );
  const row = rows[0];
  if (!row) return null;
  return { payment: toPayment(row), events: row.events.map((e) => toEvent({ ...e, occurred_at: new Date(e.occurred_at) })) };
}

export async function findPaymentByToken(db: Queryable, token: string): Promise<Payment | null> {
  const { rows } = await db.query<PaymentRow>('select * from payments where redirect_token = $1', [token]);
  return rows[0] ? toPayment(rows[0]) : null;
}

/** Locks the payment row for the rest of the transaction (waits up to the transaction's lock_timeout). */
export async function lockPayment(tx: Queryable, msn: string, reference: string): Promise<Payment | null> {
  const { rows } = await tx.query<PaymentRow>('select * from payments where msn = $1 and reference = $2 for update', [msn, reference]);
  return rows[0] ? toPayment(rows[0]) : null;
}

/** An idempotency key to claim for an operation on the sales unit's payment (spec §12.1). */
export interface KeyClaim {
  operation: string;
  key: string;
  fingerprint: string;
  now: Date;
}

/**
 * lockPayment and claimIdempotencyKey's claim in one statement. `claimed` is false when the key exists
 * (claimIdempotencyKey tells what it holds); a concurrent claimer of the same key waits for the first
 * transaction to end, as there. Nothing of it outlives a rollback.
 */
export async function lockPaymentClaimingKey(
  tx: Queryable,
  msn: string,
  reference: string,
  claim: KeyClaim,
): Promise<{ payment: Payment; claimed: boolean } | null> {
  const { rows } = await tx.query<PaymentRow & { claimed: number }>(
    `with claimed as (
       insert into idempotency_keys (msn, operation, key, fingerprint, created_at) values ($1, $3, $4, $5, $6)
       on conflict (msn, operation, key) do nothing
       returning 1
     )
     select p.*, (select count(*) from claimed) as claimed from payments p where p.msn = $1 and p.reference = $2 for update of p`,
    [msn, reference, claim.operation, claim.key, claim.fingerprint, claim.now],
  );
  const row = rows[0];
  return row ? { payment: toPayment(row), claimed: Number(row.claimed) > 0 } : null;
}

/**
 * Payments whose time has come (expiry or capture deadline), locked, skipping those another process
 * holds. `unitOffsets`: sales units whose clock runs ahead of `now` (time control, test mode), by ms.
 */
export async function lockPaymentsDue(
  tx: Queryable,
  now: Date,
  limit: number,
  unitOffsets: ReadonlyMap<string, number> = new Map(),
): Promise<Payment[]> {
  const ahead = [...unitOffsets.entries()];
  const latest = new Date(now.getTime() + Math.max(0, ...ahead.map(([, ms]) => ms)));
  // $5 bounds the index scans by the latest clock of any unit; the exact test uses each payment's unit.
  const unitNow = `($1::timestamptz + coalesce((select a.ms from ahead a where a.msn = payments.msn), 0) * interval '1 millisecond')`;
  const { rows } = await tx.query<PaymentRow>(
    `with ahead as (select * from unnest($3::text[], $4::float8[]) as a (msn, ms))
     select * from payments
      where (state = 'CREATED' and expires_at <= $5 and expires_at <= ${unitNow})
         or (state = 'AUTHORIZED' and capture_deadline <= $5 and capture_deadline <= ${unitNow}
             and authorized_amount > captured_amount + cancelled_amount)
      order by id
      limit $2
      for update of payments skip locked`,
    [now, limit, ahead.map(([msn]) => msn), ahead.map(([, ms]) => ms), latest],
  );
  return rows.map(toPayment);
}

/** `update payments` of every field a transition may change; $1 is the id, then paymentUpdateParams. */
const PAYMENT_UPDATE = `update payments set state = $2, amount = $3, authorized_amount = $4, captured_amount = $5, cancelled_amount = $6,
       refunded_amount = $7, card_bin = $8, customer_phone = $9, authorized_at = $10, capture_deadline = $11,
       capture_guaranteed_until = $12, profile_sub = $13, user_details = $14, shipping_details = $15, processing_until = $16
     where id = $1`;

function paymentUpdateParams(p: Payment): unknown[] {
  return [
    p.id,
    p.state,
    p.amount,
    p.aggregate.authorized,
    p.aggregate.captured,
    p.aggregate.cancelled,
    p.aggregate.refunded,
    p.cardBin,
    p.customerPhone,
    p.authorizedAt,
    p.captureDeadline,
    p.captureGuaranteedUntil,
    p.profileSub,
    p.userDetails === null ? null : JSON.stringify(p.userDetails),
    p.shippingDetails === null ? null : JSON.stringify(p.shippingDetails),
    p.processingUntil,
  ];
}

export async function updatePayment(tx: Queryable, p: Payment): Promise<void> {
  await tx.query(PAYMENT_UPDATE, paymentUpdateParams(p));
}

/** A CREATED payment's authorization window: until when it is being authorized, and when it expires. */
export async function updateAuthorizationWindow(tx: Queryable, p: Payment): Promise<void> {
  await tx.query('update payments set processing_until = $2, expires_at = $3 where id = $1', [p.id, p.processingUntil, p.expiresAt]);
}

/** A payment_events row (also read by webhooksStore for the payload of a delivery). */
export interface EventRow {
  msn: string;
  reference: string;
  psp_reference: string;
  name: PaymentEvent['name'];
  amount: number;
  currency: Currency;
  occurred_at: Date;
  idempotency_key: string | null;
  success: boolean;
  extra: Record<string, unknown> | null;
}

export function toEvent(row: EventRow): PaymentEvent {
  return {
    msn: row.msn,
    reference: row.reference,
    pspReference: row.psp_reference,
    name: row.name,
    amount: row.amount,
    currency: row.currency,
    occurredAt: row.occurred_at,
    idempotencyKey: row.idempotency_key,
    success: row.success,
    ...(row.extra ? { extra: row.extra } : {}),
  };
}

/**
 * A CTE `written` inserting one event whose parameters start at $`at` (eventParams), with its webhook
 * outbox rows (store/webhooksStore.ts#OUTBOX_CTES). The event and its outbox are one statement, so an
 * event costs one round trip, and they commit together.
 */
function eventCtes(at: number, paymentId: string, from = ''): string {
  const $ = (i: number) => `$${at + i}`;
  return `written as (
         insert into payment_events (payment_id, msn, reference, psp_reference, name, amount, currency, occurred_at,
           idempotency_key, success, extra)
         select ${paymentId}, ${$(0)}, ${$(1)}, coalesce(${$(2)}, nextval('event_psp_reference_seq')::text), ${$(3)}, ${$(4)}::bigint,
                ${$(5)}, ${$(6)}::timestamptz, ${$(7)}, ${$(8)}::boolean, ${$(9)}::jsonb
           ${from}
         returning *
       ),
       ${OUTBOX_CTES}`;
}

/** The parameters of eventCtes: the event of `payment` (its id comes from the statement). */
function eventParams(payment: NewPayment, event: NewEvent, now: Date): unknown[] {
  return [
    payment.msn,
    payment.reference,
    event.name === 'CREATED' ? payment.pspReference : null,
    event.name,
    event.amount,
    payment.currency,
    now,
    event.idempotencyKey,
    event.success,
    event.extra ? JSON.stringify(event.extra) : null,
  ];
}

/**
 * Appends events to the log; the CREATED event takes the payment's own pspReference (spec §7). Each
 * event is queued for its webhook receivers in the same transaction (the outbox, platform-guidelines §4.5).
 */
export async function insertEvents(tx: Queryable, payment: Payment, events: NewEvent[], now: Date): Promise<PaymentEvent[]> {
  const written: PaymentEvent[] = [];
  for (const event of events) {
    const { rows } = await tx.query<EventRow>(
      `with ${eventCtes(2, '$1::bigint')} select written.*, (select count(*) from notified) as notified from written`,
      [payment.id, ...eventParams(payment, event, now)],
    );
    written.push(toEvent(rows[0] as EventRow));
  }
  return written;
}

/** The outcome to store against an idempotency key in the same transaction (spec §12.1). */
export interface IdempotentOutcome {
  msn: string;
  operation: string;
  key: string;
  status: number;
  body: unknown;
}

/**
 * Writes a transition — the payment row, its events with their outbox rows, and the outcome for the
 * idempotency key if any — in one statement when it has one event (capture, refund, cancel, approval:
 * nearly all), so a modification costs one round trip here instead of four.
 */
export async function writeTransition(
  tx: Queryable,
  transition: Transition,
  now: Date,
  outcome?: IdempotentOutcome,
  options?: QueryOptions,
): Promise<PaymentEvent[]> {
  const { payment, events } = transition;
  const [event] = events;
  if (!event || events.length > 1) {
    await updatePayment(tx, payment);
    const written = await insertEvents(tx, payment, events, now);
    if (outcome) await storeIdempotentResponse(tx, outcome.msn, outcome.operation, outcome.key, outcome.status, outcome.body);
    return written;
  }
  const { rows } = await tx.query<EventRow>(
    // Data-modifying CTEs always run; `notified` (a plain SELECT) runs because the result reads it.
    `with updated as (${PAYMENT_UPDATE}),
       ${eventCtes(17, '$1::bigint')},
       stored as (
         update idempotency_keys set status = $29, body = $30
          where $27::text is not null and msn = $17 and operation = $27 and key = $28
       )
     select written.*, (select count(*) from notified) as notified from written`,
    [
      ...paymentUpdateParams(payment),
      ...eventParams(payment, event, now),
      outcome?.operation ?? null,
      outcome?.key ?? null,
      outcome?.status ?? null,
      outcome ? JSON.stringify(outcome.body ?? null) : null,
    ],
    options,
  );
  return [toEvent(rows[0] as EventRow)];
}

export async function listEvents(db: Queryable, paymentId: number): Promise<PaymentEvent[]> {
  const { rows } = await db.query<EventRow>('select * from payment_events where payment_id = $1 order by id', [paymentId]);
  return rows.map(toEvent);
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number | null;
  body: unknown;
}

/**
 * Claims an idempotency key for this transaction. Returns null when the claim is ours; otherwise the
 * existing record. A concurrent claimer waits on the unique index until the first transaction ends,
 * so two identical requests at once produce one effect.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  msn: string,
  operation: string,
  key: string,
  fingerprint: string,
  now: Date,
): Promise<IdempotencyRecord | null> {
  const inserted = await tx.query(
    `insert into idempotency_keys (msn, operation, key, fingerprint, created_at) values ($1, $2, $3, $4, $5)
     on conflict (msn, operation, key) do nothing`,
    [msn, operation, key, fingerprint, now],
  );
  if (inserted.rowCount === 1) return null;
  return findIdempotencyRecord(tx, msn, operation, key);
}

/** What an earlier call stored against the key (status and body are null while it is still running). */
async function findIdempotencyRecord(tx: Queryable, msn: string, operation: string, key: string): Promise<IdempotencyRecord | null> {
  const { rows } = await tx.query<IdempotencyRecord>(
    'select fingerprint, status, body from idempotency_keys where msn = $1 and operation = $2 and key = $3',
    [msn, operation, key],
  );
  return rows[0] ?? null;
}

export async function storeIdempotentResponse(
  tx: Queryable,
  msn: string,
  operation: string,
  key: string,
  status: number,
  body: unknown,
): Promise<void> {
  await tx.query('update idempotency_keys set status = $4, body = $5 where msn = $1 and operation = $2 and key = $3', [
    msn,
    operation,
    key,
    status,
    JSON.stringify(body ?? null),
  ]);
}

/** Gives a claimed key back when the outcome must not be stored (the client retries with it). */
export async function releaseIdempotencyKey(tx: Queryable, msn: string, operation: string, key: string): Promise<void> {
  await tx.query('delete from idempotency_keys where msn = $1 and operation = $2 and key = $3', [msn, operation, key]);
}
