/**
 * SQL for webhooks (platform-guidelines §4): registrations, the delivery outbox and the attempt log.
 * The outbox is written in the statement that writes the event it reports (OUTBOX_CTES, used by
 * paymentsStore.insertEvents) and claimed by the dispatchers of every server process with SKIP LOCKED.
 */
import { FAILURE_STREAK_GAP_MS, nextAttemptAt, UNRESPONSIVE_AFTER_MS } from '../webhooks/retrySchedule.ts';
import type {
  AttemptReport,
  AttemptView,
  ClaimedDelivery,
  DeliveryState,
  DeliveryView,
  WebhookOwner,
  WebhookRegistration,
} from '../webhooks/types.ts';
import type { Database, Queryable } from './database.ts';
import { type EventRow, toEvent } from './paymentsStore.ts';

/** The channel a commit that queued deliveries notifies; every dispatcher listens on it. */
export const WEBHOOK_CHANNEL = 'kassa_webhooks';

// ---------------------------------------------------------------------------------------------------
// Registrations

interface RegistrationRow {
  id: string;
  bucket: 'sales-unit' | 'psp';
  msn: string | null;
  psp_id: string | null;
  url: string;
  events: string[];
  created_at: Date;
  last_success_at: Date | null;
  failing_since: Date | null;
  disabled_at: Date | null;
  disabled_reason: 'deleted' | 'unresponsive' | null;
}

function toRegistration(row: RegistrationRow): WebhookRegistration {
  const owner: WebhookOwner =
    row.bucket === 'sales-unit'
      ? { bucket: 'sales-unit', msn: row.msn as string, pspId: null }
      : { bucket: 'psp', msn: row.msn, pspId: row.psp_id as string };
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    owner,
    createdAt: row.created_at,
    lastSuccessAt: row.last_success_at,
    failingSince: row.failing_since,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
  };
}

/** `r` owned by the owner in $1..$3. */
const OWNED_BY = 'r.bucket = $1 and r.msn is not distinct from $2 and r.psp_id is not distinct from $3';
const ownerParams = (owner: WebhookOwner) => [owner.bucket, owner.msn, owner.pspId];

/**
 * Serialises registrations of one owner until the transaction ends, so two concurrent registrations
 * cannot both pass the limit check.
 */
export async function lockOwnerRegistrations(tx: Queryable, owner: WebhookOwner): Promise<void> {
  await tx.query(
    "select pg_advisory_xact_lock(hashtext('webhooks:' || $1 || ':' || coalesce($2, '') || ':' || coalesce($3, '')))",
    ownerParams(owner),
  );
}

/** How many active registrations of the owner list each of `eventTypes`. */
export async function countRegistrationsByEvent(tx: Queryable, owner: WebhookOwner, eventTypes: string[]): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ event_type: string; count: number }>(
    `select t.event_type, count(r.id)::int as count
       from unnest($4::text[]) as t (event_type)
       left join webhook_registrations r on ${OWNED_BY} and r.disabled_at is null and t.event_type = any (r.events)
      group by t.event_type`,
    [...ownerParams(owner), eventTypes],
  );
  return new Map(rows.map((row) => [row.event_type, row.count]));
}

export async function insertRegistration(
  tx: Queryable,
  registration: {
    id: string;
    owner: WebhookOwner;
    url: string;
    events: string[];
    secretSealed: string;
    createdBy: string;
    createdAt: Date;
  },
): Promise<void> {
  const { id, owner, url, events, secretSealed, createdBy, createdAt } = registration;
  await tx.query(
    `insert into webhook_registrations (id, bucket, msn, psp_id, url, events, secret_sealed, created_by, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [id, owner.bucket, owner.msn, owner.pspId, url, events, secretSealed, createdBy, createdAt],
  );
}

/** The owner's registrations, oldest first; `includeDisabled` adds deleted and unresponsive ones. */
export async function listRegistrations(db: Queryable, owner: WebhookOwner, includeDisabled = false): Promise<WebhookRegistration[]> {
  const { rows } = await db.query<RegistrationRow>(
    `select * from webhook_registrations r where ${OWNED_BY} ${includeDisabled ? '' : 'and r.disabled_at is null'}
      order by r.created_at, r.id`,
    ownerParams(owner),
  );
  return rows.map(toRegistration);
}

/** Deletes (disables) one of the owner's active registrations and drops what it still had to deliver. */
export async function deleteRegistration(db: Database, owner: WebhookOwner, id: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `update webhook_registrations r set disabled_at = $5, disabled_reason = 'deleted'
        where ${OWNED_BY} and r.id = $4 and r.disabled_at is null returning r.id`,
      [...ownerParams(owner), id, now],
    );
    if (rows.length === 0) return false;
    await dropPendingDeliveries(tx, id, 'the registration was deleted');
    return true;
  });
}

async function dropPendingDeliveries(tx: Queryable, registrationId: string, reason: string): Promise<void> {
  await tx.query(
    `update webhook_deliveries set state = 'dropped', dropped_reason = $2, lease_until = null, leased_by = null
      where registration_id = $1 and state = 'pending'`,
    [registrationId, reason],
  );
}

// ---------------------------------------------------------------------------------------------------
// The outbox

// Queue heads (migration 008): only the head of a (registration, payment) queue is claimable. A new
// delivery is a head when its queue has nothing pending that holds it back (the writer of an event holds
// the payment's row lock, so events of one payment are queued one after another); a head that leaves the
// queue, or is reordered by a fault, promotes the next in the same statement. Those two run without a
// common lock, so in a rare interleaving — the new event saw the old head still pending, the finishing
// head did not see the new event — a queue is left without a head. Both sides then ask for a repair that
// runs after their commit (repairQueueHeads): the writer through the NOTIFY payload, the dispatcher that
// finished a head when it promoted nothing. Whichever commits last sees both, so no queue stays headless.

/** SQL: true when the queue of (registration, payment) has no pending delivery that holds back a new one. */
export function queueIsEmpty(registrationId: string, paymentId: string): string {
  return `not exists (select 1 from webhook_deliveries p
                       where p.registration_id = ${registrationId} and p.payment_id = ${paymentId}
                         and p.state = 'pending' and not p.out_of_order)`;
}

/**
 * SQL: a CTE that promotes, for each delivery of `changed` (a CTE returning the updated deliveries' id,
 * registration_id, payment_id, state and out_of_order) that left its queue or was reordered, the next
 * delivery of that queue. The statement's snapshot still shows them pending, hence the exclusions. With
 * `chained`, `changed` also returns chain_worker, chain_lease_ms and chain_now (the unit's clock), and a
 * promoted delivery that is due by then is claimed for that worker at once, so a payment's next event goes
 * out without waiting for a claim round. Each promoted row names the delivery it follows (`after_id`).
 */
export function promoteNextHead(changed: string, chained = false): string {
  const lease = chained
    ? `lease_until = case when n.next_attempt_at <= x.chain_now then clock_timestamp() + x.chain_lease_ms * interval '1 millisecond' end,
              leased_by = case when n.next_attempt_at <= x.chain_now then x.chain_worker end`
    : 'lease_until = null, leased_by = null';
  return `promoted as (
       update webhook_deliveries n
          set is_head = true, ${lease}
         from (select x.*, (select min(p.id) from webhook_deliveries p
                             where p.registration_id = x.registration_id and p.payment_id = x.payment_id
                               and p.state = 'pending' and not p.out_of_order and p.id <> x.id
                               and p.id not in (select c.id from ${changed} c where c.state <> 'pending')) as next_id
                 from ${changed} x where x.state <> 'pending' or x.out_of_order) x
        where n.id = x.next_id and not n.is_head
       returning n.*, x.id as after_id)`;
}

/**
 * Makes the oldest pending delivery the head of every queue of these payments (all payments: 'all') that
 * has pending deliveries but no head. Idempotent; run after the commits that may have left a queue
 * headless (see above). Returns how many heads it made.
 */
export async function repairQueueHeads(db: Queryable, paymentIds: number[] | 'all'): Promise<number> {
  if (paymentIds !== 'all' && paymentIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `update webhook_deliveries n set is_head = true
      where n.id in (select min(p.id) from webhook_deliveries p
                      where p.state = 'pending' and not p.out_of_order ${paymentIds === 'all' ? '' : 'and p.payment_id = any ($1::bigint[])'}
                      group by p.registration_id, p.payment_id
                     having not bool_or(p.is_head))`,
    paymentIds === 'all' ? [] : [paymentIds],
  );
  return rowCount;
}

/** Orders a replayed copy against new events of its payment, as their writer does: the payment's row lock. */
async function lockPaymentOf(tx: Queryable, deliveryId: number): Promise<void> {
  await tx.query('select 1 from payments where id = (select payment_id from webhook_deliveries where id = $1) for share', [deliveryId]);
}

/**
 * The outbox half of writing an event, as CTEs to append to the statement that inserts the event
 * (a CTE named `written` returning the event row): one delivery per matching registration, and a
 * NOTIFY (delivered at commit) when there is any. One statement, so an event costs one round trip.
 */
export const OUTBOX_CTES = `queued as (
       insert into webhook_deliveries (registration_id, event_id, payment_id, msn, reference, event_type, next_attempt_at, is_head)
       select r.id, e.id, e.payment_id, e.msn, e.reference, t.event_type, e.occurred_at, ${queueIsEmpty('r.id', 'e.payment_id')}
         from written e
         cross join lateral (select 'epayments.payment.' || lower(e.name) || '.v1' as event_type) t
         join webhook_registrations r on r.disabled_at is null and t.event_type = any (r.events)
        where r.msn = e.msn
           or (r.msn is null and exists (
                 select 1 from key_sets k join key_set_sales_units s on s.client_id = k.client_id
                  where k.psp_id = r.psp_id and s.msn = e.msn))
        order by r.created_at, r.id
       returning payment_id, is_head
     ),
     -- The payload names the payment when a delivery queued behind another (see repairQueueHeads).
     notified as (select pg_notify('${WEBHOOK_CHANNEL}', case when bool_and(is_head) then '' else min(payment_id)::text end)
                    from queued having count(*) > 0)`;

interface ClaimedRow extends EventRow {
  id: number;
  registration_id: string;
  payment_id: number;
  next_attempt_at: Date;
  url: string;
  secret_sealed: string;
  attempts: number;
  fault: string | null;
}

export interface ClaimOptions {
  /** Server clock: deliveries due at or before it are claimed. */
  now: Date;
  /** Sales units whose clock runs ahead of `now`, and by how many milliseconds (time control, test mode). */
  unitOffsets?: ReadonlyMap<string, number>;
  limit: number;
  /** Attempts one process runs at once for one registration (a hanging receiver must not take all). */
  perRegistration: number;
  /** Attempts this process already runs, per registration. */
  inFlight: ReadonlyMap<string, number>;
  leaseMs: number;
  worker: string;
}

/**
 * Claims due deliveries for one attempt each. Only the head of each (registration, payment) queue is
 * ever claimable (is_head, see queueIsEmpty), so events of a payment reach a receiver in order and a
 * failing one holds back the later ones (§4.5, open question 10); other payments and registrations go on. Rows another process is
 * claiming are skipped (SKIP LOCKED); a claim is a lease on the database's wall clock, taken over by
 * another process only after it expired (the claiming process died).
 */
export async function claimDeliveries(db: Queryable, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  if (options.limit <= 0) return [];
  const busy = [...options.inFlight.entries()];
  const ahead = [...(options.unitOffsets ?? new Map<string, number>()).entries()];
  const latest = new Date(options.now.getTime() + Math.max(0, ...ahead.map(([, ms]) => ms)));
  const { rows } = await db.query<ClaimedRow>(
    `with busy as (
       select * from unnest($3::uuid[], $4::int[]) as b (registration_id, in_flight)
     ), ahead as (
       select * from unnest($8::text[], $9::float8[]) as a (msn, ms)
     ), candidates as (
       -- Per registration, its oldest due queue heads, as many as it may still have in flight here.
       select h.id, h.next_attempt_at
         from webhook_registrations r
         left join busy on busy.registration_id = r.id
         cross join lateral (
               select d.id, d.next_attempt_at
                 from webhook_deliveries d
                where d.registration_id = r.id and d.state = 'pending' and d.is_head and d.next_attempt_at <= $10
                  -- Due by the clock of the delivery's sales unit.
                  and d.next_attempt_at <= $1::timestamptz
                        + coalesce((select a.ms from ahead a where a.msn = d.msn), 0) * interval '1 millisecond'
                  and (d.lease_until is null or d.lease_until < clock_timestamp())
                order by d.next_attempt_at, d.id
                limit greatest($5 - coalesce(busy.in_flight, 0), 0)) h
        where r.disabled_at is null
        order by h.next_attempt_at, h.id
        limit $2
     ), claimed as (
       select d.id from webhook_deliveries d join candidates c on c.id = d.id
        where d.state = 'pending' and d.is_head and (d.lease_until is null or d.lease_until < clock_timestamp())
        for update of d skip locked
     )
     update webhook_deliveries d
        set lease_until = clock_timestamp() + $6::int * interval '1 millisecond', leased_by = $7
       from claimed, webhook_registrations r, payment_events e
      where d.id = claimed.id and r.id = d.registration_id and e.id = d.event_id
     returning ${claimedColumns('d')}`,
    [
      options.now,
      options.limit,
      busy.map(([id]) => id),
      busy.map(([, count]) => count),
      options.perRegistration,
      options.leaseMs,
      options.worker,
      ahead.map(([msn]) => msn),
      ahead.map(([, ms]) => ms),
      latest,
    ],
  );
  return rows.sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime() || a.id - b.id).map(toClaimed);
}

/** What a claim returns of delivery `d` (joined with its registration `r` and event `e`). */
const claimedColumns = (d: string) =>
  `${d}.id, ${d}.registration_id, ${d}.payment_id, ${d}.next_attempt_at, r.url, r.secret_sealed, e.msn, e.reference, e.psp_reference,
   e.name, e.amount, e.currency, e.occurred_at, e.idempotency_key, e.success, e.extra, ${d}.attempts, ${d}.fault`;

function toClaimed(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    registrationId: row.registration_id,
    paymentId: row.payment_id,
    url: row.url,
    secretSealed: row.secret_sealed,
    scheduledAt: row.next_attempt_at,
    event: toEvent(row),
    attempts: row.attempts,
    fault: row.fault,
  };
}

/** Gives claimed deliveries back without an attempt (the process is stopping). */
export async function releaseDeliveries(db: Queryable, ids: number[], worker: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query('update webhook_deliveries set lease_until = null, leased_by = null where id = any ($1::bigint[]) and leased_by = $2', [
    ids,
    worker,
  ]);
}

/**
 * Releases every lease. Only for the embedded store, which one process opens at a time: leases found
 * at start belong to a process that is gone.
 */
export async function releaseAllLeases(db: Queryable): Promise<void> {
  await db.query('update webhook_deliveries set lease_until = null, leased_by = null where lease_until is not null');
}

export interface RecordedAttempt {
  attempt: number;
  final: 'delivered' | 'dropped' | null;
  nextAttemptAt: Date | null;
  /** The registration was disabled by this failure (unresponsive for two weeks). */
  disabled: boolean;
  /** The payment's next event for this registration, claimed for the reporting worker (see `chain`). */
  next: ClaimedDelivery | null;
  /** The delivery left its queue and promoted nothing: the queue needs repairQueueHeads after this commit. */
  leftQueueHeadless: boolean;
}

/** Claim the queue's next delivery for the reporting worker when it is due: its lease and the unit's clock. */
export interface ChainOptions {
  leaseMs: number;
  now: Date;
}

/** A successful attempt to record, and whether to claim the payment's next event for the reporting worker. */
export interface DeliveredReport {
  report: AttemptReport;
  chain?: ChainOptions;
}

/** An attempt that did not deliver. */
export type FailedReport = AttemptReport & { outcome: Exclude<AttemptReport['outcome'], 'delivered'> };

/**
 * Records a failed attempt and its consequence, in one transaction: retried later (§4.5 schedule) or
 * dropped after 7 days, and the registration's health, which disables it after two weeks of failures.
 * A claim that expired meanwhile (another process took over) records the attempt and changes nothing
 * else. Successes go through recordDeliveries.
 */
export async function recordFailedAttempt(db: Database, report: FailedReport, chain?: ChainOptions): Promise<RecordedAttempt> {
  return db.transaction(async (tx) => {
    // Lock order registration → delivery, as in deleteRegistration: concurrent attempts for one
    // registration then queue on its row instead of deadlocking.
    const unresponsive = await recordRegistrationHealth(tx, report.registrationId, false, report.endedAt);
    const { rows } = await tx.query<{ attempts: number; first_attempt_at: Date }>(
      `select attempts + 1 as attempts, coalesce(first_attempt_at, $3) as first_attempt_at from webhook_deliveries
        where id = $1 and leased_by = $2 and state = 'pending'`,
      [report.deliveryId, report.worker, report.startedAt],
    );
    const claim = rows[0];
    const next = claim ? nextAttemptAt(claim.first_attempt_at, claim.attempts, report.endedAt) : null;
    const result = claim
      ? ((await finishAttempts(tx, [{ report, final: next ? null : 'dropped', next, chain }]))[0] as RecordedAttempt)
      : await recordLostClaim(tx, report);
    if (unresponsive) {
      await tx.query(`update webhook_registrations set disabled_at = $2, disabled_reason = 'unresponsive' where id = $1`, [
        report.registrationId,
        report.endedAt,
      ]);
      await dropPendingDeliveries(tx, report.registrationId, 'the registration was unresponsive for 14 days and was removed');
      return { ...result, disabled: true, next: null };
    }
    return result;
  });
}

/**
 * Records successful attempts, any number in one statement (the dispatcher's group commit), after
 * marking their registrations healthy where the reports ask for it (at most once a second per
 * registration and process). Results in the reports' order.
 */
export async function recordDeliveries(db: Queryable, delivered: readonly DeliveredReport[]): Promise<RecordedAttempt[]> {
  const toMark = new Map<string, Date>();
  for (const { report } of delivered) if (!report.healthyJustNow) toMark.set(report.registrationId, report.endedAt);
  for (const [registrationId, at] of toMark) await recordRegistrationHealth(db, registrationId, true, at);
  return finishAttempts(
    db,
    delivered.map(({ report, chain }) => ({ report, final: 'delivered', next: null, chain })),
  );
}

interface FinishedAttempt {
  report: AttemptReport;
  final: 'delivered' | 'dropped' | null;
  /** When the delivery is retried (final null). */
  next: Date | null;
  chain: ChainOptions | undefined;
}

/**
 * One statement for any number of attempts: each delivery's new state (final, or pending until `next`),
 * its attempt, and — when it left its queue — the promotion of the queue's next delivery, claimed for
 * the reporting worker with `chain`. An attempt whose claim was lost meanwhile is recorded on its own.
 */
async function finishAttempts(db: Queryable, attempts: readonly FinishedAttempt[]): Promise<RecordedAttempt[]> {
  const input = attempts.map(({ report, final, next, chain }) => ({
    id: report.deliveryId,
    worker: report.worker,
    started_at: report.startedAt,
    final,
    delivered_at: new Date(report.sentAt.getTime() + report.durationMs),
    next_at: next,
    scheduled_at: report.scheduledAt,
    x_ms_date: report.xMsDate,
    sent_at: report.sentAt,
    duration_ms: report.durationMs,
    http_status: report.httpStatus,
    outcome: report.outcome,
    error: report.error,
    chain_worker: chain ? report.worker : null,
    chain_lease_ms: chain?.leaseMs ?? null,
    chain_now: chain?.now ?? null,
  }));
  const { rows } = await db.query<ClaimedRow & { delivery_id: number; attempt: number | null; promoted: number }>(
    `with input as (
       select * from jsonb_to_recordset($1::jsonb) as i (id bigint, worker text, started_at timestamptz, final text,
         delivered_at timestamptz, next_at timestamptz, scheduled_at timestamptz, x_ms_date text, sent_at timestamptz,
         duration_ms int, http_status int, outcome text, error text, chain_worker text, chain_lease_ms int,
         chain_now timestamptz)
     ), changed as (
       update webhook_deliveries d
          set attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, i.started_at), state = coalesce(i.final, 'pending'),
              delivered_at = case when i.final = 'delivered' then i.delivered_at end,
              next_attempt_at = coalesce(i.next_at, d.next_attempt_at),
              dropped_reason = case when i.final = 'dropped' then 'no successful attempt within 7 days' end,
              lease_until = null, leased_by = null
         from input i
        where d.id = i.id and d.leased_by = i.worker and d.state = 'pending'
       returning d.id, d.registration_id, d.payment_id, d.state, d.out_of_order, d.fault, d.attempts,
                 i.chain_worker, i.chain_lease_ms, i.chain_now
     ), ${promoteNextHead('changed', true)},
     attempt as (${ATTEMPT_INSERT}
       select i.id, c.attempts, i.scheduled_at, i.started_at, i.x_ms_date, i.sent_at, i.duration_ms, i.http_status, i.outcome,
              i.error, i.next_at, i.final, i.worker,
              -- A delivery shaped by fault injection names the fault on its first attempt.
              case when c.attempts = 1 then c.fault end
         from changed c join input i on i.id = c.id)
     select i.id as delivery_id, c.attempts as attempt, (select count(*) from promoted p where p.after_id = i.id) as promoted, chained.*
       from input i
       left join changed c on c.id = i.id
       left join (select n.after_id, ${claimedColumns('n')}
                    from promoted n join webhook_registrations r on r.id = n.registration_id
                    join payment_events e on e.id = n.event_id
                   where n.leased_by is not null) chained on chained.after_id = i.id`,
    [JSON.stringify(input)],
  );
  const byDelivery = new Map(rows.map((row) => [Number(row.delivery_id), row]));
  return Promise.all(
    attempts.map(({ report, final, next }) => {
      const row = byDelivery.get(report.deliveryId);
      // Only a deleted registration can have dropped a delivery whose lease is still ours.
      if (!row || row.attempt === null) return recordLostClaim(db, report);
      return {
        attempt: row.attempt,
        final,
        nextAttemptAt: next,
        disabled: false,
        next: row.id === null ? null : toClaimed(row),
        leftQueueHeadless: final !== null && Number(row.promoted) === 0,
      };
    }),
  );
}

/** Records an attempt whose claim was lost: nothing about the delivery changes. */
async function recordLostClaim(db: Queryable, report: AttemptReport): Promise<RecordedAttempt> {
  const { rows } = await db.query<{ attempt: number }>(
    `${ATTEMPT_INSERT}
     select d.id, d.attempts + 1, $2, $3, $4, $5, $6, $7, $8, $9, null, null, $10, case when d.attempts = 0 then d.fault end
       from webhook_deliveries d where d.id = $1
     returning attempt`,
    [
      report.deliveryId,
      report.scheduledAt,
      report.startedAt,
      report.xMsDate,
      report.sentAt,
      report.durationMs,
      report.httpStatus,
      report.outcome,
      report.error,
      report.worker,
    ],
  );
  return { attempt: rows[0]?.attempt ?? 1, final: null, nextAttemptAt: null, disabled: false, next: null, leftQueueHeadless: false };
}

const ATTEMPT_INSERT = `insert into webhook_attempts (delivery_id, attempt, scheduled_at, started_at, x_ms_date, sent_at, duration_ms,
    http_status, outcome, error, next_attempt_at, final, worker, fault)`;

/** Returns true when this failure makes the registration unresponsive for two weeks. */
async function recordRegistrationHealth(tx: Queryable, registrationId: string, delivered: boolean, at: Date): Promise<boolean> {
  if (delivered) {
    // A healthy registration's row is written at most once a minute, so a busy receiver's deliveries do
    // not all queue on it (rows that do not match are not locked).
    await tx.query(
      `update webhook_registrations set last_success_at = $2, failing_since = null
        where id = $1 and (failing_since is not null or last_success_at is null or last_success_at < $3)`,
      [registrationId, at, new Date(at.getTime() - 60_000)],
    );
    return false;
  }
  const { rows } = await tx.query<{ failing_since: Date; disabled_at: Date | null }>(
    `update webhook_registrations
        set failing_since = case when failing_since is null or last_failure_at < $3 then $2 else failing_since end,
            last_failure_at = $2
      where id = $1
      returning failing_since, disabled_at`,
    [registrationId, at, new Date(at.getTime() - FAILURE_STREAK_GAP_MS)],
  );
  const row = rows[0];
  return !!row && row.disabled_at === null && at.getTime() - row.failing_since.getTime() >= UNRESPONSIVE_AFTER_MS;
}

// ---------------------------------------------------------------------------------------------------
// Diagnostics and replay (the /kassa/v1 control API)

export interface DeliveryFilter {
  reference?: string;
  registrationId?: string;
  deliveryId?: number;
  state?: DeliveryState;
  limit: number;
}

function filterSql(filter: DeliveryFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.reference !== undefined) add('d.reference = ?', filter.reference);
  if (filter.registrationId !== undefined) add('d.registration_id = ?', filter.registrationId);
  if (filter.deliveryId !== undefined) add('d.id = ?', filter.deliveryId);
  if (filter.state !== undefined) add('d.state = ?', filter.state);
  return clauses.map((clause) => ` and ${clause}`).join('');
}

interface DeliveryRow {
  id: number;
  registration_id: string;
  url: string;
  event_type: string;
  msn: string;
  reference: string;
  psp_reference: string;
  state: DeliveryState;
  attempts: number;
  first_attempt_at: Date | null;
  next_attempt_at: Date;
  committed_at: Date;
  delivered_at: Date | null;
  dropped_reason: string | null;
  replay_of: number | null;
  fault: string | null;
}

function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    registrationId: row.registration_id,
    url: row.url,
    eventType: row.event_type,
    msn: row.msn,
    reference: row.reference,
    pspReference: row.psp_reference,
    state: row.state,
    attempts: row.attempts,
    firstAttemptAt: row.first_attempt_at,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    committedAt: row.committed_at,
    deliveredAt: row.delivered_at,
    droppedReason: row.dropped_reason,
    replayOf: row.replay_of,
    fault: row.fault,
  };
}

const DELIVERY_SELECT = `select d.id, d.registration_id, r.url, d.event_type, d.msn, d.reference, e.psp_reference, d.state, d.attempts,
    d.first_attempt_at, d.next_attempt_at, d.committed_at, d.delivered_at, d.dropped_reason, d.replay_of, d.fault
  from webhook_deliveries d
  join webhook_registrations r on r.id = d.registration_id
  join payment_events e on e.id = d.event_id`;

/** The owner's deliveries (one per event and registration), newest first. */
export async function listDeliveries(db: Queryable, owner: WebhookOwner, filter: DeliveryFilter): Promise<DeliveryView[]> {
  const params: unknown[] = ownerParams(owner);
  const where = filterSql(filter, params);
  params.push(filter.limit);
  const { rows } = await db.query<DeliveryRow>(
    `${DELIVERY_SELECT} where ${OWNED_BY}${where} order by d.id desc limit $${params.length}`,
    params,
  );
  return rows.map(toDeliveryView);
}

interface AttemptRow {
  delivery_id: number;
  registration_id: string;
  event_type: string;
  msn: string;
  reference: string;
  psp_reference: string;
  attempt: number;
  scheduled_at: Date;
  started_at: Date;
  x_ms_date: string;
  sent_at: Date;
  duration_ms: number;
  http_status: number | null;
  outcome: string;
  error: string | null;
  next_attempt_at: Date | null;
  final: 'delivered' | 'dropped' | null;
  committed_at: Date;
  delivered_at: Date | null;
  worker: string;
  fault: string | null;
}

/** The owner's delivery attempts, newest first. */
export async function listAttempts(db: Queryable, owner: WebhookOwner, filter: DeliveryFilter): Promise<AttemptView[]> {
  const params: unknown[] = ownerParams(owner);
  const where = filterSql(filter, params);
  params.push(filter.limit);
  const { rows } = await db.query<AttemptRow>(
    `select a.delivery_id, d.registration_id, d.event_type, d.msn, d.reference, e.psp_reference, a.attempt, a.scheduled_at,
            a.started_at, a.x_ms_date, a.sent_at, a.duration_ms, a.http_status, a.outcome, a.error, a.next_attempt_at, a.final,
            d.committed_at, case when a.final = 'delivered' then d.delivered_at end as delivered_at, a.worker, a.fault
       from webhook_attempts a
       join webhook_deliveries d on d.id = a.delivery_id
       join webhook_registrations r on r.id = d.registration_id
       join payment_events e on e.id = d.event_id
      where ${OWNED_BY}${where}
      order by a.id desc
      limit $${params.length}`,
    params,
  );
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    registrationId: row.registration_id,
    eventType: row.event_type,
    msn: row.msn,
    reference: row.reference,
    pspReference: row.psp_reference,
    attempt: row.attempt,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    xMsDate: row.x_ms_date,
    sentAt: row.sent_at,
    durationMs: row.duration_ms,
    httpStatus: row.http_status,
    outcome: row.outcome,
    error: row.error,
    nextAttemptAt: row.next_attempt_at,
    final: row.final,
    committedAt: row.committed_at,
    deliveredAt: row.delivered_at,
    worker: row.worker,
    fault: row.fault,
  }));
}

export type ReplayResult = { replayed: DeliveryView } | { problem: 'not-found' | 'registration-disabled' };

/**
 * Sends a delivery again (Kassa's addition; the platform has no manual re-send, §4.5). A pending one is
 * tried now instead of at its backoff time, keeping its place in the order; a delivered or dropped one
 * is queued again as a copy, behind the payment's newer events.
 */
export async function replayDelivery(db: Database, owner: WebhookOwner, deliveryId: number, now: Date): Promise<ReplayResult> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: number; state: DeliveryState; disabled_at: Date | null }>(
      `select d.id, d.state, r.disabled_at from webhook_deliveries d join webhook_registrations r on r.id = d.registration_id
        where ${OWNED_BY} and d.id = $4 for update of d`,
      [...ownerParams(owner), deliveryId],
    );
    const found = rows[0];
    if (!found) return { problem: 'not-found' };
    if (found.disabled_at !== null) return { problem: 'registration-disabled' };
    let id = found.id;
    if (found.state === 'pending') {
      await tx.query('update webhook_deliveries set next_attempt_at = least(next_attempt_at, $2) where id = $1', [id, now]);
    } else {
      await lockPaymentOf(tx, id);
      const copy = await tx.query<{ id: number }>(
        `insert into webhook_deliveries (registration_id, event_id, payment_id, msn, reference, event_type, next_attempt_at, replay_of, is_head)
         select d.registration_id, d.event_id, d.payment_id, d.msn, d.reference, d.event_type, $2, d.id,
                ${queueIsEmpty('d.registration_id', 'd.payment_id')}
           from webhook_deliveries d where d.id = $1
         returning id`,
        [id, now],
      );
      id = (copy.rows[0] as { id: number }).id;
    }
    await tx.query(`select pg_notify('${WEBHOOK_CHANNEL}', payment_id::text) from webhook_deliveries where id = $1`, [id]);
    const view = await tx.query<DeliveryRow>(`${DELIVERY_SELECT} where d.id = $1`, [id]);
    return { replayed: toDeliveryView(view.rows[0] as DeliveryRow) };
  });
}
