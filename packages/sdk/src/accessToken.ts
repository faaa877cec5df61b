/**
 * The access token (platform-guidelines §2.1): fetched with `POST /accesstoken/get`, cached for its
 * life, and renewed before it expires — when less than 10 % of its lifetime or 60 s remain, whichever is
 * more (§2.1 [rec]). Only one token request is ever in flight, however many callers need a token.
 */
import type { ResolvedConfig } from './config.ts';
import type { AccessTokenResponse } from './generated/types.ts';
import type { RequestExecutor, TokenSource } from './requestExecutor.ts';

export interface CachedToken {
  token: string;
  /** When it was received, on the SDK's clock (ms). */
  receivedAt: number;
  expiresAt: number;
  refreshAt: number;
}

/** Fallback when a response states no usable lifetime: assume a short one rather than a long one. */
const FALLBACK_LIFETIME_S = 300;

/** Fields may be strings (current guide) or numbers (an older sample): `Number()` reads both (open questions 1 and 3). */
export function lifetimeSeconds(response: AccessTokenResponse): number {
  const expiresIn = Number(response.expires_in);
  if (Number.isFinite(expiresIn) && expiresIn > 0) return expiresIn;
  const span = Number(response.expires_on) - Number(response.not_before);
  return Number.isFinite(span) && span > 0 ? span : FALLBACK_LIFETIME_S;
}

/**
 * Expiry is counted from when the token arrived on our clock, not from `expires_on`, which is the
 * server's clock: a skew between the two must not make us use an expired token.
 */
export function cacheEntry(response: AccessTokenResponse, receivedAt: number): CachedToken {
  const lifetimeMs = lifetimeSeconds(response) * 1000;
  const margin = Math.max(lifetimeMs * 0.1, 60_000);
  return {
    token: response.access_token,
    receivedAt,
    expiresAt: receivedAt + lifetimeMs,
    refreshAt: receivedAt + Math.max(0, lifetimeMs - margin),
  };
}

export class AccessTokenProvider implements TokenSource {
  #executor: RequestExecutor;
  #config: ResolvedConfig;
  #current: CachedToken | undefined;
  #renewal: Promise<CachedToken> | undefined;

  constructor(executor: RequestExecutor) {
    this.#executor = executor;
    this.#config = executor.config;
  }

  /**
   * A valid token. Inside the renewal window the cached token is still returned at once while one
   * renewal runs in the background; only without a live token do callers wait — all on the same request.
   */
  async get(): Promise<string> {
    const now = this.#config.scheduler.now();
    const current = this.#current;
    if (current && now < current.expiresAt) {
      // A failed background renewal is logged in #fetch and tried again by the next call.
      if (now >= current.refreshAt) this.#renew().catch(() => {});
      return current.token;
    }
    return (await this.#renew()).token;
  }

  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = undefined;
  }

  /** The cached token, for diagnostics (never log `.token`). */
  get cached(): Readonly<CachedToken> | undefined {
    return this.#current;
  }

  /** Fetches a new token now, sharing an in-flight request if there is one. */
  #renew(): Promise<CachedToken> {
    if (!this.#renewal) {
      this.#renewal = this.#fetch().finally(() => {
        this.#renewal = undefined;
      });
    }
    return this.#renewal;
  }

  async #fetch(): Promise<CachedToken> {
    const config = this.#config;
    try {
      const { data } = await this.#executor.call<AccessTokenResponse>({
        operation: 'getAccessToken',
        method: 'POST',
        endpoint: '/accesstoken/get',
        auth: 'none',
        // No body and no Idempotency-Key: the call has no side effect (§2.1).
        headers: { client_id: config.clientId, client_secret: config.clientSecret },
      });
      if (!data || typeof data.access_token !== 'string') throw new Error('the token response has no access_token');
      const entry = cacheEntry(data, config.scheduler.now());
      this.#current = entry;
      config.logger({
        level: 'info',
        event: 'token.fetched',
        message: 'fetched an access token',
        expiresInMs: entry.expiresAt - entry.receivedAt,
        refreshInMs: entry.refreshAt - entry.receivedAt,
      });
      return entry;
    } catch (error) {
      config.logger({ level: 'error', event: 'token.failed', message: `could not fetch an access token: ${(error as Error).message}` });
      throw error;
    }
  }
}
