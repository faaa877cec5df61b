/**
 * PSP key sets and the secret that signs their card callbacks. The callback is signed like a webhook
 * but keyed with the PSP's `client_secret` (epayment-api §17.3, platform-guidelines §4.4/§18). Kassa
 * stores client secrets as digests (auth/credentials.ts), which cannot key an HMAC, so a PSP key set
 * also keeps its secret sealed — AES-256-GCM under a server key, bound to the client id — by the same
 * mechanism as webhook secrets (webhooks/webhookSecrets.ts). The sealed copy is readable only by the
 * server; no API returns it.
 */
import { randomBytes } from 'node:crypto';
import { digest } from '../auth/credentials.ts';
import type { Queryable } from '../store/database.ts';
import { insertKeySet, serverSecret } from '../store/merchantsStore.ts';
import { insertPspClientSecret } from '../store/pspStore.ts';
import { openSecret, sealSecret } from '../webhooks/webhookSecrets.ts';

const KEY_NAME = 'psp-client-secret-key';
/** Additional data of the seal: a sealed secret cannot be moved to another key set's row. */
const aad = (clientId: string) => `psp-client:${clientId}`;

/** The sealing key, shared by every process on the database (created on first use). */
export async function pspSecretKey(db: Queryable): Promise<Buffer> {
  return Buffer.from(await serverSecret(db, KEY_NAME, () => randomBytes(32).toString('base64')), 'base64');
}

export function sealPspSecret(key: Buffer, clientId: string, secret: string): string {
  return sealSecret(key, aad(clientId), secret);
}

export function openPspSecret(key: Buffer, clientId: string, sealed: string): string {
  return openSecret(key, aad(clientId), sealed);
}

export interface PspCredentials {
  pspId: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  /** The sales units it has onboarded. */
  msns: string[];
}

/** Adds a PSP key set (kind `psp`, its Psp-Id) with the sealed signing secret. Idempotent for seeding. */
export async function insertPspKeySet(tx: Queryable, psp: PspCredentials): Promise<void> {
  await insertKeySet(tx, {
    clientId: psp.clientId,
    clientSecretHash: digest(psp.clientSecret),
    subscriptionKeyHash: digest(psp.subscriptionKey),
    kind: 'psp',
    pspId: psp.pspId,
    msns: psp.msns,
  });
  await insertPspClientSecret(tx, psp.clientId, sealPspSecret(await pspSecretKey(tx), psp.clientId, psp.clientSecret));
}
