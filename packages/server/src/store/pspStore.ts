/**
 * SQL for PSP card passthrough (migration 007): sealed PSP client secrets, registered encryption keys,
 * the PSP of a payment, authorization attempts and the card callback record.
 */
import type { Market } from '../payments/types.ts';
import type { Queryable } from './database.ts';

// ---------------------------------------------------------------------------------------------------
// PSP key sets and their sales units

export interface PspKeySet {
  clientId: string;
  pspId: string;
  /** The client secret sealed for signing card callbacks; null for a key set made without one. */
  secretSealed: string | null;
}

export async function findPspKeySet(db: Queryable, pspId: string): Promise<PspKeySet | null> {
  const { rows } = await db.query<{ client_id: string; psp_id: string; secret_sealed: string | null }>(
    `select k.client_id, k.psp_id, s.secret_sealed from key_sets k left join psp_client_secrets s on s.client_id = k.client_id
      where k.kind = 'psp' and k.psp_id = $1`,
    [pspId],
  );
  const row = rows[0];
  return row ? { clientId: row.client_id, pspId: row.psp_id, secretSealed: row.secret_sealed } : null;
}

/** Keeps the sealed client secret of a PSP key set; an existing one stays (seeding is idempotent). */
export async function insertPspClientSecret(db: Queryable, clientId: string, secretSealed: string): Promise<void> {
  await db.query('insert into psp_client_secrets (client_id, secret_sealed) values ($1, $2) on conflict (client_id) do nothing', [
    clientId,
    secretSealed,
  ]);
}

/** Gives the PSP's key set reach to a sales unit (PSP merchant onboarding, platform-guidelines §18). */
export async function linkSalesUnit(db: Queryable, clientId: string, msn: string): Promise<void> {
  await db.query('insert into key_set_sales_units (client_id, msn) values ($1, $2) on conflict do nothing', [clientId, msn]);
}

export interface PspMerchant {
  merchantSerialNumber: string;
  name: string;
  market: Market;
}

/** A sales unit the PSP onboarded, or null when it does not exist or is another's. */
export async function findPspMerchant(db: Queryable, clientId: string, msn: string): Promise<PspMerchant | null> {
  const { rows } = await db.query<{ msn: string; name: string; market: Market }>(
    `select u.msn, u.name, u.market from sales_units u join key_set_sales_units l on l.msn = u.msn
      where l.client_id = $1 and u.msn = $2`,
    [clientId, msn],
  );
  const row = rows[0];
  return row ? { merchantSerialNumber: row.msn, name: row.name, market: row.market } : null;
}

export async function renameSalesUnit(db: Queryable, msn: string, name: string): Promise<void> {
  await db.query('update sales_units set name = $2 where msn = $1', [msn, name]);
}

// ---------------------------------------------------------------------------------------------------
// Encryption keys

export interface EncryptionKey {
  id: string;
  pspId: string;
  publicKeyPem: string;
  fingerprint: string;
  createdAt: Date;
}

interface EncryptionKeyRow {
  id: string;
  psp_id: string;
  public_key_pem: string;
  fingerprint: string;
  created_at: Date;
}

const toKey = (row: EncryptionKeyRow): EncryptionKey => ({
  id: row.id,
  pspId: row.psp_id,
  publicKeyPem: row.public_key_pem,
  fingerprint: row.fingerprint,
  createdAt: row.created_at,
});

export async function insertEncryptionKey(db: Queryable, key: EncryptionKey): Promise<void> {
  await db.query('insert into psp_encryption_keys (id, psp_id, public_key_pem, fingerprint, created_at) values ($1, $2, $3, $4, $5)', [
    key.id,
    key.pspId,
    key.publicKeyPem,
    key.fingerprint,
    key.createdAt,
  ]);
}

/** An active key of this PSP (another PSP's key id is as unknown as one that never existed). */
export async function findEncryptionKey(db: Queryable, pspId: string, id: string): Promise<EncryptionKey | null> {
  const { rows } = await db.query<EncryptionKeyRow>(
    'select * from psp_encryption_keys where psp_id = $1 and id = $2 and deleted_at is null',
    [pspId, id],
  );
  return rows[0] ? toKey(rows[0]) : null;
}

export async function listEncryptionKeys(db: Queryable, pspId: string): Promise<EncryptionKey[]> {
  const { rows } = await db.query<EncryptionKeyRow>(
    'select * from psp_encryption_keys where psp_id = $1 and deleted_at is null order by created_at, id',
    [pspId],
  );
  return rows.map(toKey);
}

export async function deleteEncryptionKey(db: Queryable, pspId: string, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    'update psp_encryption_keys set deleted_at = $3 where psp_id = $1 and id = $2 and deleted_at is null',
    [pspId, id, now],
  );
  return rowCount === 1;
}

// ---------------------------------------------------------------------------------------------------
// Payments and authorization attempts

export async function insertPspPayment(db: Queryable, paymentId: number, pspId: string): Promise<void> {
  await db.query('insert into psp_payments (payment_id, psp_id) values ($1, $2)', [paymentId, pspId]);
}

export async function findPaymentPsp(db: Queryable, paymentId: number): Promise<string | null> {
  const { rows } = await db.query<{ psp_id: string }>('select psp_id from psp_payments where payment_id = $1', [paymentId]);
  return rows[0]?.psp_id ?? null;
}

export type AttemptStage = 'calling' | 'soft-declined' | 'completing' | 'reserved' | 'failed' | 'aborted' | 'abandoned' | 'too-late';

export interface CardAttempt {
  id: string;
  paymentId: number;
  phone: string;
  cardId: string;
  origin: 'app' | 'force-approve';
  amount: number;
  shipping: { details: Record<string, unknown>; cost: number } | null;
  stage: AttemptStage;
  softDeclineUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface AttemptRow {
  id: string;
  payment_id: number;
  phone: string;
  card_id: string;
  origin: CardAttempt['origin'];
  amount: number;
  shipping: CardAttempt['shipping'];
  stage: AttemptStage;
  soft_decline_url: string | null;
  created_at: Date;
  updated_at: Date;
}

const toAttempt = (row: AttemptRow): CardAttempt => ({
  id: row.id,
  paymentId: Number(row.payment_id),
  phone: row.phone,
  cardId: row.card_id,
  origin: row.origin,
  amount: Number(row.amount),
  shipping: row.shipping,
  stage: row.stage,
  softDeclineUrl: row.soft_decline_url,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export async function insertAttempt(db: Queryable, attempt: CardAttempt): Promise<void> {
  await db.query(
    `insert into card_authorization_attempts (id, payment_id, phone, card_id, origin, amount, shipping, stage, soft_decline_url,
       created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      attempt.id,
      attempt.paymentId,
      attempt.phone,
      attempt.cardId,
      attempt.origin,
      attempt.amount,
      attempt.shipping === null ? null : JSON.stringify(attempt.shipping),
      attempt.stage,
      attempt.softDeclineUrl,
      attempt.createdAt,
      attempt.updatedAt,
    ],
  );
}

export async function findAttempt(db: Queryable, id: string): Promise<CardAttempt | null> {
  const { rows } = await db.query<AttemptRow>('select * from card_authorization_attempts where id = $1', [id]);
  return rows[0] ? toAttempt(rows[0]) : null;
}

/** The attempts of a payment that are not finished: a callback in flight, or 3-D Secure at the PSP. */
export async function openAttempts(db: Queryable, paymentId: number): Promise<CardAttempt[]> {
  const { rows } = await db.query<AttemptRow>(
    `select * from card_authorization_attempts where payment_id = $1 and stage in ('calling', 'soft-declined', 'completing')
      order by created_at, id`,
    [paymentId],
  );
  return rows.map(toAttempt);
}

export async function setAttemptStage(
  db: Queryable,
  id: string,
  stage: AttemptStage,
  now: Date,
  softDeclineUrl: string | null = null,
): Promise<void> {
  await db.query(
    'update card_authorization_attempts set stage = $2, updated_at = $3, soft_decline_url = coalesce($4, soft_decline_url) where id = $1',
    [id, stage, now, softDeclineUrl],
  );
}

// ---------------------------------------------------------------------------------------------------
// The card callback record

export type CallbackOutcome =
  | 'pending'
  | 'RESERVE'
  | 'FAIL'
  | 'SOFT_DECLINE'
  | 'http_error'
  | 'timeout'
  | 'invalid_response'
  | 'connect_error'
  | 'tls_error'
  | 'refused_address';

export type CallbackResult = 'authorized' | 'retry' | 'soft-decline' | 'aborted' | 'too-late';

export interface NewCardCallback {
  attemptId: string;
  paymentId: number;
  msn: string;
  reference: string;
  pspId: string;
  sequence: 1 | 2;
  url: string;
  /** The body as sent, card data removed (cardCallbackRequest.ts#withoutCardData). */
  request: Record<string, unknown>;
  xMsDate: string;
  sentAt: Date;
}

export async function insertCardCallback(db: Queryable, callback: NewCardCallback): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into card_callbacks (attempt_id, payment_id, msn, reference, psp_id, sequence, url, request, x_ms_date, sent_at, outcome)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending') returning id`,
    [
      callback.attemptId,
      callback.paymentId,
      callback.msn,
      callback.reference,
      callback.pspId,
      callback.sequence,
      callback.url,
      JSON.stringify(callback.request),
      callback.xMsDate,
      callback.sentAt,
    ],
  );
  return Number((rows[0] as { id: number }).id);
}

export interface CallbackCompletion {
  durationMs: number;
  httpStatus: number | null;
  responseBody: string | null;
  outcome: Exclude<CallbackOutcome, 'pending'>;
  retryable: boolean | null;
  error: string | null;
  result: CallbackResult;
}

export async function completeCardCallback(db: Queryable, id: number, done: CallbackCompletion): Promise<void> {
  await db.query(
    `update card_callbacks set duration_ms = $2, http_status = $3, response_body = $4, outcome = $5, retryable = $6, error = $7, result = $8
      where id = $1`,
    [id, done.durationMs, done.httpStatus, done.responseBody, done.outcome, done.retryable, done.error, done.result],
  );
}

export interface CardCallbackRecord extends NewCardCallback {
  id: number;
  durationMs: number | null;
  httpStatus: number | null;
  responseBody: string | null;
  outcome: CallbackOutcome;
  retryable: boolean | null;
  error: string | null;
  result: CallbackResult | null;
}

interface CallbackRow {
  id: number;
  attempt_id: string;
  payment_id: number;
  msn: string;
  reference: string;
  psp_id: string;
  sequence: 1 | 2;
  url: string;
  request: Record<string, unknown>;
  x_ms_date: string;
  sent_at: Date;
  duration_ms: number | null;
  http_status: number | null;
  response_body: string | null;
  outcome: CallbackOutcome;
  retryable: boolean | null;
  error: string | null;
  result: CallbackResult | null;
}

/** The card callbacks of one payment, oldest first (dashboard, tests). */
export async function listCardCallbacks(db: Queryable, msn: string, reference: string): Promise<CardCallbackRecord[]> {
  const { rows } = await db.query<CallbackRow>('select * from card_callbacks where msn = $1 and reference = $2 order by id', [
    msn,
    reference,
  ]);
  return rows.map((row) => ({
    id: Number(row.id),
    attemptId: row.attempt_id,
    paymentId: Number(row.payment_id),
    msn: row.msn,
    reference: row.reference,
    pspId: row.psp_id,
    sequence: Number(row.sequence) as 1 | 2,
    url: row.url,
    request: row.request,
    xMsDate: row.x_ms_date,
    sentAt: row.sent_at,
    durationMs: row.duration_ms,
    httpStatus: row.http_status,
    responseBody: row.response_body,
    outcome: row.outcome,
    retryable: row.retryable,
    error: row.error,
    result: row.result,
  }));
}

/** Completes the callbacks of an attempt still marked pending (the process that made them stopped). */
export async function failPendingCallbacks(db: Queryable, attemptId: string, error: string): Promise<void> {
  await db.query(
    `update card_callbacks set outcome = 'timeout', error = $2, result = 'aborted' where attempt_id = $1 and outcome = 'pending'`,
    [attemptId, error],
  );
}

/** The sales unit and reference of a payment by its row id. */
export async function paymentKeyOf(db: Queryable, paymentId: number): Promise<{ msn: string; reference: string } | null> {
  const { rows } = await db.query<{ msn: string; reference: string }>('select msn, reference from payments where id = $1', [paymentId]);
  return rows[0] ?? null;
}
