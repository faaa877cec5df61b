/**
 * What create payment (operations/createPayment.ts) asks of a CARD_PASSTHROUGH payment beyond the
 * rules of spec §5.2, inside the create transaction:
 * - before the payment is written (after rule 16): a given `publicEncryptionKeyId` is a GUID naming
 *   one of this PSP's registered keys (400 on the field; the spec has no code for it);
 * - with the payment: which PSP created it, whose client secret signs its callbacks.
 */
import type { CreatePaymentRequest } from '../api/epayment/schemas.ts';
import { ValidationError } from '../errors.ts';
import type { Payment } from '../payments/types.ts';
import type { Queryable } from '../store/database.ts';
import type { KeySet } from '../store/merchantsStore.ts';
import { findEncryptionKey, insertPspPayment } from '../store/pspStore.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CardPassthroughSetup {
  check(tx: Queryable, request: CreatePaymentRequest): Promise<void>;
  record(tx: Queryable, payment: Payment): Promise<void>;
}

/** The checks for a caller with PSP keys; undefined for merchant keys (rule 2 already refuses them). */
export function cardPassthroughSetup(keySet: KeySet): CardPassthroughSetup | undefined {
  const pspId = keySet.kind === 'psp' ? keySet.pspId : null;
  if (!pspId) return undefined;
  return {
    async check(tx, request) {
      const keyId = request.cardPassthrough?.publicEncryptionKeyId;
      if (keyId === undefined) return;
      const name = 'cardPassthrough.publicEncryptionKeyId';
      if (!GUID.test(keyId)) throw new ValidationError([{ name, reason: `The field ${name} must be a GUID.` }]);
      if (!(await findEncryptionKey(tx, pspId, keyId.toLowerCase()))) {
        throw new ValidationError([
          { name, reason: `No public encryption key ${keyId} is registered for this PSP (POST /kassa/v1/psp/encryption-keys).` },
        ]);
      }
    },
    async record(tx, payment) {
      await insertPspPayment(tx, payment.id, pspId);
    },
  };
}
