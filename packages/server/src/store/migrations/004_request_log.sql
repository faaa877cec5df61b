-- The request log: every API call per sales unit, kept for the checklist report, the dashboard and
-- diagnostics (retention: config.requestLogRetentionDays). Webhook attempts live in webhook_attempts.
create table request_log (
  id bigserial primary key,
  at timestamptz not null,
  msn text,
  psp_id text,
  client_id text,
  method text not null,
  -- The route template (/epayment/v1/payments/:reference/capture) and the concrete path.
  route text not null,
  path text not null,
  reference text,
  status integer not null,
  latency_ms real not null,
  idempotency_key text,
  -- Request headers with secrets redacted; the JSON request body.
  headers jsonb not null,
  body jsonb,
  -- The Problem of a refused call, and its platform error code.
  problem jsonb,
  error_code integer,
  -- An injected fault that shaped this answer (fault injection, test mode).
  fault text,
  trace_id text not null
);

create index request_log_msn_at on request_log (msn, at);
create index request_log_reference on request_log (msn, reference, at);
create index request_log_at on request_log (at);
