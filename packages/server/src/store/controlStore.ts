/**
 * SQL for test mode's time control and fault injection (migration 005_control.sql): the shared clock
 * offsets, the fault rules with their draw counters, and what a webhook fault does to the outbox.
 * Changes notify a channel so every server process picks them up at once.
 */
import type { SharedOffsets } from '../clock.ts';
import type { FaultMatch, FaultRule, NewFaultRule } from '../control/types.ts';
import type { Database, Queryable } from './database.ts';
import { promoteNextHead, WEBHOOK_CHANNEL } from './webhooksStore.ts';

/** Notified with the new offsets (or only their version when they do not fit a notification). */
export const CLOCK_CHANNEL = 'kassa_clock';
/** Notified when fault rules are created or deleted. */
export const FAULTS_CHANNEL = 'kassa_faults';

/** NOTIFY payloads must stay below 8000 bytes; a larger state is announced by version only. */
const MAX_PAYLOAD = 7000;

// ---------------------------------------------------------------------------------------------------
// Clock offsets

interface OffsetRow {
  msn: string | null;
  offset_ms: number;
  version: number;
}

function toOffsets(rows: OffsetRow[]): SharedOffsets {
  const global = rows.find((row) => row.msn === null);
  const units = new Map<string, number>();
  for (const row of rows) if (row.msn !== null && row.offset_ms > 0) units.set(row.msn, row.offset_ms);
  return { version: global?.version ?? 0, globalMs: global?.offset_ms ?? 0, units };
}

export async function loadClockOffsets(db: Queryable): Promise<SharedOffsets> {
  const { rows } = await db.query<OffsetRow>('select msn, offset_ms, version from clock_offsets');
  return toOffsets(rows);
}

/** The payload announcing `offsets`: all of them when they fit, else the version (listeners then read the table). */
export function clockPayload(offsets: SharedOffsets): string {
  const full = JSON.stringify({ version: offsets.version, globalMs: offsets.globalMs, units: Object.fromEntries(offsets.units) });
  return full.length <= MAX_PAYLOAD ? full : JSON.stringify({ version: offsets.version });
}

/**
 * Changes the offsets in one transaction under the global row's lock, so changes from several
 * processes apply one after the other: `decide` gets the current offsets and returns the new ones (or
 * throws to refuse). Notifies CLOCK_CHANNEL at commit; returns the new offsets.
 */
export async function changeClockOffsets(
  db: Database,
  decide: (current: SharedOffsets) => { globalMs: number; units: ReadonlyMap<string, number> },
  changedBy: string,
): Promise<SharedOffsets> {
  return db.transaction(async (tx) => {
    await tx.query('select 1 from clock_offsets where msn is null for update');
    const current = await loadClockOffsets(tx);
    const next = decide(current);
    const changed: [string | null, number][] = [];
    if (next.globalMs !== current.globalMs) changed.push([null, next.globalMs]);
    const msns = new Set([...current.units.keys(), ...next.units.keys()]);
    for (const msn of msns) {
      const ms = next.units.get(msn) ?? 0;
      if (ms !== (current.units.get(msn) ?? 0)) changed.push([msn, ms]);
    }
    for (const [msn, ms] of changed) {
      await tx.query(
        `insert into clock_offsets (msn, offset_ms, changed_at, changed_by) values ($1, $2, clock_timestamp(), $3)
         on conflict on constraint clock_offsets_once
         do update set offset_ms = excluded.offset_ms, changed_at = excluded.changed_at, changed_by = excluded.changed_by`,
        [msn, ms, changedBy],
      );
    }
    await tx.query('update clock_offsets set version = version + 1 where msn is null');
    const result = await loadClockOffsets(tx);
    await tx.query('select pg_notify($1, $2)', [CLOCK_CHANNEL, clockPayload(result)]);
    return result;
  });
}

/** A process that follows the offsets, or its heartbeat: it has applied `version`. */
export async function noteClockListener(db: Queryable, listener: string, version: number): Promise<void> {
  await db.query(
    `insert into clock_listeners (listener, heard_version) values ($1, $2)
     on conflict (listener) do update
       set heard_version = greatest(clock_listeners.heard_version, excluded.heard_version), alive_at = clock_timestamp()`,
    [listener, version],
  );
}

export async function removeClockListener(db: Queryable, listener: string): Promise<void> {
  await db.query('delete from clock_listeners where listener = $1', [listener]);
}

/** How many live processes (heard from within `aliveMs`) have not applied `version` yet. */
export async function clockListenersBehind(db: Queryable, version: number, aliveMs: number): Promise<number> {
  const { rows } = await db.query<{ behind: number }>(
    `select count(*)::int as behind from clock_listeners
      where heard_version < $1 and alive_at > clock_timestamp() - $2::int * interval '1 millisecond'`,
    [version, aliveMs],
  );
  return rows[0]?.behind ?? 0;
}

// ---------------------------------------------------------------------------------------------------
// Fault rules

interface FaultRuleRow {
  id: number;
  msn: string;
  target: FaultRule['target'];
  match: FaultMatch;
  kind: FaultRule['kind'];
  phase: FaultRule['when'];
  status: number | null;
  retry_after_seconds: number | null;
  delay_ms: number | null;
  probability: number | null;
  every_nth: number | null;
  max_faults: number | null;
  seed: string;
  matched: number;
  injected: number;
  created_at: Date;
  created_by: string;
}

function toRule(row: FaultRuleRow): FaultRule {
  return {
    id: row.id,
    msn: row.msn,
    target: row.target,
    match: row.match,
    kind: row.kind,
    when: row.phase,
    status: row.status,
    retryAfterSeconds: row.retry_after_seconds,
    delayMs: row.delay_ms,
    probability: row.probability,
    everyNth: row.every_nth,
    count: row.max_faults,
    seed: row.seed,
    matched: row.matched,
    injected: row.injected,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export async function insertFaultRule(db: Queryable, rule: NewFaultRule): Promise<FaultRule> {
  const { rows } = await db.query<FaultRuleRow>(
    `with inserted as (
       insert into fault_rules (msn, target, match, kind, phase, status, retry_after_seconds, delay_ms, probability, every_nth,
                                max_faults, seed, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       returning *
     ), notified as (select pg_notify('${FAULTS_CHANNEL}', '') from inserted)
     select inserted.* from inserted, notified`,
    [
      rule.msn,
      rule.target,
      JSON.stringify(rule.match),
      rule.kind,
      rule.when,
      rule.status,
      rule.retryAfterSeconds,
      rule.delayMs,
      rule.probability,
      rule.everyNth,
      rule.count,
      rule.seed,
      rule.createdBy,
    ],
  );
  return toRule(rows[0] as FaultRuleRow);
}

/** Rules of the given sales units (every unit when `msns` is undefined), oldest first. */
export async function listFaultRules(
  db: Queryable,
  filter: { msns?: readonly string[]; target?: FaultRule['target'] } = {},
): Promise<FaultRule[]> {
  const { rows } = await db.query<FaultRuleRow>(
    `select * from fault_rules
      where ($1::text[] is null or msn = any ($1)) and ($2::text is null or target = $2)
      order by id`,
    [filter.msns ?? null, filter.target ?? null],
  );
  return rows.map(toRule);
}

export async function findFaultRule(db: Queryable, id: number): Promise<FaultRule | null> {
  const { rows } = await db.query<FaultRuleRow>('select * from fault_rules where id = $1', [id]);
  return rows[0] ? toRule(rows[0]) : null;
}

/** Deletes rules of `msns` (one of them when `id` is given); returns how many went. */
export async function deleteFaultRules(db: Queryable, msns: readonly string[], id?: number): Promise<number> {
  const { rows } = await db.query<{ deleted: number }>(
    `with deleted as (
       delete from fault_rules where msn = any ($1) and ($2::bigint is null or id = $2) returning id
     ), notified as (select pg_notify('${FAULTS_CHANNEL}', '') from deleted limit 1)
     select (select count(*) from deleted)::int as deleted, (select count(*) from notified) as notified`,
    [msns, id ?? null],
  );
  return rows[0]?.deleted ?? 0;
}

/** Counts one more matching request for the rule; returns its number (1, 2, ...), or null when the rule is gone. */
export async function drawFaultRule(db: Queryable, id: number): Promise<{ n: number; injected: number; count: number | null } | null> {
  const { rows } = await db.query<{ matched: number; injected: number; max_faults: number | null }>(
    'update fault_rules set matched = matched + 1 where id = $1 returning matched, injected, max_faults',
    [id],
  );
  const row = rows[0];
  return row ? { n: row.matched, injected: row.injected, count: row.max_faults } : null;
}

/**
 * Counts an injected fault, unless the rule has used up its count; returns the faults injected so far
 * with this one, or null when it may not inject.
 */
export async function takeFault(db: Queryable, id: number): Promise<number | null> {
  const { rows } = await db.query<{ injected: number }>(
    'update fault_rules set injected = injected + 1 where id = $1 and (max_faults is null or injected < max_faults) returning injected',
    [id],
  );
  return rows[0]?.injected ?? null;
}

// ---------------------------------------------------------------------------------------------------
// Webhook faults: what they do to the outbox (the dispatcher holds the delivery's lease)

/**
 * The delivery is lost: never sent, dropped, with an attempt record that says so (no HTTP status,
 * outcome `fault_dropped`). The payment's later events are not held back by it.
 */
export async function dropDeliveryByFault(
  db: Database,
  drop: { deliveryId: number; worker: string; scheduledAt: Date; at: Date; wallAt: Date; fault: string },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ attempts: number }>(
      `with changed as (
         update webhook_deliveries
            set state = 'dropped', dropped_reason = $3, fault = $3, attempts = attempts + 1,
                first_attempt_at = coalesce(first_attempt_at, $4), lease_until = null, leased_by = null
          where id = $1 and leased_by = $2 and state = 'pending'
          returning id, registration_id, payment_id, state, out_of_order, attempts
       ), ${promoteNextHead('changed')}
       select attempts from changed`,
      [drop.deliveryId, drop.worker, drop.fault, drop.at],
    );
    const row = rows[0];
    if (!row) return false;
    await tx.query(
      `insert into webhook_attempts (delivery_id, attempt, scheduled_at, started_at, x_ms_date, sent_at, duration_ms, http_status,
         outcome, error, next_attempt_at, final, worker, fault)
       values ($1, $2, $3, $4, '', $5, 0, null, 'fault_dropped', $6, null, 'dropped', $7, $8)`,
      [
        drop.deliveryId,
        row.attempts,
        drop.scheduledAt,
        drop.at,
        drop.wallAt,
        'not sent: dropped by fault injection',
        drop.worker,
        drop.fault,
      ],
    );
    return true;
  });
}

/**
 * The delivery waits until `until` (server clock of its sales unit) instead of going now. Out of
 * order (a 'reorder' fault) it no longer holds back the payment's later events, so they overtake it.
 */
export async function postponeDeliveryByFault(
  db: Queryable,
  postpone: { deliveryId: number; worker: string; until: Date; fault: string; outOfOrder: boolean },
): Promise<boolean> {
  // A reordered delivery stops holding back its queue: the next one becomes a head too.
  const { rows } = await db.query(
    `with changed as (
       update webhook_deliveries set next_attempt_at = $3, fault = $4, out_of_order = $5, lease_until = null, leased_by = null
        where id = $1 and leased_by = $2 and state = 'pending'
        returning id, registration_id, payment_id, state, out_of_order
     ), ${promoteNextHead('changed')},
     notified as (select pg_notify('${WEBHOOK_CHANNEL}', '') from changed)
     select 1 from notified`,
    [postpone.deliveryId, postpone.worker, postpone.until, postpone.fault, postpone.outOfOrder],
  );
  return rows.length > 0;
}

/**
 * Queues a second copy of the delivery right behind it (as a replay of it), so the receiver gets the
 * event twice; both carry the fault.
 */
export async function duplicateDeliveryByFault(db: Database, duplicate: { deliveryId: number; at: Date; fault: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('update webhook_deliveries set fault = $2 where id = $1', [duplicate.deliveryId, duplicate.fault]);
    await tx.query(
      // The original is pending under this worker's claim, so the copy queues behind it (not a head).
      `insert into webhook_deliveries (registration_id, event_id, payment_id, msn, reference, event_type, next_attempt_at, replay_of, fault)
       select registration_id, event_id, payment_id, msn, reference, event_type, $2, id, $3 from webhook_deliveries where id = $1`,
      [duplicate.deliveryId, duplicate.at, duplicate.fault],
    );
  });
}
