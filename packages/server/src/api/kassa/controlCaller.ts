/**
 * Who may use Kassa's test-mode controls (time control, fault injection): any key set, with its
 * subscription key and Bearer token as for the platform's APIs. A key set controls the sales units it
 * reaches; the global clock, which every unit follows, may be moved by any key set. In production
 * mode the controls do not exist (404, as if the route were not there).
 */
import type { FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { HttpProblem, ValidationError } from '../../errors.ts';
import { authenticateKeySet } from '../../http/authenticate.ts';
import { header } from '../../http/headers.ts';
import type { KeySet } from '../../store/merchantsStore.ts';
import type { ApiDeps } from '../apiDeps.ts';

const MSN_PATTERN = /^[0-9]{4,7}$/;

export function requireTestMode(deps: ApiDeps, what: string): void {
  if (deps.ctx.config.mode !== 'test') throw new HttpProblem(404, 'Not Found', `${what} exists only in test mode.`);
}

export async function controlKeySet(request: FastifyRequest, deps: ApiDeps, cache: CallerCache): Promise<KeySet> {
  const { keySet } = await authenticateKeySet(request, cache, deps.ctx.tokenKey, (k) => deps.ctx.clock.latestMs(k.msns));
  return keySet;
}

/** `msn` checked against the key set's reach: 400 when malformed, 403 when out of reach. */
export function reachableMsn(keySet: KeySet, msn: string, field: string): string {
  if (!MSN_PATTERN.test(msn)) {
    throw new ValidationError([{ name: field, reason: `The field ${field} must match the regular expression '${MSN_PATTERN.source}'.` }]);
  }
  if (!keySet.msns.includes(msn)) throw new HttpProblem(403, 'Forbidden', `These keys cannot act for sales unit ${msn}.`);
  return msn;
}

/**
 * The one sales unit a call is about: `given` (body or query), else the Merchant-Serial-Number
 * header, else the key set's only unit; undefined when none of these names one.
 */
export function targetMsn(request: FastifyRequest, keySet: KeySet, given: string | undefined, field: string): string | undefined {
  if (given !== undefined) return reachableMsn(keySet, given, field);
  const fromHeader = header(request, 'Merchant-Serial-Number');
  if (fromHeader !== undefined) return reachableMsn(keySet, fromHeader, 'Merchant-Serial-Number');
  return keySet.msns.length === 1 ? keySet.msns[0] : undefined;
}
