/** Response bodies of the ePayment API (spec §5.4, §6.1, §7, §8.1), built from the domain objects. */
import type { Payment, PaymentEvent } from '../../payments/types.ts';

export interface LinkBase {
  publicUrl: string;
  appScheme: string;
}

/**
 * Where the customer goes (spec §5.4; open question 17: configurable base, `token=` last). The token is
 * the same value force approve accepts.
 */
export function redirectUrlOf(payment: Pick<Payment, 'userFlow' | 'redirectToken' | 'request'>, links: LinkBase): string | undefined {
  const token = payment.redirectToken;
  if (!token) return undefined;
  switch (payment.userFlow) {
    case 'WEB_REDIRECT':
      return `${links.publicUrl}/landing?token=${token}`;
    case 'NATIVE_REDIRECT':
      return `${links.appScheme}://payment?token=${token}`;
    case 'QR': {
      const qrFormat = payment.request.qrFormat as { format?: string; size?: number | null } | null | undefined;
      if (qrFormat?.format === 'TEXT/TARGETURL') return `${links.publicUrl}/app/qr?token=${token}`;
      if (qrFormat?.format === 'IMAGE/PNG') return `${links.publicUrl}/qr-image/v1?format=png&size=${qrFormat.size ?? 1024}&token=${token}`;
      return `${links.publicUrl}/qr-image/v1?format=svg&token=${token}`;
    }
    default:
      return undefined;
  }
}

const amountOf = (currency: string, value: number) => ({ currency, value });

function aggregateOf(payment: Payment) {
  const { currency, aggregate } = payment;
  return {
    authorizedAmount: amountOf(currency, aggregate.authorized),
    cancelledAmount: amountOf(currency, aggregate.cancelled),
    capturedAmount: amountOf(currency, aggregate.captured),
    refundedAmount: amountOf(currency, aggregate.refunded),
  };
}

export function createPaymentResponse(payment: Payment, links: LinkBase) {
  const redirectUrl = redirectUrlOf(payment, links);
  return { reference: payment.reference, ...(redirectUrl ? { redirectUrl } : {}) };
}

/**
 * Metadata exactly as sent (spec §14.7): jsonb keeps neither key order nor duplicates, so create
 * records the order it was given in (`metadataKeyOrder`) and it is restored here.
 */
function metadataOf(request: Payment['request']): Record<string, string> | undefined {
  const metadata = request.metadata as Record<string, string> | null | undefined;
  if (!metadata) return undefined;
  const order = Array.isArray(request.metadataKeyOrder) ? (request.metadataKeyOrder as string[]) : [];
  const keys = [...order.filter((key) => Object.hasOwn(metadata, key)), ...Object.keys(metadata).filter((key) => !order.includes(key))];
  return Object.fromEntries(keys.map((key) => [key, metadata[key] as string]));
}

export function getPaymentResponse(payment: Payment, links: LinkBase) {
  const redirectUrl = payment.state === 'CREATED' ? redirectUrlOf(payment, links) : undefined;
  const metadata = metadataOf(payment.request);
  return {
    aggregate: aggregateOf(payment),
    amount: amountOf(payment.currency, payment.amount),
    state: payment.state,
    paymentMethod: { type: payment.paymentMethodType, ...(payment.cardBin ? { cardBin: payment.cardBin } : {}) },
    profile: payment.profileSub ? { sub: payment.profileSub } : {},
    pspReference: payment.pspReference,
    reference: payment.reference,
    ...(redirectUrl ? { redirectUrl } : {}),
    ...(metadata ? { metadata } : {}),
    ...(payment.captureGuaranteedUntil ? { captureGuaranteedUntil: payment.captureGuaranteedUntil.toISOString() } : {}),
    ...(payment.userDetails ? { userDetails: payment.userDetails } : {}),
    ...(payment.shippingDetails ? { shippingDetails: payment.shippingDetails } : {}),
  };
}

export function modificationResponse(payment: Payment) {
  return {
    amount: amountOf(payment.currency, payment.amount),
    state: payment.state,
    aggregate: aggregateOf(payment),
    pspReference: payment.pspReference,
    reference: payment.reference,
  };
}

export function eventResponse(event: PaymentEvent) {
  return {
    reference: event.reference,
    pspReference: event.pspReference,
    name: event.name,
    amount: amountOf(event.currency, event.amount),
    timestamp: event.occurredAt.toISOString(),
    idempotencyKey: event.idempotencyKey,
    success: event.success,
  };
}
