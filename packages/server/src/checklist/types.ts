/**
 * What the go-live checklist is evaluated over (the evidence Kassa recorded) and what it reports. The
 * evaluation is pure: store/checklistStore.ts loads an `Evidence`, evaluateChecklist.ts judges it.
 */

export type ItemStatus = 'met' | 'not_met' | 'not_exercised';

/** Whose traffic is judged: a sales unit, a PSP (every unit it reaches), or a PSP's traffic for one unit. */
export interface ReportScope {
  msn?: string;
  pspId?: string;
}

/** One row of the request log (migration 004), headers already redacted when it was written. */
export interface LoggedRequest {
  id: number;
  at: Date;
  msn: string | null;
  pspId: string | null;
  clientId: string | null;
  method: string;
  /** The route template, e.g. `/epayment/v1/payments/:reference/capture`. */
  route: string;
  path: string;
  reference: string | null;
  status: number;
  latencyMs: number;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  body: unknown;
  errorCode: number | null;
  /** An injected fault that shaped the answer (fault injection, test mode). */
  fault: string | null;
  traceId: string;
}

export interface PaymentFacts {
  id: number;
  msn: string;
  reference: string;
  state: 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED';
  currency: string;
  amount: number;
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
  userFlow: string;
  paymentMethodType: string;
  /** The accepted create request. */
  request: Record<string, unknown>;
  customerPhone: string | null;
  /** The market of the user who authorized it (test users), when known. */
  customerMarket: string | null;
  createdAt: Date;
  expiresAt: Date;
  authorizedAt: Date | null;
  captureDeadline: Date | null;
}

export interface EventFacts {
  paymentId: number;
  msn: string;
  reference: string;
  name: string;
  amount: number;
  occurredAt: Date;
  idempotencyKey: string | null;
  success: boolean;
}

export interface RegistrationFacts {
  id: string;
  url: string;
  events: string[];
  msn: string | null;
  pspId: string | null;
  createdAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
}

export interface DeliveryFacts {
  id: number;
  registrationId: string;
  msn: string;
  reference: string;
  eventType: string;
  state: 'pending' | 'delivered' | 'dropped';
  attempts: number;
  deliveredAt: Date | null;
  droppedReason: string | null;
  replayOf: number | null;
  /** What fault injection did to the delivery (drop, delay, duplicate, reorder), if anything. */
  fault: string | null;
}

export interface AttemptFacts {
  deliveryId: number;
  registrationId: string;
  msn: string;
  reference: string;
  eventType: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: string;
  error: string | null;
  fault: string | null;
}

export interface SalesUnitFacts {
  msn: string;
  name: string;
  market: string;
}

export interface Evidence {
  scope: ReportScope;
  since: Date;
  /** The server's clock when the evidence was read: "now" for deadlines. */
  now: Date;
  salesUnits: SalesUnitFacts[];
  requests: LoggedRequest[];
  payments: PaymentFacts[];
  /** Payments created before the period whose capture deadline is in it or later (release-reservations). */
  olderReservations: PaymentFacts[];
  events: EventFacts[];
  registrations: RegistrationFacts[];
  deliveries: DeliveryFacts[];
  attempts: AttemptFacts[];
  /** Set when the volume forced a later start than asked for: the evidence starts at `since`. */
  shortenedFrom: Date | null;
}

/** A request as the checklist shows it: what the platform's checklist calls a "request example". */
export interface RequestExample {
  at: string;
  method: string;
  path: string;
  status: number;
  errorCode: number | null;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  body: unknown;
  traceId: string;
}

export interface Offender {
  reference: string | null;
  msn: string | null;
  reason: string;
}

export interface ItemResult {
  id: string;
  title: string;
  /** Where the rule comes from (spec sections). */
  guideline: string;
  /** The rule, in one sentence (docs/checklist.md has the full text). */
  rule: string;
  status: ItemStatus;
  summary: string;
  counts: Record<string, number>;
  examples: RequestExample[];
  /** The payments (or requests) that break the rule; capped, `counts` has the totals. */
  offenders: Offender[];
}

export interface ChecklistReport {
  scope: ReportScope;
  since: string;
  until: string;
  /** True when no item is `not_met`: the CI gate. */
  passed: boolean;
  summary: Record<ItemStatus, number>;
  items: ItemResult[];
  notes: string[];
}
