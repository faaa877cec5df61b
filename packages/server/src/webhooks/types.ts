/** What the webhook modules pass around: registrations, their owners, deliveries and attempts. */
import type { PaymentEvent } from '../payments/types.ts';
import type { AttemptOutcome } from './postWebhook.ts';

/**
 * Who a registration belongs to: the bucket of platform-guidelines §4.1 (sales-unit keys and PSP keys
 * never share limits or listings) and its reach. A PSP registration without MSN covers every sales unit
 * linked to the PSP, including ones linked later (open question 26).
 */
export type WebhookOwner = { bucket: 'sales-unit'; msn: string; pspId: null } | { bucket: 'psp'; msn: string | null; pspId: string };

export interface WebhookRegistration {
  id: string;
  url: string;
  events: string[];
  owner: WebhookOwner;
  createdAt: Date;
  lastSuccessAt: Date | null;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: 'deleted' | 'unresponsive' | null;
}

export type DeliveryState = 'pending' | 'delivered' | 'dropped';

/** An outbox row claimed for one attempt, with everything the attempt needs. */
export interface ClaimedDelivery {
  id: number;
  registrationId: string;
  paymentId: number;
  url: string;
  secretSealed: string;
  /** When the attempt was due (server clock). */
  scheduledAt: Date;
  event: PaymentEvent;
  /** Attempts made so far, and the fault injected into the delivery (test mode), if any. */
  attempts: number;
  fault: string | null;
}

export interface AttemptReport {
  deliveryId: number;
  registrationId: string;
  worker: string;
  scheduledAt: Date;
  startedAt: Date;
  /** Server clock when the attempt ended: the base of the next retry. */
  endedAt: Date;
  xMsDate: string;
  /** Wall clock, for delivery lag. */
  sentAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: Exclude<AttemptOutcome, 'aborted'>;
  error: string | null;
  /**
   * This process marked the registration healthy a moment ago and saw no failure since: a success need
   * not write the registration row again (at peak load that write would be one round trip per event).
   */
  healthyJustNow?: boolean;
}

export interface DeliveryView {
  id: number;
  registrationId: string;
  url: string;
  eventType: string;
  msn: string;
  reference: string;
  pspReference: string;
  state: DeliveryState;
  attempts: number;
  firstAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  committedAt: Date;
  deliveredAt: Date | null;
  droppedReason: string | null;
  replayOf: number | null;
  /** What fault injection did to it (test mode): "delay 5000 ms (rule 3)". */
  fault: string | null;
}

export interface AttemptView {
  deliveryId: number;
  registrationId: string;
  eventType: string;
  msn: string;
  reference: string;
  pspReference: string;
  attempt: number;
  scheduledAt: Date;
  startedAt: Date;
  xMsDate: string;
  sentAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: string;
  error: string | null;
  nextAttemptAt: Date | null;
  final: 'delivered' | 'dropped' | null;
  committedAt: Date;
  deliveredAt: Date | null;
  worker: string;
  fault: string | null;
}
