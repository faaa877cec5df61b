/**
 * Webhook verification (platform-guidelines §4.4, verifier side), framework-agnostic: give it the method,
 * the URL *as registered*, the headers, the raw body bytes and the registration's secret.
 *
 *   contentHash  = base64(SHA-256(raw body))                       — compared with x-ms-content-sha256
 *   stringToSign = METHOD \n pathAndQuery \n x-ms-date;host;contentHash
 *   Authorization = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" +
 *                   base64(HMAC-SHA256(key = UTF-8 bytes of the secret as given, stringToSign))
 *
 * Host and path come from the registered URL, never from the request's Host header, which a proxy may
 * have rewritten (§4.4 step 3). The comparison is constant-time.
 *
 * Clock skew: `x-ms-date` is checked only when `maxSkewMs` is given. Open question 7 asks verifiers not to
 * reject on skew by default, because it is not documented whether the platform re-signs retries with a
 * fresh date; the skew is always reported (`skewMs`) so it can be logged. Kassa re-signs every attempt,
 * so against Kassa `maxSkewMs: RECOMMENDED_MAX_SKEW_MS` (15 minutes, §4.4 step 5) is safe.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parseWebhookEvent, type WebhookPayload } from './webhookEvents.ts';

export const RECOMMENDED_MAX_SKEW_MS = 15 * 60 * 1000;

const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';
const AUTHORIZATION_PREFIX = `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=`;

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Reject when `x-ms-date` is further than this from now (either way). Default: report only. */
  maxSkewMs?: number;
  /** The receiver's clock, in ms since the epoch. */
  now?: () => number;
}

export type WebhookRejection =
  | 'missing_header'
  | 'malformed_authorization'
  | 'content_hash_mismatch'
  | 'signature_mismatch'
  | 'invalid_date'
  | 'date_skew'
  | 'invalid_payload';

export type WebhookVerification =
  | {
      ok: true;
      event: WebhookPayload;
      /** now − x-ms-date in ms (positive: the date lies in the past); null when the date does not parse. */
      skewMs: number | null;
    }
  | { ok: false; reason: WebhookRejection; message: string; skewMs?: number | null };

export function verifyWebhook(
  method: string,
  url: string | URL,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  secret: string,
  options: VerifyWebhookOptions = {},
): WebhookVerification {
  const xMsDate = header(headers, 'x-ms-date');
  const receivedHash = header(headers, 'x-ms-content-sha256');
  const authorization = header(headers, 'authorization');
  for (const [name, value] of [
    ['x-ms-date', xMsDate],
    ['x-ms-content-sha256', receivedHash],
    ['authorization', authorization],
  ] as const) {
    if (value === undefined) return reject('missing_header', `the ${name} header is missing (or repeated)`);
  }
  if (!authorization?.startsWith(AUTHORIZATION_PREFIX)) {
    return reject('malformed_authorization', `the Authorization header is not "${AUTHORIZATION_PREFIX}<signature>"`);
  }

  // The hash is over the raw bytes as received; parsing and re-serialising first would change it (§4.4 verifier 1).
  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const contentHash = createHash('sha256').update(bytes).digest('base64');
  if (!constantTimeEqual(contentHash, receivedHash as string)) {
    return reject('content_hash_mismatch', 'x-ms-content-sha256 does not match the body: the body was changed or is not the raw bytes');
  }

  const target = typeof url === 'string' ? new URL(url) : url;
  // URL.host omits default ports, as the signer does (open question 8).
  const stringToSign = `${method.toUpperCase()}\n${target.pathname}${target.search}\n${xMsDate};${target.host};${contentHash}`;
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(stringToSign, 'utf8').digest('base64');
  if (!constantTimeEqual(AUTHORIZATION_PREFIX + signature, authorization)) {
    return reject('signature_mismatch', 'the signature does not match: wrong secret, or a URL other than the registered one');
  }

  const dateMs = Date.parse(xMsDate as string);
  const skewMs = Number.isNaN(dateMs) ? null : (options.now ?? Date.now)() - dateMs;
  if (options.maxSkewMs !== undefined) {
    if (skewMs === null) return { ...reject('invalid_date', `x-ms-date "${xMsDate}" is not a date`), skewMs };
    if (Math.abs(skewMs) > options.maxSkewMs) {
      return {
        ...reject('date_skew', `x-ms-date is ${Math.round(skewMs / 1000)} s away from now (limit ${options.maxSkewMs / 1000} s)`),
        skewMs,
      };
    }
  }

  const parsed = parseWebhookEvent(bytes);
  if (!parsed.ok) return { ...reject('invalid_payload', parsed.message), skewMs };
  return { ok: true, event: parsed.event, skewMs };
}

function reject(reason: WebhookRejection, message: string): { ok: false; reason: WebhookRejection; message: string } {
  return { ok: false, reason, message };
}

/** Case-insensitive; a header sent twice counts as missing rather than picking one of its values. */
function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
    return value;
  }
  return undefined;
}

/** The expected value's length is public, so checking lengths first leaks nothing. */
function constantTimeEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
