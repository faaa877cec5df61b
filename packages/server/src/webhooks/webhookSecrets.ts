/**
 * Webhook secrets (platform-guidelines §4.1): returned once at registration, never readable again.
 * Signing needs the secret itself (HMAC, §4.4), so it cannot be stored as a digest like client secrets;
 * it is sealed with AES-256-GCM under a server key instead, bound to its registration id, so a copy of
 * the registrations table alone reveals nothing and a sealed secret cannot be moved to another row.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.ts';
import { serverSecret } from '../store/merchantsStore.ts';

const VERSION = 'v1';

/**
 * 64 random bytes in base64, the shape of the platform's published secret (§4.4 test vector). Receivers
 * key the HMAC with the string's UTF-8 bytes; a secret that looks like base64 keeps reminding them not to
 * decode it.
 */
export function newWebhookSecret(): string {
  return randomBytes(64).toString('base64');
}

const keys = new WeakMap<Queryable, Promise<Buffer>>();

/** The sealing key, shared by every process on the database (created on first use). */
export function webhookSecretKey(db: Queryable): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = serverSecret(db, 'webhook-secret-key', () => randomBytes(32).toString('base64')).then((value) => Buffer.from(value, 'base64'));
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

export function sealSecret(key: Buffer, registrationId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(registrationId, 'utf8'));
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join('.');
}

/** Secrets opened already, per sealing key: deciphering one for every webhook delivery was a measurable part of its cost. */
const opened = new WeakMap<Buffer, Map<string, string>>();
/** Opened secrets kept per key at most (one per active registration or PSP). */
const MAX_OPENED = 1000;

/** The secret sealed for `registrationId`; a regenerated secret is a new sealed value, so a kept one is never stale. */
export function openSecret(key: Buffer, registrationId: string, sealed: string): string {
  let secrets = opened.get(key);
  if (!secrets) opened.set(key, (secrets = new Map()));
  const cacheKey = `${registrationId} ${sealed}`;
  let secret = secrets.get(cacheKey);
  if (secret === undefined) {
    secret = unseal(key, registrationId, sealed);
    if (secrets.size >= MAX_OPENED) secrets.clear();
    secrets.set(cacheKey, secret);
  }
  return secret;
}

function unseal(key: Buffer, registrationId: string, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || !data) throw new Error(`unreadable sealed secret of registration ${registrationId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(registrationId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
}
