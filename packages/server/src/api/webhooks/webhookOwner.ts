/**
 * Whose webhooks a call manages (platform-guidelines §4.1, open question 26): sales-unit keys manage
 * their sales unit's registrations; PSP keys with a Merchant-Serial-Number manage their registrations
 * for that unit, and without one their PSP-wide registrations (every linked unit, present and future).
 */
import type { FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { authenticateKeySet } from '../../http/authenticate.ts';
import { header } from '../../http/headers.ts';
import type { WebhookOwner } from '../../webhooks/types.ts';
import type { ApiDeps } from '../apiDeps.ts';

export async function webhookOwnerOf(
  request: FastifyRequest,
  deps: ApiDeps,
  cache: CallerCache,
): Promise<{ owner: WebhookOwner; clientId: string }> {
  if (header(request, 'Merchant-Serial-Number') === undefined && header(request, 'Psp-Id') !== undefined) {
    const { keySet } = await authenticateKeySet(request, cache, deps.ctx.tokenKey, (k) => deps.ctx.clock.latestMs(k.msns));
    if (keySet.kind === 'psp' && keySet.pspId) {
      return { owner: { bucket: 'psp', msn: null, pspId: keySet.pspId }, clientId: keySet.clientId };
    }
  }
  const caller = await deps.authenticate(request);
  const { keySet, salesUnit } = caller;
  const owner: WebhookOwner =
    keySet.kind === 'psp' && keySet.pspId
      ? { bucket: 'psp', msn: salesUnit.msn, pspId: keySet.pspId }
      : { bucket: 'sales-unit', msn: salesUnit.msn, pspId: null };
  return { owner, clientId: keySet.clientId };
}
