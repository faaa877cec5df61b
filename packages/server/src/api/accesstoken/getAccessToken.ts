/**
 * POST /accesstoken/get (platform-guidelines §2.1). Credentials travel in headers; body, Content-Type,
 * Authorization and Idempotency-Key are ignored, empty headers count as absent (the official SDK sends
 * `Authorization: Bearer `, `Content-Type: application/json`, a random Idempotency-Key and "" headers).
 *
 * Two layers answer, as on the platform: the API gateway checks the subscription key first (401 with
 * its `{statusCode, message}` body), then the token service checks client id and secret with its
 * OAuth-style body. Statuses follow the "Server behaviour [rec]" table and open question 4.
 */
import type { FastifyInstance } from 'fastify';
import { issueAccessToken } from '../../auth/accessTokens.ts';
import type { CallerCache } from '../../auth/callerCache.ts';
import { digest, matchesDigest } from '../../auth/credentials.ts';
import { HttpProblem } from '../../errors.ts';
import { subscriptionKeyProblem } from '../../http/authenticate.ts';
import { header } from '../../http/headers.ts';
import { findKeySetByClientId } from '../../store/merchantsStore.ts';
import type { ApiDeps } from '../apiDeps.ts';

/** The Azure AD codes the platform's token service answers with (AADSTS700016, AADSTS7000215). */
const UNKNOWN_CLIENT = 700016;
const WRONG_SECRET = 7000215;

/** The token service's OAuth-style error (the SDK's `AccessTokenError`), also shaped as a Problem. */
function tokenServiceError(status: 400 | 401, error: string, code: number, description: string, traceId: string, now: Date) {
  const text = `AADSTS${code}: ${description}`;
  return new HttpProblem(status, status === 400 ? 'Bad Request' : 'Unauthorized', text, {
    error,
    error_description: text,
    error_codes: [code],
    timestamp: `${now.toISOString().replace('T', ' ').slice(0, 19)}Z`,
    trace_id: traceId,
    correlation_id: traceId,
    error_uri: `https://login.windows.net/error?code=${code}`,
  });
}

/**
 * Key sets come from the caller cache, as for every API call (a few seconds stale at most): a client
 * that fetches a token per payment then costs no database read.
 */
export function registerAccessToken(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;
  app.post('/accesstoken/get', { config: { ignoreBody: true } }, async (request, reply) => {
    // Gateway layer: a subscription key of some key set, before any credential is looked at.
    const subscriptionKey = header(request, 'Ocp-Apim-Subscription-Key');
    if (!subscriptionKey) throw subscriptionKeyProblem(true);
    const keySetOfSubscription = await cache.keySetBySubscriptionKeyHash(digest(subscriptionKey));
    if (!keySetOfSubscription) throw subscriptionKeyProblem(false);

    // Token service layer.
    const clientId = header(request, 'client_id');
    // The usual caller sends its own key set's pair; only another client id needs a read (for its error).
    const keySet =
      clientId === keySetOfSubscription.clientId ? keySetOfSubscription : clientId ? await findKeySetByClientId(ctx.db, clientId) : null;
    if (!keySet || !clientId) {
      const description = `Application with identifier '${clientId ?? ''}' was not found in the directory 'kassa'.`;
      throw tokenServiceError(400, 'unauthorized_client', UNKNOWN_CLIENT, description, request.id, ctx.clock.now());
    }
    const clientSecret = header(request, 'client_secret');
    if (!clientSecret || !matchesDigest(clientSecret, keySet.clientSecretHash)) {
      throw tokenServiceError(401, 'invalid_client', WRONG_SECRET, 'Invalid client secret provided.', request.id, ctx.clock.now());
    }
    // A token is only usable together with its own key set's subscription key (platform-guidelines §1),
    // so a mismatched pair is refused here rather than with every later API call.
    if (keySetOfSubscription.clientId !== keySet.clientId) throw subscriptionKeyProblem(false);
    // A Merchant-Serial-Number outside the key set's reach still gets a token; API calls refuse it with 403 (§2.1).
    // The token lives on the key set's clock: the latest of its sales units' (time control, test mode).
    const nowMs = ctx.clock.latestMs(keySet.msns);
    return reply.type('application/json').send(await issueAccessToken(ctx.tokenKey, keySet.clientId, nowMs, ctx.config.mode));
  });
}
