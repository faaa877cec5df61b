/**
 * Typed webhook payloads. An ePayment event (platform-guidelines §4.3) or a QR check-in (§12.2); anything
 * else is handed back as `unknown` rather than refused, because one registration may carry event types a
 * receiver does not handle yet. Unknown fields are kept and ignored (§4.3: receivers MUST ignore them).
 *
 * A webhook is a signal: for money-moving decisions read `GET payment` (§4.3). Deliveries can repeat;
 * `eventKey` is the deduplication key the guidelines recommend: (msn, reference, name, pspReference).
 */
import type { PaymentEventName, QrCheckInEvent, WebhookEvent } from './generated/types.ts';

export type WebhookPayload =
  | { kind: 'epayment'; eventType: string; data: WebhookEvent }
  | { kind: 'qr.checked-in'; eventType: 'user.checked-in.v1'; data: QrCheckInEvent }
  | { kind: 'unknown'; data: unknown };

const EVENT_NAMES: ReadonlySet<string> = new Set<PaymentEventName>([
  'CREATED',
  'ABORTED',
  'EXPIRED',
  'CANCELLED',
  'CAPTURED',
  'REFUNDED',
  'AUTHORIZED',
  'TERMINATED',
]);

/** `AUTHORIZED` → `epayments.payment.authorized.v1` (§4.2). */
export function epaymentEventType(name: PaymentEventName): string {
  return `epayments.payment.${name.toLowerCase()}.v1`;
}

/** Deduplication key of an ePayment event (§4.3 [rec]). */
export function eventKey(event: Pick<WebhookEvent, 'msn' | 'reference' | 'name' | 'pspReference'>): string {
  return [event.msn, event.reference, event.name, event.pspReference].join('|');
}

export function parseWebhookEvent(body: string | Uint8Array): { ok: true; event: WebhookPayload } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return { ok: false, message: 'the body is not JSON' };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'the body is not a JSON object' };
  const o = json as Record<string, unknown>;

  if ('customerToken' in o && 'merchantQrId' in o) {
    // Before 2024 the sales unit was called `merchantSerialNumber` (open question 20).
    const msn = o.msn ?? o.merchantSerialNumber;
    const problems = [...stringFields(o, ['customerToken', 'merchantQrId', 'initiatedAt']), ...(typeof msn === 'string' ? [] : ['msn'])];
    if (problems.length > 0) return { ok: false, message: `invalid user.checked-in.v1 payload: ${problems.join(', ')}` };
    return {
      ok: true,
      event: { kind: 'qr.checked-in', eventType: 'user.checked-in.v1', data: { ...(o as object), msn } as QrCheckInEvent },
    };
  }

  if ('reference' in o && 'name' in o && 'pspReference' in o) {
    const problems = stringFields(o, ['msn', 'reference', 'pspReference', 'timestamp']);
    if (typeof o.name !== 'string' || !EVENT_NAMES.has(o.name)) problems.push('name');
    const amount = o.amount as Record<string, unknown> | undefined;
    if (!amount || typeof amount.currency !== 'string' || typeof amount.value !== 'number') problems.push('amount');
    if (typeof o.success !== 'boolean') problems.push('success');
    if (o.idempotencyKey !== undefined && o.idempotencyKey !== null && typeof o.idempotencyKey !== 'string')
      problems.push('idempotencyKey');
    if (problems.length > 0) return { ok: false, message: `invalid ePayment webhook payload: ${problems.join(', ')}` };
    const data = o as unknown as WebhookEvent;
    return { ok: true, event: { kind: 'epayment', eventType: epaymentEventType(data.name), data } };
  }

  return { ok: true, event: { kind: 'unknown', data: json } };
}

function stringFields(o: Record<string, unknown>, names: string[]): string[] {
  return names.filter((name) => typeof o[name] !== 'string');
}
