/**
 * HMAC request signing for webhook deliveries (platform-guidelines §4.4) and the ePayment PSP card
 * callback, which is signed the same way but keyed with the PSP's client secret (epayment-api §17.3).
 * Pure functions: the caller supplies the date, the secret and the exact body bytes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';
const AUTHORIZATION_PREFIX = `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=`;

export type Body = string | Uint8Array;

/** The part of the registered URL that is signed (§4.4 signer step 3). */
export interface SigningTarget {
  /** Host name plus `:port` only when the port is non-default for the scheme (§22 open question 8). */
  host: string;
  /** Path plus `?query` when there is one; never the fragment. */
  pathAndQuery: string;
}

/** A type alias, not an interface, so it can be passed straight back to verifySignature as a header record. */
export type SignedHeaders = {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  Authorization: string;
  /** Equal to the authority an HTTP client derives from the URL, so a transport may leave it to the client. */
  host: string;
};

export type VerifyFailureReason = 'missing_header' | 'content_hash_mismatch' | 'signature_mismatch' | 'invalid_date' | 'date_skew';

export type VerifyResult =
  /** `skewMs` = now − `x-ms-date` (positive when the date lies in the past); null when unparseable. */
  { ok: true; skewMs: number | null } | { ok: false; reason: VerifyFailureReason; header?: string; skewMs?: number | null };

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** `URL.host` already drops default ports (":443" for https, ":80" for http), as §4.4 step 3 requires. */
export function signingTarget(url: string | URL): SigningTarget {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return { host: parsed.host, pathAndQuery: parsed.pathname + parsed.search };
}

/** base64 (padded) SHA-256 of the exact body bytes (§4.4 step 2); a string is taken as UTF-8. */
export function contentSha256(body: Body): string {
  return createHash('sha256').update(body).digest('base64');
}

/**
 * The single string-to-sign builder used by signer and verifier (§4.4 step 4): LF line breaks only,
 * `;` between date, host and hash.
 */
export function stringToSign(parts: { method?: string; pathAndQuery: string; xMsDate: string; host: string; contentHash: string }): string {
  const method = (parts.method ?? 'POST').toUpperCase();
  return `${method}\n${parts.pathAndQuery}\n${parts.xMsDate};${parts.host};${parts.contentHash}`;
}

/**
 * base64 HMAC-SHA256 keyed with the UTF-8 bytes of the secret string exactly as returned at registration
 * (§4.4 step 5): the secret looks like base64 but must NOT be decoded.
 */
export function computeSignature(toSign: string, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(toSign, 'utf8').digest('base64');
}

export function authorizationHeader(signature: string): string {
  return AUTHORIZATION_PREFIX + signature;
}

/**
 * Headers for one delivery attempt. The server re-signs every retry with a fresh date (§4.5, §22 q7);
 * the body must be the bytes actually sent (§22 q9).
 */
export function signRequest(input: { method?: string; url: string | URL; body: Body; secret: string; date: Date }): SignedHeaders {
  const { host, pathAndQuery } = signingTarget(input.url);
  // Date#toUTCString yields the RFC 1123 / IMF-fixdate form, e.g. "Thu, 30 Mar 2023 08:38:32 GMT".
  const xMsDate = input.date.toUTCString();
  const contentHash = contentSha256(input.body);
  const signature = computeSignature(stringToSign({ method: input.method, pathAndQuery, xMsDate, host, contentHash }), input.secret);
  return {
    'x-ms-date': xMsDate,
    'x-ms-content-sha256': contentHash,
    Authorization: authorizationHeader(signature),
    host,
  };
}

/**
 * Receiver-side check (§4.4 verifier). Host and path come from the URL *as registered* (or are given
 * explicitly), never from the request's Host header, which a proxy may have rewritten. Date skew is
 * reported only, unless `maxSkewMs` is given (§4.4 verifier step 5, §22 q7).
 */
export function verifySignature(
  input: {
    method?: string;
    headers: HeaderSource;
    rawBody: Body;
    secret: string;
    now?: Date;
    maxSkewMs?: number;
  } & ({ url: string | URL } | { host: string; pathAndQuery: string }),
): VerifyResult {
  const xMsDate = readHeader(input.headers, 'x-ms-date');
  const receivedHash = readHeader(input.headers, 'x-ms-content-sha256');
  const authorization = readHeader(input.headers, 'authorization');
  if (xMsDate === undefined) return { ok: false, reason: 'missing_header', header: 'x-ms-date' };
  if (receivedHash === undefined) return { ok: false, reason: 'missing_header', header: 'x-ms-content-sha256' };
  if (authorization === undefined) return { ok: false, reason: 'missing_header', header: 'authorization' };

  // Hash the raw bytes, before any JSON parsing: re-serialising changes the hash (§4.4 verifier step 1).
  if (!constantTimeEqual(contentSha256(input.rawBody), receivedHash)) {
    return { ok: false, reason: 'content_hash_mismatch' };
  }

  const { host, pathAndQuery } = 'url' in input ? signingTarget(input.url) : input;
  const expected = authorizationHeader(
    computeSignature(stringToSign({ method: input.method, pathAndQuery, xMsDate, host, contentHash: receivedHash }), input.secret),
  );
  if (!constantTimeEqual(expected, authorization)) return { ok: false, reason: 'signature_mismatch' };

  const dateMs = Date.parse(xMsDate);
  const skewMs = Number.isNaN(dateMs) ? null : (input.now ?? new Date()).getTime() - dateMs;
  if (input.maxSkewMs !== undefined) {
    if (skewMs === null) return { ok: false, reason: 'invalid_date', skewMs };
    if (Math.abs(skewMs) > input.maxSkewMs) return { ok: false, reason: 'date_skew', skewMs };
  }
  return { ok: true, skewMs };
}

/** Case-insensitive lookup; a repeated header (array of more than one value) counts as absent. */
function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
    return value;
  }
  return undefined;
}

/** timingSafeEqual needs equal lengths; the expected value's length is public, so checking it first leaks nothing. */
function constantTimeEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
