/**
 * Who calls the PSP endpoints: PSP keys only (platform-guidelines §1, §18) — a Bearer token of the key
 * set, its subscription key and its own `Psp-Id`. No `Merchant-Serial-Number` is needed: these calls
 * act for the PSP itself (onboarding a merchant, its encryption keys), not for one sales unit.
 */
import type { FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { HttpProblem } from '../../errors.ts';
import { authenticateKeySet } from '../../http/authenticate.ts';
import { noteRequestFacts } from '../../http/requestLog.ts';
import type { KeySet } from '../../store/merchantsStore.ts';
import type { ApiDeps } from '../apiDeps.ts';

export type PspKeySet = KeySet & { kind: 'psp'; pspId: string };

export async function authenticatePsp(request: FastifyRequest, deps: ApiDeps, cache: CallerCache): Promise<PspKeySet> {
  const { keySet } = await authenticateKeySet(request, cache, deps.ctx.tokenKey, (k) => deps.ctx.clock.latestMs(k.msns));
  noteRequestFacts(request, { pspId: keySet.pspId, clientId: keySet.clientId });
  if (keySet.kind !== 'psp' || !keySet.pspId) {
    throw new HttpProblem(403, 'Forbidden', 'Only PSP keys, with their Psp-Id header, may call this endpoint.');
  }
  return keySet as PspKeySet;
}
