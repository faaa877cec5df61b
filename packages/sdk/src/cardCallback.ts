/**
 * The PSP's side of the ePayment card callback (epayment-api §17.3, platform-guidelines §18): when the
 * user confirms a CARD_PASSTHROUGH payment, the platform POSTs the card to the PSP's `cardCallbackUrl`
 * and waits at most 20 seconds for `RESERVE`, `FAIL` or `SOFT_DECLINE`.
 *
 * The callback is signed exactly like a webhook (§4.4) but keyed with the PSP's `client_secret`, so
 * `verifyCardCallback` is `verifyWebhook` with that secret (which checks the signature before it reads
 * the body) followed by a check of the callback's own fields. `decryptPan` opens `encryptedPan` with the
 * private half of the key registered as `publicEncryptionKeyId`: RSA-OAEP with SHA-256 (Kassa's choice,
 * docs/psp.md; the spec names no algorithm).
 */
import { constants, type KeyLike, privateDecrypt } from 'node:crypto';
import { type VerifyWebhookOptions, verifyWebhook, type WebhookHeaders, type WebhookRejection } from './verifyWebhook.ts';

export interface CardCallbackNetworkToken {
  number: string;
  expiryMonth: string;
  expiryYear: string;
  cryptogram: string;
  eci: string;
  tokenType: 'VISA' | 'MASTERCARD';
}

export interface CardCallbackCardInfo {
  /** First 8 and last 4 digits, e.g. `47969485XXXX1234`. */
  maskedCardNumber: string;
  /** e.g. `VISA-DEBIT`, `MC-CREDIT`, `DANKORT`. Charge this type, not one of `allowedCardTypes` (§18). */
  cardType: string;
  cardIssuedInCountryCode: string;
  cardDataType: 'TOKEN' | 'PAN';
  networkToken?: CardCallbackNetworkToken;
  encryptedPan?: string;
}

export interface CardCallbackRequest {
  pspReference: string;
  /** Unique per attempt; the second callback after 3-D Secure repeats it. */
  authorizationAttemptId: string;
  merchantSerialNumber: string;
  amount: { currency: string; value: number };
  /** Where the PSP's 3-D Secure page sends the browser when done (after a SOFT_DECLINE). */
  softDeclineCompletedRedirectUrl: string;
  cardInfo: CardCallbackCardInfo;
}

export type CardCallbackResponse =
  | { status: 'RESERVE'; networkTransactionReference?: string }
  /** `retryable: true` lets the user try again, with the same or another card; otherwise the payment fails. */
  | { status: 'FAIL'; errorCode?: number | string; errorMessage?: string; retryable?: boolean }
  /** Not allowed as the answer to the second callback of an attempt. */
  | { status: 'SOFT_DECLINE'; softDeclineUrl: string };

export type CardCallbackVerification =
  | { ok: true; request: CardCallbackRequest; skewMs: number | null }
  | { ok: false; reason: Exclude<WebhookRejection, 'invalid_payload'> | 'invalid_request'; message: string };

/**
 * Verifies a card callback against `cardCallbackUrl` as sent in the create request (never the Host
 * header a proxy may have rewritten), with the raw body bytes and the PSP's client secret.
 */
export function verifyCardCallback(
  method: string,
  cardCallbackUrl: string | URL,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  clientSecret: string,
  options: VerifyWebhookOptions = {},
): CardCallbackVerification {
  const checked = verifyWebhook(method, cardCallbackUrl, headers, rawBody, clientSecret, options);
  // verifyWebhook reads the body only after the signature matched: `invalid_payload` means signed but not JSON.
  if (!checked.ok) {
    return checked.reason === 'invalid_payload'
      ? { ok: false, reason: 'invalid_request', message: checked.message }
      : { ok: false, reason: checked.reason, message: checked.message };
  }
  const body = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8')) as Record<string, unknown>;
  const problems = callbackProblems(body);
  if (problems.length > 0) return { ok: false, reason: 'invalid_request', message: `invalid card callback: ${problems.join(', ')}` };
  return { ok: true, request: body as unknown as CardCallbackRequest, skewMs: checked.skewMs };
}

function callbackProblems(body: Record<string, unknown>): string[] {
  const problems = ['pspReference', 'authorizationAttemptId', 'merchantSerialNumber', 'softDeclineCompletedRedirectUrl'].filter(
    (name) => typeof body[name] !== 'string',
  );
  const amount = body.amount as Record<string, unknown> | undefined;
  if (!amount || typeof amount.currency !== 'string' || typeof amount.value !== 'number') problems.push('amount');
  const card = body.cardInfo as Record<string, unknown> | undefined;
  if (!card || typeof card.maskedCardNumber !== 'string' || typeof card.cardType !== 'string') problems.push('cardInfo');
  else if (
    card.cardDataType === 'TOKEN'
      ? typeof card.networkToken !== 'object'
      : card.cardDataType === 'PAN'
        ? typeof card.encryptedPan !== 'string'
        : true
  ) {
    problems.push('cardInfo.cardDataType');
  }
  return problems;
}

/** The PAN of a `cardDataType: PAN` callback, decrypted with the private key registered for the payment. */
export function decryptPan(encryptedPan: string, privateKey: KeyLike): string {
  return privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(encryptedPan, 'base64'),
  ).toString('utf8');
}
