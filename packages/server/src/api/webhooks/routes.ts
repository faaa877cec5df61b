/**
 * The Webhooks API v1 (platform-guidelines §4.1): register, list and delete the URLs that receive
 * events. Bodies and statuses are the platform's: 201 `{id, secret}`, 200 `{webhooks: [{id, url,
 * events}]}`, 204; errors are Problems. The platform's `Idempotency-Key` (sent by the SDK) is accepted
 * and ignored: replaying a registration would have to return its secret a second time.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { HttpProblem, ValidationError } from '../../errors.ts';
import { deleteRegistration, listRegistrations } from '../../store/webhooksStore.ts';
import { registerWebhook } from '../../webhooks/registrations.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { validatedBody } from '../epayment/requestParts.ts';
import { webhookOwnerOf } from './webhookOwner.ts';

const RegisterRequestSchema = T.Object({
  url: T.String({ minLength: 1 }),
  events: T.Array(T.String(), { minItems: 1 }),
});
export type RegisterRequest = Static<typeof RegisterRequestSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerWebhooksApi(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  app.post('/webhooks/v1/webhooks', async (request, reply) => {
    const { owner, clientId } = await webhookOwnerOf(request, deps, cache);
    const body = validatedBody(request, RegisterRequestSchema);
    const created = await registerWebhook(ctx.db, owner, body, { mode: ctx.config.mode, createdBy: clientId, now: ctx.clock.now() });
    return reply.code(201).send(created);
  });

  app.get('/webhooks/v1/webhooks', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const registrations = await listRegistrations(ctx.db, owner);
    return reply.code(200).send({ webhooks: registrations.map(({ id, url, events }) => ({ id, url, events })) });
  });

  app.delete('/webhooks/v1/webhooks/:id', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const { id } = request.params as { id: string };
    if (!UUID.test(id)) throw new ValidationError([{ name: 'id', reason: `The value '${id}' is not a valid webhook id (a UUID).` }]);
    // Another owner's registration is as unknown as one that never existed.
    if (!(await deleteRegistration(ctx.db, owner, id.toLowerCase(), ctx.clock.now()))) {
      throw new HttpProblem(404, 'Not Found', `There is no webhook ${id} for these keys.`);
    }
    return reply.code(204).send();
  });
}
