/**
 * Webhook diagnostics of Kassa's control API, in test and production mode, for the keys that own the
 * registrations (platform-guidelines §4.6 [rec] "delivery-attempt record ... exposed via an admin
 * endpoint", and the portal's "Webhook errors"):
 *
 *   GET  /kassa/v1/webhooks/registrations               the owner's registrations, deleted ones too, with health
 *   GET  /kassa/v1/webhooks/deliveries                  one row per event and registration, newest first
 *   GET  /kassa/v1/webhooks/attempts                    every attempt, newest first
 *   POST /kassa/v1/webhooks/deliveries/{id}/replay      send a delivery again
 *
 * The lists filter by `reference`, `registrationId`, `state` (deliveries), `deliveryId` (attempts) and
 * take `limit` (1–1000, default 100).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { type FieldError, HttpProblem, ValidationError } from '../../errors.ts';
import { type DeliveryFilter, listAttempts, listDeliveries, listRegistrations, replayDelivery } from '../../store/webhooksStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { webhookOwnerOf } from '../webhooks/webhookOwner.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES = ['pending', 'delivered', 'dropped'] as const;

function positiveInteger(value: string): number | null {
  return /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : null;
}

/** The query parameters as a filter; every bad one is reported in one 400. */
function filterOf(request: FastifyRequest, allowed: readonly string[]): DeliveryFilter {
  const query = request.query as Record<string, string | string[] | undefined>;
  const errors: FieldError[] = [];
  const filter: DeliveryFilter = { limit: 100 };
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    if (!allowed.includes(name)) {
      errors.push({ name, reason: `Unknown query parameter; use ${allowed.join(', ')}.` });
      continue;
    }
    const value = Array.isArray(raw) ? (raw.at(-1) as string) : raw;
    if (name === 'reference') filter.reference = value;
    else if (name === 'registrationId') {
      if (UUID.test(value)) filter.registrationId = value.toLowerCase();
      else errors.push({ name, reason: 'The registrationId must be a webhook id (a UUID).' });
    } else if (name === 'state') {
      if ((STATES as readonly string[]).includes(value)) filter.state = value as DeliveryFilter['state'];
      else errors.push({ name, reason: `The state must be one of: ${STATES.join(', ')}.` });
    } else if (name === 'deliveryId') {
      const id = positiveInteger(value);
      if (id === null) errors.push({ name, reason: 'The deliveryId must be a positive integer.' });
      else filter.deliveryId = id;
    } else if (name === 'limit') {
      const limit = positiveInteger(value);
      if (limit === null || limit > 1000) errors.push({ name, reason: 'The limit must be an integer from 1 to 1000.' });
      else filter.limit = limit;
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return filter;
}

export function registerWebhookDiagnostics(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  app.get('/kassa/v1/webhooks/registrations', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const registrations = await listRegistrations(ctx.db, owner, true);
    return reply.send({
      registrations: registrations.map((r) => ({
        id: r.id,
        url: r.url,
        events: r.events,
        msn: r.owner.msn,
        pspId: r.owner.pspId,
        createdAt: r.createdAt,
        lastSuccessAt: r.lastSuccessAt,
        failingSince: r.failingSince,
        disabledAt: r.disabledAt,
        disabledReason: r.disabledReason,
      })),
    });
  });

  app.get('/kassa/v1/webhooks/deliveries', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const filter = filterOf(request, ['reference', 'registrationId', 'state', 'limit']);
    return reply.send({ deliveries: await listDeliveries(ctx.db, owner, filter) });
  });

  app.get('/kassa/v1/webhooks/attempts', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const filter = filterOf(request, ['reference', 'registrationId', 'deliveryId', 'limit']);
    return reply.send({ attempts: await listAttempts(ctx.db, owner, filter) });
  });

  app.post('/kassa/v1/webhooks/deliveries/:id/replay', async (request, reply) => {
    const { owner } = await webhookOwnerOf(request, deps, cache);
    const raw = (request.params as { id: string }).id;
    const id = positiveInteger(raw);
    if (id === null) throw new ValidationError([{ name: 'id', reason: `The value '${raw}' is not a delivery id (a positive integer).` }]);
    const result = await replayDelivery(ctx.db, owner, id, ctx.clock.now());
    if ('problem' in result) {
      if (result.problem === 'not-found') throw new HttpProblem(404, 'Not Found', `There is no webhook delivery ${id} for these keys.`);
      throw new HttpProblem(409, 'Conflict', 'The webhook registration of this delivery was deleted; register the URL again.');
    }
    deps.onEvents();
    return reply.code(202).send({ delivery: result.replayed });
  });
}
