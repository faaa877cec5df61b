/**
 * Kassa's control API for the public keys a PSP receives encrypted PANs with (epayment-api §17.2
 * `publicEncryptionKeyId`). The platform registers these keys with the PSP partner manager, outside
 * any API; Kassa offers it under its own control prefix, authenticated with the PSP's keys:
 *
 *   POST   /kassa/v1/psp/encryption-keys        {publicKey: PEM}  → 201 {keyId, algorithm, fingerprint, createdAt}
 *   GET    /kassa/v1/psp/encryption-keys                          → 200 {keys: [...]}
 *   DELETE /kassa/v1/psp/encryption-keys/{keyId}                  → 204
 *
 * `keyId` is the GUID a create request names; the PAN is encrypted with RSA-OAEP-256 (panEncryption.ts).
 */
import { randomUUID } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { HttpProblem, ValidationError } from '../../errors.ts';
import { checkPublicKey, PAN_ENCRYPTION_ALGORITHM } from '../../psp/panEncryption.ts';
import { deleteEncryptionKey, type EncryptionKey, insertEncryptionKey, listEncryptionKeys } from '../../store/pspStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { validatedBody } from '../epayment/requestParts.ts';
import { authenticatePsp } from './pspCaller.ts';

const KEYS = '/kassa/v1/psp/encryption-keys';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A registration bucket's worth, as for webhooks: enough for rotation, not a store of keys. */
const MAX_KEYS = 25;

const RegisterKeySchema = T.Object({ publicKey: T.String({ minLength: 1, maxLength: 10_000 }) });

const keyBody = (key: EncryptionKey) => ({
  keyId: key.id,
  algorithm: PAN_ENCRYPTION_ALGORITHM,
  fingerprint: key.fingerprint,
  createdAt: key.createdAt.toISOString(),
});

export function registerPspEncryptionKeys(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  app.post(KEYS, async (request, reply) => {
    const keySet = await authenticatePsp(request, deps, cache);
    const body = validatedBody(request, RegisterKeySchema);
    const checked = checkPublicKey(body.publicKey);
    if (!checked.ok) throw new ValidationError([{ name: 'publicKey', reason: checked.reason }]);
    const key: EncryptionKey = {
      id: randomUUID(),
      pspId: keySet.pspId,
      publicKeyPem: checked.pem,
      fingerprint: checked.fingerprint,
      createdAt: ctx.clock.now(),
    };
    await ctx.db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock(hashtext('psp-encryption-keys:' || $1))", [keySet.pspId]);
      if ((await listEncryptionKeys(tx, keySet.pspId)).length >= MAX_KEYS) {
        throw new ValidationError([{ name: 'publicKey', reason: `A PSP may have at most ${MAX_KEYS} keys; delete one first.` }]);
      }
      await insertEncryptionKey(tx, key);
    });
    return reply.code(201).send(keyBody(key));
  });

  app.get(KEYS, async (request, reply) => {
    const keySet = await authenticatePsp(request, deps, cache);
    return reply.code(200).send({ keys: (await listEncryptionKeys(ctx.db, keySet.pspId)).map(keyBody) });
  });

  app.delete(`${KEYS}/:keyId`, async (request, reply) => {
    const keySet = await authenticatePsp(request, deps, cache);
    const { keyId } = request.params as { keyId: string };
    if (!GUID.test(keyId)) throw new ValidationError([{ name: 'keyId', reason: `The value '${keyId}' is not a valid key id (a GUID).` }]);
    if (!(await deleteEncryptionKey(ctx.db, keySet.pspId, keyId.toLowerCase(), ctx.clock.now()))) {
      throw new HttpProblem(404, 'Not Found', `There is no encryption key ${keyId} for this PSP.`);
    }
    return reply.code(204).send();
  });
}
