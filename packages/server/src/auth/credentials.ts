import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets and subscription keys are stored as SHA-256 digests. They are random 128-bit or
 * longer values (not passwords), so a fast digest suffices, as for API tokens; comparison is constant-time.
 */
export function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function matchesDigest(secret: string, storedDigest: string): boolean {
  const a = Buffer.from(digest(secret), 'hex');
  const b = Buffer.from(storedDigest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A fresh key set in the platform's formats: GUID client id, base64 secret, 32-hex subscription key. */
export function newCredentials(): { clientId: string; clientSecret: string; subscriptionKey: string } {
  return {
    clientId: randomUUID(),
    clientSecret: randomBytes(24).toString('base64'),
    subscriptionKey: randomBytes(16).toString('hex'),
  };
}
