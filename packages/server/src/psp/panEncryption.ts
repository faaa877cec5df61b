/**
 * The encrypted PAN of a card callback (epayment-api §17.2–§17.3): the PSP registers an RSA public key
 * and names it in `cardPassthrough.publicEncryptionKeyId`; the PAN is encrypted with RSA-OAEP using
 * SHA-256 for both the OAEP hash and MGF1 ("RSA-OAEP-256", as JWE names it) and sent as base64.
 * The spec names neither the algorithm nor the encoding; this choice is Kassa's and is in docs/psp.md.
 */
import { constants, createHash, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';

export const PAN_ENCRYPTION_ALGORITHM = 'RSA-OAEP-256';
const MIN_MODULUS_BITS = 2048;

export type PublicKeyCheck = { ok: true; pem: string; fingerprint: string } | { ok: false; reason: string };

/** Accepts an RSA public key of at least 2048 bits as PEM (SPKI or PKCS#1); returns it as SPKI PEM. */
export function checkPublicKey(text: string): PublicKeyCheck {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    return { ok: false, reason: 'publicKey must be an RSA public key in PEM form ("-----BEGIN PUBLIC KEY-----").' };
  }
  if (key.asymmetricKeyType !== 'rsa') {
    return { ok: false, reason: `publicKey must be an RSA key for ${PAN_ENCRYPTION_ALGORITHM}, not ${key.asymmetricKeyType}.` };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) return { ok: false, reason: `publicKey must have at least ${MIN_MODULUS_BITS} bits (it has ${bits}).` };
  const der = key.export({ type: 'spki', format: 'der' });
  return {
    ok: true,
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(der).digest('base64'),
  };
}

export function encryptPan(pan: string, publicKeyPem: string): string {
  return publicEncrypt(
    { key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(pan, 'utf8'),
  ).toString('base64');
}
