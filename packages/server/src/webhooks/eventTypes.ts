/** The event catalogue of the Webhooks API (platform-guidelines §4.2) and its registration limits (§4.1). */
import type { EventName } from '../payments/types.ts';

export const EPAYMENT_EVENT_TYPES = [
  'epayments.payment.created.v1',
  'epayments.payment.aborted.v1',
  'epayments.payment.expired.v1',
  'epayments.payment.cancelled.v1',
  'epayments.payment.captured.v1',
  'epayments.payment.refunded.v1',
  'epayments.payment.authorized.v1',
  'epayments.payment.terminated.v1',
] as const;

/**
 * Event types of the other APIs. They can be registered, as on the platform, so a registration script
 * written for it works unchanged; Kassa emits them once those APIs exist.
 */
const OTHER_EVENT_TYPES = [
  'recurring.agreement-activated.v1',
  'recurring.agreement-rejected.v1',
  'recurring.agreement-stopped.v1',
  'recurring.agreement-expired.v1',
  'recurring.charge-reserved.v1',
  'recurring.charge-captured.v1',
  'recurring.charge-canceled.v1',
  'recurring.charge-refunded.v1',
  'recurring.charge-failed.v1',
  'recurring.charge-creation-failed.v1',
  'login.merchant-initiated.ping.v1',
  'user.checked-in.v1',
] as const;

export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([...EPAYMENT_EVENT_TYPES, ...OTHER_EVENT_TYPES]);

/** `AUTHORIZED` → `epayments.payment.authorized.v1` (§4.2). The SQL of webhooksStore.ts builds the same string. */
export function epaymentEventType(name: EventName): string {
  return `epayments.payment.${name.toLowerCase()}.v1`;
}

/**
 * Registrations allowed per event type in one bucket (§4.1, open question 11): 25, except the QR
 * check-in, which is effectively synchronous and goes to one receiver per sales unit (plus one PSP one).
 */
export function registrationLimit(eventType: string): number {
  return eventType === 'user.checked-in.v1' ? 1 : 25;
}
