/**
 * Fault injection of Kassa's control API (test mode only; docs/time-and-faults.md), per sales unit:
 *
 *   POST   /kassa/v1/faults          create a rule → 201 {"rule": {...}}
 *   GET    /kassa/v1/faults          the rules of the units the keys reach (?msn=, ?target=api|webhook)
 *   GET    /kassa/v1/faults/{id}     one rule, with how often it matched and fired
 *   DELETE /kassa/v1/faults/{id}     → 204
 *   DELETE /kassa/v1/faults          every rule of one unit (?msn=, else the Merchant-Serial-Number
 *                                    header or the keys' only unit) → 200 {"deleted": n}
 *
 * A change is in force for the next request in this process when the call answers, and in every
 * other process as soon as it gets the notification (control/faultRules.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { type FaultRules, faultRuleFrom, faultRuleView } from '../../control/faultRules.ts';
import type { FaultTarget } from '../../control/types.ts';
import { type FieldError, HttpProblem, ValidationError } from '../../errors.ts';
import { deleteFaultRules, findFaultRule, insertFaultRule, listFaultRules } from '../../store/controlStore.ts';
import type { KeySet } from '../../store/merchantsStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { jsonBodyOf } from '../epayment/requestParts.ts';
import { controlKeySet, requireTestMode, targetMsn } from './controlCaller.ts';

function queryOf(request: FastifyRequest, allowed: readonly string[]): Record<string, string> {
  const query = request.query as Record<string, string | string[] | undefined>;
  const errors: FieldError[] = [];
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    if (!allowed.includes(name)) errors.push({ name, reason: `Unknown query parameter; use ${allowed.join(', ') || 'none'}.` });
    else out[name] = Array.isArray(raw) ? (raw.at(-1) as string) : raw;
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return out;
}

function ruleId(request: FastifyRequest): number {
  const raw = (request.params as { id: string }).id;
  if (!/^[1-9][0-9]{0,14}$/.test(raw))
    throw new ValidationError([{ name: 'id', reason: `The value '${raw}' is not a fault rule id (a positive integer).` }]);
  return Number(raw);
}

export function registerFaultsApi(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  /** The caller's key set, in test mode, with the rule cache of this process. */
  async function caller(request: FastifyRequest): Promise<{ keySet: KeySet; rules: FaultRules }> {
    requireTestMode(deps, 'Fault injection');
    const rules = ctx.faults;
    if (!rules) throw new HttpProblem(404, 'Not Found', 'Fault injection exists only in test mode.');
    return { keySet: await controlKeySet(request, deps, cache), rules };
  }

  app.post('/kassa/v1/faults', async (request, reply) => {
    const { keySet, rules } = await caller(request);
    const body = jsonBodyOf(request);
    const given = body && typeof body === 'object' ? (body as { msn?: unknown }).msn : undefined;
    const msn = targetMsn(request, keySet, typeof given === 'string' ? given : undefined, 'msn');
    const rule = faultRuleFrom(body, msn ?? '', keySet.clientId);
    if (msn === undefined) throw new ValidationError([{ name: 'msn', reason: 'Name the sales unit the rule is for (msn).' }]);
    const created = await insertFaultRule(ctx.db, rule);
    await rules.reload();
    return reply.code(201).send({ rule: faultRuleView(created) });
  });

  app.get('/kassa/v1/faults', async (request, reply) => {
    const { keySet } = await caller(request);
    const query = queryOf(request, ['msn', 'target']);
    if (query.target !== undefined && query.target !== 'api' && query.target !== 'webhook') {
      throw new ValidationError([{ name: 'target', reason: 'The target must be one of: api, webhook.' }]);
    }
    const msns = query.msn === undefined ? keySet.msns : [targetMsn(request, keySet, query.msn, 'msn') as string];
    const found = await listFaultRules(ctx.db, { msns, ...(query.target ? { target: query.target as FaultTarget } : {}) });
    return reply.send({ rules: found.map(faultRuleView) });
  });

  app.get('/kassa/v1/faults/:id', async (request, reply) => {
    const { keySet } = await caller(request);
    const id = ruleId(request);
    const rule = await findFaultRule(ctx.db, id);
    if (!rule || !keySet.msns.includes(rule.msn)) throw new HttpProblem(404, 'Not Found', `There is no fault rule ${id} for these keys.`);
    return reply.send({ rule: faultRuleView(rule) });
  });

  app.delete('/kassa/v1/faults/:id', async (request, reply) => {
    const { keySet, rules } = await caller(request);
    const id = ruleId(request);
    if ((await deleteFaultRules(ctx.db, keySet.msns, id)) === 0) {
      throw new HttpProblem(404, 'Not Found', `There is no fault rule ${id} for these keys.`);
    }
    await rules.reload();
    return reply.code(204).send();
  });

  app.delete('/kassa/v1/faults', async (request, reply) => {
    const { keySet, rules } = await caller(request);
    const query = queryOf(request, ['msn']);
    const msn = targetMsn(request, keySet, query.msn, 'msn');
    if (msn === undefined) throw new ValidationError([{ name: 'msn', reason: 'Name the sales unit whose rules to delete (msn).' }]);
    const deleted = await deleteFaultRules(ctx.db, [msn]);
    await rules.reload();
    return reply.send({ deleted });
  });
}
