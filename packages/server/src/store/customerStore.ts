/** SQL of the customer side: app inbox and history, failed attempts, shipping quotes, consents, QR codes, customer tokens. */
import type { Currency, PaymentMethodType, State, UserFlow } from '../payments/types.ts';
import type { Queryable } from './database.ts';

/** How a payment request reached the user's app (migration 003). */
export type RequestSource = 'landing' | 'app-switch' | 'native' | 'qr';

export async function addPaymentRequest(db: Queryable, paymentId: number, phone: string, source: RequestSource, now: Date): Promise<void> {
  // The latest route wins: it decides whether the app opens returnUrl after the user acts.
  await db.query(
    `insert into app_payment_requests (payment_id, phone, source, requested_at) values ($1, $2, $3, $4)
     on conflict (payment_id, phone) do update set source = excluded.source`,
    [paymentId, phone, source, now],
  );
}

export async function findPaymentRequest(db: Queryable, paymentId: number, phone: string): Promise<RequestSource | null> {
  const { rows } = await db.query<{ source: RequestSource }>(
    'select source from app_payment_requests where payment_id = $1 and phone = $2',
    [paymentId, phone],
  );
  return rows[0]?.source ?? null;
}

/** Which phone numbers a payment was sent to (the landing page waits on whoever it asked). */
export async function requestedPhones(db: Queryable, paymentId: number): Promise<string[]> {
  const { rows } = await db.query<{ phone: string }>('select phone from app_payment_requests where payment_id = $1 order by requested_at', [
    paymentId,
  ]);
  return rows.map((row) => row.phone);
}

/** One line of the app's inbox or history. */
export interface AppPaymentSummary {
  id: number;
  msn: string;
  merchantName: string;
  reference: string;
  pspReference: string;
  state: State;
  currency: Currency;
  amount: number;
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
  userFlow: UserFlow;
  description: string | null;
  createdAt: Date;
  expiresAt: Date;
  source: RequestSource | 'push' | null;
  customerPhone: string | null;
  paymentMethodType: PaymentMethodType;
  processingUntil: Date | null;
}

interface SummaryRow {
  id: number;
  msn: string;
  merchant_name: string;
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
  description: string | null;
  created_at: Date;
  expires_at: Date;
  source: RequestSource | null;
  customer_phone: string | null;
  payment_method_type: PaymentMethodType;
  processing_until: Date | null;
}

/**
 * The payments a user's app shows: requests that reached it (table above), PUSH_MESSAGE payments for
 * the user's number (platform-guidelines §11: pushed at once), and payments the user authorized some
 * other way (force approve), newest first.
 */
export async function listAppPayments(db: Queryable, phone: string, limit = 50): Promise<AppPaymentSummary[]> {
  const { rows } = await db.query<SummaryRow>(
    `select p.id, p.msn, su.name as merchant_name, p.reference, p.psp_reference, p.state, p.currency, p.amount,
            p.authorized_amount, p.captured_amount, p.cancelled_amount, p.refunded_amount, p.user_flow,
            p.request->>'paymentDescription' as description, p.created_at, p.expires_at, r.source, p.customer_phone,
            p.payment_method_type, p.processing_until
       from payments p
       join sales_units su on su.msn = p.msn
       left join app_payment_requests r on r.payment_id = p.id and r.phone = $1
      where r.phone is not null
         or (p.customer_phone = $1 and (p.user_flow = 'PUSH_MESSAGE' or p.state = 'AUTHORIZED'))
      order by coalesce(r.requested_at, p.created_at) desc, p.id desc
      limit $2`,
    [phone, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    msn: row.msn,
    merchantName: row.merchant_name,
    reference: row.reference,
    pspReference: row.psp_reference,
    state: row.state,
    currency: row.currency,
    amount: Number(row.amount),
    authorized: Number(row.authorized_amount),
    captured: Number(row.captured_amount),
    cancelled: Number(row.cancelled_amount),
    refunded: Number(row.refunded_amount),
    userFlow: row.user_flow,
    description: row.description,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    source: row.source ?? (row.user_flow === 'PUSH_MESSAGE' ? 'push' : null),
    customerPhone: row.customer_phone,
    paymentMethodType: row.payment_method_type,
    processingUntil: row.processing_until,
  }));
}

export async function findPaymentKey(db: Queryable, pspReference: string): Promise<{ msn: string; reference: string } | null> {
  if (!/^[0-9a-f-]{36}$/i.test(pspReference)) return null;
  const { rows } = await db.query<{ msn: string; reference: string }>('select msn, reference from payments where psp_reference = $1', [
    pspReference,
  ]);
  return rows[0] ?? null;
}

export interface AuthorizationAttempt {
  cardId: string | null;
  reason: string;
  attemptedAt: Date;
}

export async function recordAuthorizationAttempt(
  db: Queryable,
  paymentId: number,
  phone: string,
  cardId: string | null,
  reason: string,
  now: Date,
): Promise<void> {
  await db.query('insert into app_authorization_attempts (payment_id, phone, card_id, reason, attempted_at) values ($1, $2, $3, $4, $5)', [
    paymentId,
    phone,
    cardId,
    reason,
    now,
  ]);
}

export async function listAuthorizationAttempts(db: Queryable, paymentId: number, phone: string): Promise<AuthorizationAttempt[]> {
  const { rows } = await db.query<{ card_id: string | null; reason: string; attempted_at: Date }>(
    'select card_id, reason, attempted_at from app_authorization_attempts where payment_id = $1 and phone = $2 order by id',
    [paymentId, phone],
  );
  return rows.map((row) => ({ cardId: row.card_id, reason: row.reason, attemptedAt: row.attempted_at }));
}

export interface ShippingQuote {
  groups: unknown[] | null;
  error: string | null;
}

export async function saveShippingQuote(db: Queryable, paymentId: number, phone: string, quote: ShippingQuote, now: Date): Promise<void> {
  await db.query(
    `insert into app_shipping_quotes (payment_id, phone, groups, error, fetched_at) values ($1, $2, $3, $4, $5)
     on conflict (payment_id, phone) do update set groups = excluded.groups, error = excluded.error, fetched_at = excluded.fetched_at`,
    [paymentId, phone, quote.groups === null ? null : JSON.stringify(quote.groups), quote.error, now],
  );
}

export async function findShippingQuote(db: Queryable, paymentId: number, phone: string): Promise<ShippingQuote | null> {
  const { rows } = await db.query<{ groups: unknown[] | null; error: string | null }>(
    'select groups, error from app_shipping_quotes where payment_id = $1 and phone = $2',
    [paymentId, phone],
  );
  return rows[0] ? { groups: rows[0].groups, error: rows[0].error } : null;
}

/** Who a `sub` belongs to (one per user per sales unit, platform-guidelines §13.2). */
export async function findSubOwner(db: Queryable, sub: string): Promise<{ msn: string; phone: string } | null> {
  const { rows } = await db.query<{ msn: string; phone: string }>('select msn, phone from profile_subs where sub = $1', [sub]);
  return rows[0] ?? null;
}

export async function findSub(db: Queryable, msn: string, phone: string): Promise<string | null> {
  const { rows } = await db.query<{ sub: string }>('select sub from profile_subs where msn = $1 and phone = $2', [msn, phone]);
  return rows[0]?.sub ?? null;
}

/**
 * When the user last consented to each scope towards this `sub`'s sales unit, and in which payment.
 * Consent is given by authorizing a payment that asked for the scope, so the payments are the record.
 */
export async function consentsOf(db: Queryable, sub: string): Promise<{ consents: Map<string, Date>; latestPspReference: string | null }> {
  const { rows } = await db.query<{ scope: string | null; authorized_at: Date; psp_reference: string }>(
    `select request->'profile'->>'scope' as scope, authorized_at, psp_reference from payments
      where profile_sub = $1 and authorized_at is not null order by authorized_at`,
    [sub],
  );
  const consents = new Map<string, Date>();
  let latestPspReference: string | null = null;
  for (const row of rows) {
    for (const scope of (row.scope ?? '').split(/\s+/).filter(Boolean)) consents.set(scope, row.authorized_at);
    latestPspReference = row.psp_reference;
  }
  return { consents, latestPspReference };
}

export async function insertCustomerToken(db: Queryable, token: string, msn: string, phone: string, expiresAt: Date): Promise<void> {
  await db.query('insert into customer_tokens (token, msn, phone, expires_at) values ($1, $2, $3, $4)', [token, msn, phone, expiresAt]);
}

export type QrKind = 'one-time' | 'merchant-redirect' | 'merchant-callback';

export interface QrCodeRecord {
  publicId: string;
  msn: string;
  kind: QrKind;
  qrId: string | null;
  targetUrl: string | null;
  locationDescription: string | null;
  category: string | null;
  createdAt: Date;
  expiresAt: Date | null;
}

interface QrRow {
  public_id: string;
  msn: string;
  kind: QrKind;
  qr_id: string | null;
  target_url: string | null;
  location_description: string | null;
  category: string | null;
  created_at: Date;
  expires_at: Date | null;
}

function toQrCode(row: QrRow): QrCodeRecord {
  return {
    publicId: row.public_id,
    msn: row.msn,
    kind: row.kind,
    qrId: row.qr_id,
    targetUrl: row.target_url,
    locationDescription: row.location_description,
    category: row.category,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Inserts a code; false when the merchant id is taken for this sales unit and kind. */
export async function insertQrCode(db: Queryable, code: QrCodeRecord): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into qr_codes (public_id, msn, kind, qr_id, target_url, location_description, category, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (msn, kind, qr_id) do nothing`,
    [
      code.publicId,
      code.msn,
      code.kind,
      code.qrId,
      code.targetUrl,
      code.locationDescription,
      code.category,
      code.createdAt,
      code.expiresAt,
    ],
  );
  return rowCount === 1;
}

/** Codes past their `ttl` are gone (auto-delete, platform-guidelines §12.2). */
export async function deleteExpiredQrCodes(db: Queryable, now: Date): Promise<void> {
  await db.query('delete from qr_codes where expires_at is not null and expires_at <= $1', [now]);
}

export async function findQrCode(db: Queryable, msn: string, kind: QrKind, qrId: string, now: Date): Promise<QrCodeRecord | null> {
  const { rows } = await db.query<QrRow>(
    'select * from qr_codes where msn = $1 and kind = $2 and qr_id = $3 and (expires_at is null or expires_at > $4)',
    [msn, kind, qrId, now],
  );
  return rows[0] ? toQrCode(rows[0]) : null;
}

/**
 * A code scanned by its public id, unless it has expired on its sales unit's clock (`nowOf(msn)`:
 * time control may run the unit ahead of global time).
 */
export async function findQrCodeByPublicId(db: Queryable, publicId: string, nowOf: (msn: string) => Date): Promise<QrCodeRecord | null> {
  const { rows } = await db.query<QrRow>('select * from qr_codes where public_id = $1', [publicId]);
  const code = rows[0] ? toQrCode(rows[0]) : null;
  return code && (code.expiresAt === null || code.expiresAt > nowOf(code.msn)) ? code : null;
}

export async function listQrCodes(db: Queryable, msn: string, kind: QrKind, now: Date): Promise<QrCodeRecord[]> {
  const { rows } = await db.query<QrRow>(
    'select * from qr_codes where msn = $1 and kind = $2 and (expires_at is null or expires_at > $3) order by created_at, qr_id',
    [msn, kind, now],
  );
  return rows.map(toQrCode);
}

export async function updateQrCode(
  db: Queryable,
  msn: string,
  kind: QrKind,
  qrId: string,
  change: { targetUrl?: string; locationDescription?: string; category?: string },
): Promise<void> {
  await db.query(
    `update qr_codes set target_url = coalesce($4, target_url), location_description = coalesce($5, location_description),
       category = coalesce($6, category) where msn = $1 and kind = $2 and qr_id = $3`,
    [msn, kind, qrId, change.targetUrl ?? null, change.locationDescription ?? null, change.category ?? null],
  );
}

export async function deleteQrCode(db: Queryable, msn: string, kind: QrKind, qrId: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from qr_codes where msn = $1 and kind = $2 and qr_id = $3', [msn, kind, qrId]);
  return rowCount > 0;
}

/**
 * The registration that receives `user.checked-in.v1` for a sales unit (platform-guidelines §4.1): the
 * sales unit's own one, else a PSP/partner-wide one that reaches it ("if both match, the sales-unit one
 * is used"). Check-ins are not payment events, so they do not go through the payment-event outbox.
 */
export async function findCheckInRegistration(
  db: Queryable,
  msn: string,
): Promise<{ id: string; url: string; secretSealed: string } | null> {
  const { rows } = await db.query<{ id: string; url: string; secret_sealed: string }>(
    `select r.id, r.url, r.secret_sealed from webhook_registrations r
      where r.disabled_at is null and 'user.checked-in.v1' = any (r.events)
        and (r.msn = $1
             or (r.msn is null and exists (
                   select 1 from key_sets k join key_set_sales_units s on s.client_id = k.client_id
                    where k.psp_id = r.psp_id and s.msn = $1)))
      order by (r.msn is null), r.created_at, r.id
      limit 1`,
    [msn],
  );
  const row = rows[0];
  return row ? { id: row.id, url: row.url, secretSealed: row.secret_sealed } : null;
}
