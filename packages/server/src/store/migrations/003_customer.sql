-- The customer side (issue 4): what the wallet-app simulator remembers beside the payments, and the
-- codes of the QR API (platform-guidelines §10–§12).

-- A payment request that reached a test user's app: a phone number typed on the landing page, an
-- app-switch from the landing page on a phone, a native deeplink, or a scanned QR. PUSH_MESSAGE
-- payments need no row: `payments.customer_phone` already names the user (they appear at once).
create table app_payment_requests (
  payment_id bigint not null references payments (id),
  phone text not null references test_users (phone),
  source text not null check (source in ('landing', 'app-switch', 'native', 'qr')),
  requested_at timestamptz not null,
  primary key (payment_id, phone)
);

create index app_payment_requests_phone on app_payment_requests (phone, requested_at);

-- Authorizations that failed in the app (declined, insufficient funds, expired card, magic amounts):
-- the payment stays CREATED (epayment-api §16), so this is the only trace of them.
create table app_authorization_attempts (
  id bigserial primary key,
  payment_id bigint not null references payments (id),
  phone text not null,
  card_id text,
  reason text not null,
  attempted_at timestamptz not null
);

create index app_authorization_attempts_payment on app_authorization_attempts (payment_id, id);

-- Shipping options of an Express payment with dynamic options, as the merchant's callback answered
-- them for one user (epayment-api §14.1); approval picks from these.
create table app_shipping_quotes (
  payment_id bigint not null references payments (id),
  phone text not null,
  groups jsonb,
  error text,
  fetched_at timestamptz not null,
  primary key (payment_id, phone)
);

-- Codes of the QR API (platform-guidelines §12.2). `public_id` is what the printed image encodes; it
-- is new for every code, so a deleted code stays dead even when its merchant id is used again.
create table qr_codes (
  public_id text primary key,
  msn text not null references sales_units (msn),
  kind text not null check (kind in ('one-time', 'merchant-redirect', 'merchant-callback')),
  -- The merchant's id: the redirect QR `id` or the callback QR `merchantQrId`; null for one-time codes.
  qr_id text,
  target_url text,
  location_description text,
  category text,
  created_at timestamptz not null,
  expires_at timestamptz
);

create unique index qr_codes_merchant_id on qr_codes (msn, kind, qr_id);
