/**
 * Time control of Kassa's control API (test mode only; docs/time-and-faults.md):
 *
 *   GET  /kassa/v1/clock     real time, global time, and the time of each sales unit the keys reach
 *   POST /kassa/v1/clock     {"advanceSeconds": 600} or {"set": "2026-12-01T10:00:00Z"}, with an optional
 *                            "msn" (absent: global time, which every sales unit follows)
 *
 * Time only moves forward (a `set` into the past is 409). Expiry, capture deadlines, token expiry and
 * webhook retries follow the new time at once in every server process (control/clockOffsets.ts).
 */
import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { type ClockChange, changeClock, clockView } from '../../control/clockOffsets.ts';
import { ValidationError } from '../../errors.ts';
import { validatorFor } from '../../http/validation.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { jsonBodyOf } from '../epayment/requestParts.ts';
import { controlKeySet, reachableMsn, requireTestMode } from './controlCaller.ts';

const ClockChangeSchema = T.Object({
  msn: T.Optional(T.String()),
  advanceSeconds: T.Optional(T.Number({ exclusiveMinimum: 0 })),
  set: T.Optional(T.String({ format: 'date-time' })),
});
type ClockChangeRequest = Static<typeof ClockChangeSchema>;
const FIELDS = Object.keys(ClockChangeSchema.properties);

function changeOf(body: unknown): ClockChangeRequest {
  const errors = validatorFor(ClockChangeSchema)(body ?? {});
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const name of Object.keys(body)) {
      if (!FIELDS.includes(name)) errors.push({ name, reason: `Unknown field; the fields are ${FIELDS.join(', ')}.` });
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  const change = (body ?? {}) as ClockChangeRequest;
  if ((change.advanceSeconds === undefined) === (change.set === undefined)) {
    throw new ValidationError([{ name: 'advanceSeconds', reason: 'Give either advanceSeconds or set.' }]);
  }
  return change;
}

export function registerClockApi(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  app.get('/kassa/v1/clock', async (request, reply) => {
    requireTestMode(deps, 'Time control');
    const keySet = await controlKeySet(request, deps, cache);
    return reply.send(clockView(ctx.clock, keySet.msns));
  });

  app.post('/kassa/v1/clock', async (request, reply) => {
    requireTestMode(deps, 'Time control');
    const keySet = await controlKeySet(request, deps, cache);
    const body = changeOf(jsonBodyOf(request));
    const msn = body.msn === undefined ? undefined : reachableMsn(keySet, body.msn, 'msn');
    const scope = msn === undefined ? {} : { msn };
    const change: ClockChange =
      body.advanceSeconds !== undefined
        ? { ...scope, advanceMs: Math.round(body.advanceSeconds * 1000) }
        : { ...scope, setTo: new Date(body.set as string) };
    await changeClock(ctx.db, ctx.clock, change, keySet.clientId);
    return reply.send(clockView(ctx.clock, keySet.msns));
  });
}
