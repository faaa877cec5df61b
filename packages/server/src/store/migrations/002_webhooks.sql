-- Webhooks (platform-guidelines §4): registrations, the delivery outbox and every delivery attempt.
-- Times named *_at follow the server clock (test mode moves it) unless the comment says "wall clock".

-- One registration per POST /webhooks/v1/webhooks. Registrations are never removed from the table: a
-- DELETE or the two-week unresponsive rule sets disabled_at, so attempt history stays listable.
create table webhook_registrations (
  id uuid primary key,
  -- The registration bucket of §4.1 "Limits": sales-unit keys and PSP (partner) keys never share one.
  bucket text not null check (bucket in ('sales-unit', 'psp')),
  -- The sales unit the registration is scoped to; null = PSP-wide: every sales unit linked to the PSP,
  -- including ones linked later (§4.1, open question 26).
  msn text references sales_units (msn) on delete cascade,
  psp_id text,
  url text not null,
  events text[] not null,
  -- The secret, AES-256-GCM sealed with a server key (webhookSecrets.ts): returned once at
  -- registration and never readable through any API.
  secret_sealed text not null,
  created_by text not null,
  created_at timestamptz not null,
  -- Health, for "unresponsive for 2 weeks" (§4.5, open question 12).
  last_success_at timestamptz,
  failing_since timestamptz,
  last_failure_at timestamptz,
  disabled_at timestamptz,
  disabled_reason text check (disabled_reason in ('deleted', 'unresponsive')),
  check ((bucket = 'sales-unit' and msn is not null and psp_id is null) or (bucket = 'psp' and psp_id is not null))
);

create index webhook_registrations_msn on webhook_registrations (msn) where disabled_at is null;
create index webhook_registrations_psp on webhook_registrations (psp_id) where disabled_at is null and msn is null;

-- The outbox: one row per (event, matching registration), written in the transaction that wrote the
-- event (paymentsStore.insertEvents). Row ids give the order of delivery per (registration, payment).
create table webhook_deliveries (
  id bigserial primary key,
  registration_id uuid not null references webhook_registrations (id),
  event_id bigint not null references payment_events (id),
  payment_id bigint not null,
  msn text not null,
  reference text not null,
  event_type text not null,
  state text not null default 'pending' check (state in ('pending', 'delivered', 'dropped')),
  attempts integer not null default 0,
  -- The 7-day retry window of §4.5 counts from the first attempt.
  first_attempt_at timestamptz,
  next_attempt_at timestamptz not null,
  -- A claim by one server process (wall clock of the database, so it means the same to every process
  -- whatever their test clocks say). Expired leases are claimed again: a process killed mid-delivery
  -- loses nothing.
  lease_until timestamptz,
  leased_by text,
  -- Wall clock of the database when the event's transaction wrote the row, and when a receiver accepted
  -- it: the delivery lag a benchmark reports.
  committed_at timestamptz not null default clock_timestamp(),
  delivered_at timestamptz,
  dropped_reason text,
  -- A re-send requested through the control API copies the delivery; the copy queues behind newer events.
  replay_of bigint references webhook_deliveries (id)
);

-- Each event is queued once per registration (replays aside).
create unique index webhook_deliveries_once on webhook_deliveries (registration_id, event_id) where replay_of is null;
-- The head of each (registration, payment) queue, and what is due.
create index webhook_deliveries_queue on webhook_deliveries (registration_id, payment_id, id) where state = 'pending';
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at, id) where state = 'pending';
create index webhook_deliveries_reference on webhook_deliveries (msn, reference);

-- Every attempt, as §4.6 recommends: when, what the receiver answered, how long it took, what next.
create table webhook_attempts (
  id bigserial primary key,
  delivery_id bigint not null references webhook_deliveries (id),
  attempt integer not null,
  scheduled_at timestamptz not null,
  started_at timestamptz not null,
  x_ms_date text not null,
  -- Wall clock (see committed_at above).
  sent_at timestamptz not null,
  duration_ms integer not null,
  http_status integer,
  outcome text not null,
  error text,
  next_attempt_at timestamptz,
  final text check (final in ('delivered', 'dropped')),
  worker text not null
);

create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);
