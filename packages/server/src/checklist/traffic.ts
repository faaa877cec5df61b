/**
 * Reading the recorded traffic: which endpoint a logged request is, which payment it concerns, a
 * body's canonical form (to recognise repeats), and request examples as the checklist shows them.
 */
import type { EventFacts, Evidence, LoggedRequest, Offender, PaymentFacts, RequestExample } from './types.ts';

export type Endpoint =
  | 'create'
  | 'get'
  | 'events'
  | 'capture'
  | 'refund'
  | 'cancel'
  | 'forceApprove'
  | 'token'
  | 'webhooks'
  | 'qr'
  | 'userinfo'
  | 'other';

const ROUTES: Record<string, Endpoint> = {
  'POST /epayment/v1/payments': 'create',
  'GET /epayment/v1/payments/:reference': 'get',
  'GET /epayment/v1/payments/:reference/events': 'events',
  'POST /epayment/v1/payments/:reference/capture': 'capture',
  'POST /epayment/v1/payments/:reference/refund': 'refund',
  'POST /epayment/v1/payments/:reference/cancel': 'cancel',
  'POST /epayment/v1/test/payments/:reference/approve': 'forceApprove',
};

export function endpointOf(request: Pick<LoggedRequest, 'method' | 'route'>): Endpoint {
  const known = ROUTES[`${request.method} ${request.route}`];
  if (known) return known;
  if (request.route.startsWith('/accesstoken/') || request.route.startsWith('/miami/')) return 'token';
  if (request.route.startsWith('/webhooks/')) return 'webhooks';
  if (request.route.startsWith('/qr/')) return 'qr';
  if (request.route.startsWith('/vipps-userinfo-api/')) return 'userinfo';
  return 'other';
}

/** The six ePayment endpoints an integration must use (platform-guidelines §18 "Integrate all endpoints"). */
export const REQUIRED_ENDPOINTS = ['create', 'get', 'events', 'capture', 'refund', 'cancel'] as const;

export const MODIFYING: ReadonlySet<Endpoint> = new Set(['create', 'capture', 'refund', 'cancel']);
export const READING: ReadonlySet<Endpoint> = new Set(['get', 'events']);

/**
 * Requests the integration made itself. Force approve stands in for the customer in the app (test
 * mode only), so it is nobody's integration traffic.
 */
export function integrationRequests(evidence: Evidence): LoggedRequest[] {
  return evidence.requests.filter((r) => endpointOf(r) !== 'forceApprove');
}

export const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * An answer that did not settle the outcome: the client must retry with the same key (§3.3, §15.2:
 * 5XX, 423, 429) or never saw it (it hung up first, logged 499, or fault injection timed out or dropped
 * the answer).
 */
export function isIndefinite(request: LoggedRequest): boolean {
  if (request.status >= 500 || [408, 423, 429, 499].includes(request.status)) return true;
  return request.fault !== null && /timeout|drop|reset|hang|lost/i.test(request.fault);
}

/** JSON with sorted keys: two bodies are the same request whatever order their members were written in. */
export function canonicalBody(body: unknown): string {
  return JSON.stringify(sortKeys(body ?? null));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** Same client, same operation, same body: the same request sent again. */
export function sameRequest(a: LoggedRequest, b: LoggedRequest): boolean {
  return (
    a.method === b.method &&
    a.path === b.path &&
    a.msn === b.msn &&
    (a.clientId ?? '') === (b.clientId ?? '') &&
    canonicalBody(a.body) === canonicalBody(b.body)
  );
}

export const paymentKey = (msn: string | null, reference: string | null) => `${msn ?? ''}/${reference ?? ''}`;

/** The integration's requests per payment, oldest first. */
export function requestsByPayment(requests: LoggedRequest[]): Map<string, LoggedRequest[]> {
  const out = new Map<string, LoggedRequest[]>();
  for (const request of requests) {
    if (!request.reference) continue;
    const key = paymentKey(request.msn, request.reference);
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(request);
  }
  for (const list of out.values()) list.sort(byTime);
  return out;
}

export function eventsByPayment(events: EventFacts[]): Map<number, EventFacts[]> {
  const out = new Map<number, EventFacts[]>();
  for (const event of events) {
    let list = out.get(event.paymentId);
    if (!list) out.set(event.paymentId, (list = []));
    list.push(event);
  }
  return out;
}

export const byTime = (a: { at: Date }, b: { at: Date }) => a.at.getTime() - b.at.getTime();

const FINAL_EVENTS = new Set(['AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED']);

/** When the payment reached its final state (the first successful AUTHORIZED/ABORTED/EXPIRED/TERMINATED event). */
export function finalEventOf(events: EventFacts[] | undefined): EventFacts | null {
  return events?.find((e) => e.success && FINAL_EVENTS.has(e.name)) ?? null;
}

/** The headers a request example shows: the ones the checklist is about (secrets stay redacted). */
const EXAMPLE_HEADERS = [
  'authorization',
  'ocp-apim-subscription-key',
  'merchant-serial-number',
  'psp-id',
  'idempotency-key',
  'content-type',
  'vipps-system-name',
  'vipps-system-version',
  'vipps-system-plugin-name',
  'vipps-system-plugin-version',
  'user-agent',
];

export function exampleOf(request: LoggedRequest): RequestExample {
  const headers: Record<string, string> = {};
  for (const name of EXAMPLE_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return {
    at: request.at.toISOString(),
    method: request.method,
    path: request.path,
    status: request.status,
    errorCode: request.errorCode,
    idempotencyKey: request.idempotencyKey,
    headers,
    body: request.body ?? null,
    traceId: request.traceId,
  };
}

/** At most this many offenders and examples are listed per item; the counts carry the totals. */
export const LIST_LIMIT = 10;

export function firstOffenders(offenders: Offender[]): Offender[] {
  return offenders.slice(0, LIST_LIMIT);
}

export function offenderOf(payment: Pick<PaymentFacts, 'msn' | 'reference'> | LoggedRequest, reason: string): Offender {
  return { reference: payment.reference, msn: payment.msn, reason };
}

/** A duration as a person reads it: `1.5 s`, `12 min`, `3 h`, `14 d`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(Number.isInteger(s) ? 0 : 1)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
