-- Test mode's time control and fault injection (docs/time-and-faults.md). Production mode never reads
-- these tables.

-- How far the server clock runs ahead of real time: one row with msn null for the global offset, and
-- one per sales unit moved on its own, holding how far that unit runs ahead of global time. Offsets
-- never go below zero; every change takes the global row's lock and bumps its version, so processes
-- apply changes in order (control/clockOffsets.ts).
create table clock_offsets (
  msn text references sales_units (msn) on delete cascade,
  offset_ms bigint not null default 0 check (offset_ms >= 0),
  -- Meaningful on the global row only: the version of the whole set of offsets.
  version bigint not null default 0,
  -- Wall clock, and the key set that made the change.
  changed_at timestamptz not null default clock_timestamp(),
  changed_by text,
  constraint clock_offsets_once unique nulls not distinct (msn)
);

insert into clock_offsets (msn) values (null);

-- Every server process that follows the offsets, with the newest version it has applied; a process
-- refreshes alive_at every few seconds and deletes its row when it stops. A change answers once every
-- process alive in the last 15 seconds has applied it, so no process acts on the old time afterwards.
create table clock_listeners (
  listener text primary key,
  heard_version bigint not null,
  alive_at timestamptz not null default clock_timestamp()
);

-- Fault rules, per sales unit. A rule draws once for every request (target 'api') or first delivery
-- attempt (target 'webhook') it matches: `matched` is the draw's number n, and the rule fires when
-- n is a multiple of every_nth, or when the seeded hash of (seed, n) falls below `probability`, or
-- always when neither is set; at most max_faults times (null: no limit). Counters live here, so
-- several processes draw from one sequence and the same seed and request order give the same faults.
create table fault_rules (
  id bigserial primary key,
  msn text not null references sales_units (msn) on delete cascade,
  target text not null check (target in ('api', 'webhook')),
  -- api: {method, route, operation}; webhook: {eventType}; {} matches everything of the target.
  match jsonb not null default '{}',
  kind text not null check (kind in ('error', 'latency', 'timeout', 'delay', 'drop', 'duplicate', 'reorder')),
  -- api faults: before the operation runs (it never does) or after it committed (the answer is lost).
  phase text check (phase in ('before', 'after')),
  status integer,
  retry_after_seconds integer,
  delay_ms integer,
  probability double precision check (probability >= 0 and probability <= 1),
  every_nth integer check (every_nth >= 1),
  max_faults integer check (max_faults >= 1),
  seed text not null,
  matched bigint not null default 0,
  injected bigint not null default 0,
  created_at timestamptz not null default clock_timestamp(),
  created_by text not null,
  check ((target = 'api') = (kind in ('error', 'latency', 'timeout'))),
  check ((target = 'api') = (phase is not null))
);

create index fault_rules_msn on fault_rules (msn, id);

-- What fault injection did to a webhook delivery ("delay 5000 ms (rule 3)"), and to an attempt.
alter table webhook_deliveries add column fault text;
-- A delivery held back by a 'reorder' fault does not hold back the payment's later events.
alter table webhook_deliveries add column out_of_order boolean not null default false;
alter table webhook_attempts add column fault text;
