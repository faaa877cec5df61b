-- PSP card passthrough (epayment-api §17, platform-guidelines §17–§18): the PSP's signing secret, the
-- public keys it registered for encrypted PANs, which PSP created a payment, the user's authorization
-- attempts and every card callback Kassa made. Times named *_at follow the server clock.

-- The card callback is signed "like webhooks but with the PSP's client secret as key" (§17.3), and
-- key_sets keeps only a digest of that secret. So a PSP key set also keeps its secret sealed
-- (AES-256-GCM under the server key `psp-client-secret-key`, bound to the client id; psp/pspSecrets.ts),
-- as webhook secrets are. A PSP key set without this row cannot create CARD_PASSTHROUGH payments (5070).
create table psp_client_secrets (
  client_id text primary key references key_sets (client_id) on delete cascade,
  secret_sealed text not null
);

-- RSA public keys a PSP registered (POST /kassa/v1/psp/encryption-keys) to receive the PAN encrypted
-- with RSA-OAEP-256; `cardPassthrough.publicEncryptionKeyId` names one (§17.2). Deleting keeps the row.
create table psp_encryption_keys (
  id uuid primary key,
  psp_id text not null,
  public_key_pem text not null,
  -- base64 SHA-256 of the DER SubjectPublicKeyInfo, so a PSP can tell its keys apart.
  fingerprint text not null,
  created_at timestamptz not null,
  deleted_at timestamptz
);

create index psp_encryption_keys_psp on psp_encryption_keys (psp_id) where deleted_at is null;

-- The PSP that created a CARD_PASSTHROUGH payment, written with the payment: its key set signs the
-- callbacks, whichever other PSP may also have onboarded the sales unit.
create table psp_payments (
  payment_id bigint primary key references payments (id),
  psp_id text not null
);

-- One authorization attempt: the user confirmed with one card (§17.3 `authorizationAttemptId`). The
-- first callback and, after SOFT_DECLINE and the PSP's 3-D Secure page, the second share its id.
create table card_authorization_attempts (
  id uuid primary key,
  payment_id bigint not null references payments (id),
  -- Who approved and with which test card: the second callback needs the card again (fresh cryptogram).
  phone text not null,
  card_id text not null,
  origin text not null check (origin in ('app', 'force-approve')),
  -- The amount sent to the PSP (Express: including the shipping chosen in the app) and that choice.
  amount bigint not null,
  shipping jsonb,
  stage text not null check (stage in ('calling', 'soft-declined', 'completing', 'reserved', 'failed', 'aborted', 'abandoned', 'too-late')),
  soft_decline_url text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create index card_authorization_attempts_payment on card_authorization_attempts (payment_id, created_at);

-- Every card callback Kassa made, for the dashboard and the go-live checklist: the request as sent but
-- without card data (no networkToken, no encryptedPan), what the PSP answered and what Kassa did.
-- Written `pending` before the call and completed after it, so a callback in flight is visible too.
create table card_callbacks (
  id bigserial primary key,
  attempt_id uuid not null references card_authorization_attempts (id),
  payment_id bigint not null references payments (id),
  msn text not null,
  reference text not null,
  psp_id text not null,
  -- 1: when the user confirmed; 2: after SOFT_DECLINE, when the PSP's 3-D Secure page came back.
  sequence smallint not null check (sequence in (1, 2)),
  url text not null,
  request jsonb not null,
  x_ms_date text not null,
  sent_at timestamptz not null,
  duration_ms integer,
  http_status integer,
  -- The PSP's answer as text, cut at 2000 characters.
  response_body text,
  outcome text not null check (outcome in ('pending', 'RESERVE', 'FAIL', 'SOFT_DECLINE', 'http_error', 'timeout', 'invalid_response',
    'connect_error', 'tls_error', 'refused_address')),
  -- FAIL only: whether the PSP let the user try again.
  retryable boolean,
  error text,
  -- What Kassa made of it: authorized, retry (the user may try another card), soft-decline (3-D
  -- Secure at the PSP), aborted (non-retryable: payment ABORTED), too-late (the payment had already
  -- expired or been answered), or null while pending.
  result text check (result in ('authorized', 'retry', 'soft-decline', 'aborted', 'too-late'))
);

create index card_callbacks_payment on card_callbacks (payment_id, id);
create index card_callbacks_psp on card_callbacks (psp_id, id);
