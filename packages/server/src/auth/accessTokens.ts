/** Access tokens (platform-guidelines §2.1): HS256 JWTs, 1 h in test mode and 24 h in production. */
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Mode } from '../config.ts';

export const TOKEN_RESOURCE = '00000002-0000-0000-c000-000000000000';

export function tokenLifetimeSeconds(mode: Mode): number {
  return mode === 'production' ? 86400 : 3600;
}

/**
 * The token key as a WebCrypto key, imported once: given raw bytes, jose imports them again on every
 * signature, which costs as much as the signature itself.
 */
const cryptoKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function cryptoKey(key: Uint8Array): Promise<CryptoKey> {
  let imported = cryptoKeys.get(key);
  if (!imported) {
    imported = crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    cryptoKeys.set(key, imported);
  }
  return imported;
}

export async function issueAccessToken(key: Uint8Array, clientId: string, nowMs: number, mode: Mode) {
  const notBefore = Math.floor(nowMs / 1000);
  const lifetime = tokenLifetimeSeconds(mode);
  const token = await new SignJWT({ tid: 'kassa', ver: '1.0' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(clientId)
    .setAudience(TOKEN_RESOURCE)
    .setIssuer('kassa')
    .setIssuedAt(notBefore)
    .setNotBefore(notBefore)
    .setExpirationTime(notBefore + lifetime)
    .setJti(randomUUID())
    .sign(await cryptoKey(key));
  // Every field is a string, as the platform serves them (open question 1).
  return {
    token_type: 'Bearer',
    expires_in: String(lifetime),
    ext_expires_in: '0',
    expires_on: String(notBefore + lifetime),
    not_before: String(notBefore),
    resource: TOKEN_RESOURCE,
    access_token: token,
  };
}

/**
 * Tokens already verified, with their validity window: a client uses one token for many calls, and
 * the HMAC check is the costliest part of authenticating one. Validity is still checked against the
 * server clock on every call, so moving the clock expires cached tokens too.
 */
const verifiedByKey = new WeakMap<Uint8Array, Map<string, { clientId: string; notBeforeMs: number; expiresMs: number }>>();
const MAX_CACHED = 10_000;

/** The client id a valid token was issued to, or null when it is not one of ours or has expired. */
export async function verifyAccessToken(key: Uint8Array, token: string, nowMs: number): Promise<string | null> {
  let verified = verifiedByKey.get(key);
  if (!verified) verifiedByKey.set(key, (verified = new Map()));
  const cached = verified.get(token);
  if (cached) return nowMs >= cached.notBeforeMs && nowMs < cached.expiresMs ? cached.clientId : null;
  try {
    const { payload } = await jwtVerify(token, await cryptoKey(key), {
      algorithms: ['HS256'],
      issuer: 'kassa',
      audience: TOKEN_RESOURCE,
      currentDate: new Date(nowMs),
    });
    if (typeof payload.sub !== 'string' || payload.exp === undefined) return null;
    if (verified.size >= MAX_CACHED) verified.clear();
    verified.set(token, { clientId: payload.sub, notBeforeMs: (payload.nbf ?? 0) * 1000, expiresMs: payload.exp * 1000 });
    return payload.sub;
  } catch {
    return null;
  }
}
