/**
 * Authenticates an API call (spec §2): subscription key, Bearer token of the same key set, and the
 * `Merchant-Serial-Number` the call acts for. A key set never reaches a sales unit outside its reach.
 */
import type { FastifyRequest } from 'fastify';
import { verifyAccessToken } from '../auth/accessTokens.ts';
import type { CallerCache } from '../auth/callerCache.ts';
import { digest } from '../auth/credentials.ts';
import { HttpProblem, ValidationError } from '../errors.ts';
import type { SalesUnit } from '../payments/salesUnits.ts';
import type { KeySet } from '../store/merchantsStore.ts';
import { header } from './headers.ts';

export interface Caller {
  keySet: KeySet;
  salesUnit: SalesUnit;
  subscriptionKey: string;
}

/** The API gateway's 401 answers; kept as Problems that also carry the gateway's `statusCode`/`message`. */
export function subscriptionKeyProblem(missing: boolean): HttpProblem {
  const message = missing
    ? 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.'
    : 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.';
  return new HttpProblem(401, 'Unauthorized', message, { statusCode: 401, message });
}

const MSN_PATTERN = /^[0-9]{4,7}$/;

/**
 * The key set of a call (subscription key, its Bearer token, the Psp-Id rule) before any sales unit is
 * chosen; PSP-wide webhook registrations (platform-guidelines §4.1) act without a Merchant-Serial-Number.
 * `nowMs(keySet)`: the time the key set's tokens are checked against (time control moves it per unit).
 */
export async function authenticateKeySet(
  request: FastifyRequest,
  cache: CallerCache,
  tokenKey: Uint8Array,
  nowMs: (keySet: KeySet) => number,
): Promise<Pick<Caller, 'keySet' | 'subscriptionKey'>> {
  const subscriptionKey = header(request, 'Ocp-Apim-Subscription-Key');
  if (!subscriptionKey) throw subscriptionKeyProblem(true);
  const keySet = await cache.keySetBySubscriptionKeyHash(digest(subscriptionKey));
  if (!keySet) throw subscriptionKeyProblem(false);

  const authorization = header(request, 'Authorization');
  if (!authorization?.startsWith('Bearer ')) {
    throw new HttpProblem(401, 'Unauthorized', 'Send the access token as "Authorization: Bearer <token>" (POST /accesstoken/get).');
  }
  const clientId = await verifyAccessToken(tokenKey, authorization.slice('Bearer '.length).trim(), nowMs(keySet));
  if (!clientId) throw new HttpProblem(401, 'Unauthorized', 'The access token is invalid or has expired; fetch a new one.');
  if (clientId !== keySet.clientId) {
    throw new HttpProblem(401, 'Unauthorized', 'The access token was issued to another key set than the subscription key.');
  }

  const pspId = header(request, 'Psp-Id');
  if (keySet.kind === 'psp' && pspId !== keySet.pspId) {
    throw new HttpProblem(403, 'Forbidden', 'PSP keys must send their own Psp-Id header on every call.');
  }
  if (keySet.kind === 'merchant' && pspId !== undefined) {
    throw new HttpProblem(403, 'Forbidden', 'Psp-Id was sent with merchant keys; only PSP keys may act as a PSP.');
  }
  return { keySet, subscriptionKey };
}

export async function authenticate(
  request: FastifyRequest,
  cache: CallerCache,
  tokenKey: Uint8Array,
  nowMs: (keySet: KeySet) => number,
): Promise<Caller> {
  const { keySet, subscriptionKey } = await authenticateKeySet(request, cache, tokenKey, nowMs);
  let msn = header(request, 'Merchant-Serial-Number');
  if (msn === undefined) {
    if (keySet.kind !== 'merchant' || keySet.msns.length !== 1) {
      throw new HttpProblem(403, 'Forbidden', 'Merchant-Serial-Number is required with PSP keys.');
    }
    msn = keySet.msns[0] as string;
  }
  if (!MSN_PATTERN.test(msn)) {
    throw new ValidationError([
      {
        name: 'Merchant-Serial-Number',
        reason: `The field Merchant-Serial-Number must match the regular expression '${MSN_PATTERN.source}'.`,
      },
    ]);
  }
  if (!keySet.msns.includes(msn)) {
    throw new HttpProblem(403, 'Forbidden', `These keys cannot act for sales unit ${msn}.`);
  }
  const salesUnit = await cache.salesUnit(msn);
  if (!salesUnit) throw new HttpProblem(403, 'Forbidden', `Sales unit ${msn} does not exist.`);
  return { keySet, salesUnit, subscriptionKey };
}
