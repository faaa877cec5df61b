-- Sales units, key sets, payments, their event log and idempotency records.

create table sales_units (
  msn text primary key,
  name text not null,
  market text not null check (market in ('NO', 'DK', 'FI')),
  currency text not null check (currency in ('NOK', 'DKK', 'EUR')),
  -- Platform approvals and configuration (push message, Express, long-living, ...); see salesUnitSettings.ts.
  settings jsonb not null default '{}',
  created_at timestamptz not null default now()
);

-- A key set is one client_id / client_secret / subscription key triple. Merchant key sets reach their
-- own sales unit; PSP key sets reach the sales units they onboarded (key_set_sales_units).
create table key_sets (
  client_id text primary key,
  client_secret_hash text not null,
  subscription_key_hash text not null unique,
  kind text not null check (kind in ('merchant', 'psp')),
  psp_id text unique,
  created_at timestamptz not null default now()
);

create table key_set_sales_units (
  client_id text not null references key_sets (client_id) on delete cascade,
  msn text not null references sales_units (msn) on delete cascade,
  primary key (client_id, msn)
);

-- Server-wide secrets (the access-token signing key), shared by every process on one database.
create table server_secrets (
  name text primary key,
  value text not null
);

create sequence event_psp_reference_seq start with 1304787731;

create table payments (
  id bigserial primary key,
  msn text not null references sales_units (msn),
  reference text not null,
  psp_reference uuid not null unique,
  state text not null check (state in ('CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED')),
  currency text not null,
  amount bigint not null,
  authorized_amount bigint not null default 0,
  captured_amount bigint not null default 0,
  cancelled_amount bigint not null default 0,
  refunded_amount bigint not null default 0,
  user_flow text not null,
  payment_method_type text not null,
  card_bin text,
  redirect_token text unique,
  -- The create request as accepted, for everything the state machine does not need as columns.
  request jsonb not null,
  customer_phone text,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  authorized_at timestamptz,
  capture_deadline timestamptz,
  capture_guaranteed_until timestamptz,
  profile_sub text,
  user_details jsonb,
  shipping_details jsonb,
  -- Set while a user is inside authorization (app screen open with a card callback in flight, 3-D Secure).
  processing_until timestamptz,
  unique (msn, reference),
  check (authorized_amount >= 0 and captured_amount >= 0 and cancelled_amount >= 0 and refunded_amount >= 0),
  check (captured_amount + cancelled_amount <= greatest(authorized_amount, cancelled_amount)),
  check (refunded_amount <= captured_amount)
);

create index payments_created_expiry on payments (expires_at) where state = 'CREATED';
create index payments_capture_deadline on payments (capture_deadline)
  where state = 'AUTHORIZED';

create table payment_events (
  id bigserial primary key,
  payment_id bigint not null references payments (id),
  msn text not null,
  reference text not null,
  psp_reference text not null default nextval('event_psp_reference_seq')::text,
  name text not null check (name in ('CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'CANCELLED', 'CAPTURED', 'REFUNDED', 'TERMINATED')),
  amount bigint not null,
  currency text not null,
  occurred_at timestamptz not null,
  idempotency_key text,
  success boolean not null,
  -- Extra payload fields for the webhook of this event (authorized: userDetails, sub, captureGuaranteedUntil, ...).
  extra jsonb
);

create index payment_events_payment on payment_events (payment_id, id);

-- Idempotency records, scoped per sales unit and operation (spec §12.1, open question 4).
create table idempotency_keys (
  msn text not null,
  operation text not null,
  key text not null,
  fingerprint text not null,
  status integer,
  body jsonb,
  created_at timestamptz not null,
  primary key (msn, operation, key)
);

-- Test users of the wallet-app simulator, with profile data for every scope and their cards.
create table test_users (
  phone text primary key,
  market text not null,
  first_name text not null,
  last_name text not null,
  email text not null,
  birth_date date not null,
  nin text not null,
  address jsonb not null,
  cards jsonb not null,
  can_pay_businesses boolean not null default true,
  manual_approvals integer not null default 0
);

-- One stable `sub` per user per sales unit (platform-guidelines §13.2).
create table profile_subs (
  msn text not null,
  phone text not null references test_users (phone),
  sub text not null unique,
  primary key (msn, phone)
);

-- Customer tokens delivered by QR check-in, valid 15 minutes (platform-guidelines §12.2).
create table customer_tokens (
  token text primary key,
  msn text not null,
  phone text not null references test_users (phone),
  expires_at timestamptz not null
);
