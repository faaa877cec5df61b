/** The body of an ePayment webhook (platform-guidelines §4.3, epayment-api §15). Pure. */
import type { PaymentEvent } from '../payments/types.ts';

/** Where the authorized event's extras go, in a fixed order (jsonb does not keep the stored order). */
const EXTRA_ORDER = ['captureGuaranteedUntil', 'sub', 'userDetails', 'shippingDetails'];

export function webhookPayload(event: PaymentEvent): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    msn: event.msn,
    reference: event.reference,
    pspReference: event.pspReference,
    name: event.name,
    amount: { currency: event.currency, value: event.amount },
    timestamp: event.occurredAt.toISOString(),
    // Always present, null when the operation had no client key (open question 13).
    idempotencyKey: event.idempotencyKey,
    success: event.success,
  };
  const extra = event.extra ?? {};
  const names = [
    ...EXTRA_ORDER.filter((name) => name in extra),
    ...Object.keys(extra)
      .filter((name) => !EXTRA_ORDER.includes(name))
      .sort(),
  ];
  for (const name of names) payload[name] = extra[name];
  // epayment-api open question 16: the authorized webhook carries `sub` at the top level and also as
  // GET's `profile.sub`; receivers ignore the form they do not read.
  if (typeof extra.sub === 'string') payload.profile = { sub: extra.sub };
  return payload;
}

/** The exact bytes sent and signed (§4.4 step 1, open question 9: UTF-8 JSON). */
export function webhookBody(event: PaymentEvent): string {
  return JSON.stringify(webhookPayload(event));
}
