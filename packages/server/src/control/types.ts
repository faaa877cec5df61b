/** What time control and fault injection pass around (docs/time-and-faults.md). */

export type FaultTarget = 'api' | 'webhook';
export const API_FAULT_KINDS = ['error', 'latency', 'timeout', 'fundsUnavailable', 'captureFailed'] as const;
/**
 * API faults that strike inside a capture the platform accepted: the acquirer fails it (6260 funds
 * unavailable, 6280 capture failed), so they have no `when`.
 */
export const CAPTURE_FAULT_KINDS = ['fundsUnavailable', 'captureFailed'] as const;
export type CaptureFaultKind = (typeof CAPTURE_FAULT_KINDS)[number];

export function isCaptureFault(kind: string): kind is CaptureFaultKind {
  return (CAPTURE_FAULT_KINDS as readonly string[]).includes(kind);
}
export const WEBHOOK_FAULT_KINDS = ['delay', 'drop', 'duplicate', 'reorder'] as const;
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];
export type WebhookFaultKind = (typeof WEBHOOK_FAULT_KINDS)[number];
export type FaultKind = ApiFaultKind | WebhookFaultKind;

/** Which calls or deliveries a rule applies to; every field given must match, an empty match takes all. */
export interface FaultMatch {
  /** api: HTTP method. */
  method?: string;
  /** api: the route template (`/epayment/v1/payments/:reference/capture`) or a prefix ending in `*`. */
  route?: string;
  /** api: the SDK's operation name (`capturePayment`, ...). */
  operation?: string;
  /** webhook: the event type (`epayments.payment.authorized.v1`). */
  eventType?: string;
}

export interface FaultRule {
  id: number;
  msn: string;
  target: FaultTarget;
  match: FaultMatch;
  kind: FaultKind;
  /** api faults: before the operation runs, or after it committed; null for webhook and capture faults. */
  when: 'before' | 'after' | null;
  status: number | null;
  retryAfterSeconds: number | null;
  delayMs: number | null;
  probability: number | null;
  everyNth: number | null;
  /** The most faults the rule injects; null: no limit. */
  count: number | null;
  seed: string;
  /** Requests or deliveries the rule has drawn for, and faults it injected. */
  matched: number;
  injected: number;
  createdAt: Date;
  createdBy: string;
}

export type NewFaultRule = Omit<FaultRule, 'id' | 'matched' | 'injected' | 'createdAt'>;
