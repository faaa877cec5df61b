/**
 * `GET /vipps-userinfo-api/userinfo/{sub}` (platform-guidelines §13.3): the profile data a user
 * consented to share with the calling sales unit. Consent is given by authorizing a payment that asked
 * for the scopes (in the app or by force approve); each claim is readable for 168 hours after its
 * latest consent and then reads `[Expired]`. A `sub` belongs to one sales unit and is useless with
 * another unit's keys. The subscription key may be left out (open question 21: accept with or without).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { verifyAccessToken } from '../../auth/accessTokens.ts';
import { consentIsFresh } from '../../customer/profileConsent.ts';
import { HttpProblem } from '../../errors.ts';
import type { Caller } from '../../http/authenticate.ts';
import { header } from '../../http/headers.ts';
import { consentsOf, findSubOwner } from '../../store/customerStore.ts';
import { findKeySetByClientId, findSalesUnit } from '../../store/merchantsStore.ts';
import { findUser, type StoredUser } from '../../store/usersStore.ts';
import type { ApiDeps } from '../apiDeps.ts';

const EXPIRED = '[Expired]';

/** The claims of one scope (§13.1 table), as the Userinfo API names them. */
export function claimsOf(user: StoredUser, scope: string): Record<string, unknown> {
  const { address } = user;
  switch (scope) {
    case 'name':
      return { name: `${user.firstName} ${user.lastName}`, given_name: user.firstName, family_name: user.lastName };
    case 'email':
      return { email: user.email, email_verified: true };
    case 'phoneNumber':
      return { phone_number: user.phone, phone_number_verified: true };
    case 'birthDate':
      return { birthdate: user.birthDate };
    case 'nin':
      return { nin: user.nin };
    case 'address': {
      const street = [address.addressLine1, address.addressLine2].filter(Boolean).join('\n');
      const formatted = [street, `${address.postCode} ${address.city}`, address.country].filter(Boolean).join('\n');
      return {
        address: {
          address_type: 'home',
          country: address.country,
          formatted,
          postal_code: address.postCode,
          region: address.city,
          street_address: street,
        },
        other_addresses: [],
      };
    }
    default:
      return {};
  }
}

/** Every value of a claim set replaced by `[Expired]` (booleans and lists keep their type). */
function expired(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === 'string') out[name] = EXPIRED;
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[name] = expired(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out;
}

/** The client id a token claims to be issued to, before its signature is checked. */
function unverifiedClientId(token: string): string | null {
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

export function registerUserinfo(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  /** The usual authentication, or — without a subscription key — the Bearer token alone. */
  async function caller(request: FastifyRequest): Promise<Pick<Caller, 'salesUnit'>> {
    if (header(request, 'Ocp-Apim-Subscription-Key')) return deps.authenticate(request);
    const authorization = header(request, 'Authorization');
    if (!authorization?.startsWith('Bearer ')) {
      throw new HttpProblem(401, 'Unauthorized', 'Send the access token as "Authorization: Bearer <token>" (POST /accesstoken/get).');
    }
    const token = authorization.slice('Bearer '.length).trim();
    // A token is checked on its key set's clock (time control, test mode), so the key set it names comes first.
    const named = unverifiedClientId(token);
    const keySet = named ? await findKeySetByClientId(ctx.db, named) : null;
    const clientId = keySet ? await verifyAccessToken(ctx.tokenKey, token, ctx.clock.latestMs(keySet.msns)) : null;
    if (!keySet || clientId !== keySet.clientId)
      throw new HttpProblem(401, 'Unauthorized', 'The access token is invalid or has expired; fetch a new one.');
    const msn = header(request, 'Merchant-Serial-Number') ?? (keySet.msns.length === 1 ? keySet.msns[0] : undefined);
    if (!msn || !keySet.msns.includes(msn)) throw new HttpProblem(403, 'Forbidden', 'These keys cannot act for that sales unit.');
    const salesUnit = await findSalesUnit(ctx.db, msn);
    if (!salesUnit) throw new HttpProblem(403, 'Forbidden', `Sales unit ${msn} does not exist.`);
    return { salesUnit };
  }

  app.get('/vipps-userinfo-api/userinfo/:sub', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const { sub } = request.params as { sub: string };
    const owner = await findSubOwner(ctx.db, sub);
    if (!owner) throw new HttpProblem(404, 'Not Found', 'No user with this sub.');
    // One sub per sales unit (§13.2): another unit's keys may not read it.
    if (owner.msn !== salesUnit.msn) throw new HttpProblem(403, 'Forbidden', 'This sub belongs to another sales unit.');
    const user = await findUser(ctx.db, owner.phone);
    if (!user) throw new HttpProblem(404, 'Not Found', 'The user of this sub no longer exists.');
    const { consents, latestPspReference } = await consentsOf(ctx.db, sub);
    const body: Record<string, unknown> = { sub };
    if (latestPspReference) body.sid = latestPspReference;
    for (const [scope, consentedAt] of consents) {
      const claims = claimsOf(user, scope);
      // Consent was given on the sales unit's clock (time control moves it per unit).
      const fresh = consentIsFresh(consentedAt, ctx.clock.now(salesUnit.msn));
      Object.assign(body, fresh ? claims : expired(claims));
    }
    return reply.header('cache-control', 'no-store').send(body);
  });
}
