/**
 * Runs one logical API call: headers, token, timeouts, retries, errors and logs. Every operation of the
 * SDK goes through `call`, so these rules hold everywhere:
 *
 * - one Idempotency-Key per logical call, sent unchanged on every attempt (platform-guidelines §3.3);
 * - the body is serialised again for each attempt — the official SDK re-sends one consumed `Request` and
 *   so cannot retry a POST on Node (§20);
 * - retries per retryPolicy.ts; an unexpected 401 drops the cached token and tries once more with a new
 *   one (§2.1 [rec]);
 * - every failed attempt is logged with endpoint, redacted headers, body, status, code, message and
 *   traceId (§15.1).
 */

import { checkMerchantSerialNumber, type ResolvedConfig } from './config.ts';
import { AccessTokenError, ApiError, type CallContext, ConfigurationError, NetworkError, withContext } from './errors.ts';
import { redactBody, redactHeaders } from './logging.ts';
import { type AttemptOutcome, delayBeforeAttempt, parseRetryAfter } from './retryPolicy.ts';
import { sleep } from './scheduler.ts';

export interface CallSpec {
  /** SDK operation name for logs and errors, e.g. `capturePayment`. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template, `{name}` filled from `params` (URI-encoded). */
  endpoint: string;
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  /** JSON body; serialised anew for every attempt. */
  body?: unknown;
  idempotencyKey?: string;
  /** `bearer` (default) adds the access token and `Psp-Id`; `none` is for the token call itself. */
  auth?: 'bearer' | 'none';
  headers?: Record<string, string>;
  /** Overrides the configured MSN for this call; `null` sends none (e.g. partner-wide webhooks). */
  merchantSerialNumber?: string | null;
  /** Parse the answer as JSON (default) or keep the text. */
  responseType?: 'json' | 'text';
  /**
   * False for a POST the server does not make idempotent (webhook registration): then only attempts
   * that surely had no effect are repeated (retryPolicy.ts). Default true.
   */
  repeatable?: boolean;
}

export interface CallResult<T> {
  status: number;
  data: T;
  headers: Record<string, string>;
  attempts: number;
}

export interface TokenSource {
  get(): Promise<string>;
  /** The platform refused `token`: forget it so the next `get` fetches a new one. */
  invalidate(token: string): void;
}

const IDEMPOTENCY_KEY_MAX = 50;

export class RequestExecutor {
  readonly config: ResolvedConfig;
  #tokens: TokenSource | undefined;

  constructor(config: ResolvedConfig) {
    this.config = config;
  }

  set tokenSource(tokens: TokenSource) {
    this.#tokens = tokens;
  }

  async call<T>(spec: CallSpec): Promise<CallResult<T>> {
    const { config } = this;
    const path = fillPath(spec.endpoint, spec.params ?? {});
    const url = new URL(config.baseUrl.pathname.replace(/\/$/, '') + path, config.baseUrl);
    for (const [name, value] of Object.entries(spec.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    if (spec.idempotencyKey !== undefined && (spec.idempotencyKey.length === 0 || spec.idempotencyKey.length > IDEMPOTENCY_KEY_MAX)) {
      throw new ConfigurationError(`Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX} characters (got ${spec.idempotencyKey.length})`);
    }
    if (spec.merchantSerialNumber) checkMerchantSerialNumber(spec.merchantSerialNumber);
    const auth = spec.auth ?? 'bearer';
    const context = (attempts: number): CallContext => ({
      operation: spec.operation,
      method: spec.method,
      endpoint: spec.endpoint,
      path: url.pathname + url.search,
      attempts,
      ...(spec.idempotencyKey ? { idempotencyKey: spec.idempotencyKey } : {}),
    });

    let attempt = 0;
    let tokenRenewed = false;
    let maxAttempts = config.retry.maxAttempts;
    for (;;) {
      attempt += 1;
      const token = auth === 'bearer' ? await this.#token() : undefined;
      const headers = this.#headers(spec, token);
      // A fresh body for every attempt (never a stream or Request that the previous attempt consumed).
      const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
      const started = config.scheduler.now();
      let outcome: AttemptOutcome;
      let error: ApiError | NetworkError;
      try {
        const response = await config.transport({
          method: spec.method,
          url,
          headers,
          ...(body !== undefined ? { body } : {}),
          connectTimeoutMs: config.connectTimeoutMs,
          totalTimeoutMs: config.totalTimeoutMs,
          scheduler: config.scheduler,
        });
        const parsed = parseBody(response.text, response.headers['content-type'], spec.responseType ?? 'json');
        // A 2xx that is not JSON (a captive proxy's HTML page, say) is not the platform's answer.
        const unusable = (spec.responseType ?? 'json') === 'json' && typeof parsed === 'string';
        if (response.status >= 200 && response.status < 300 && !unusable) {
          config.logger({
            level: 'debug',
            event: 'http.succeeded',
            message: `${spec.method} ${url.pathname} → ${response.status}`,
            operation: spec.operation,
            endpoint: spec.endpoint,
            status: response.status,
            attempt,
            durationMs: config.scheduler.now() - started,
          });
          return { status: response.status, data: parsed as T, headers: response.headers, attempts: attempt };
        }
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], config.scheduler.now());
        const ErrorClass = spec.endpoint === '/accesstoken/get' ? AccessTokenError : ApiError;
        error = new ErrorClass(response.status, parsed, context(attempt), retryAfterMs);
        outcome = { kind: 'status', status: response.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };

        // An unexpected 401 usually means the cached token was revoked or expired early: renew once.
        if (response.status === 401 && token !== undefined && !tokenRenewed && this.#tokens) {
          tokenRenewed = true;
          maxAttempts += 1;
          this.#tokens.invalidate(token);
          this.#logFailure(spec, headers, error, attempt, true, 0, started);
          continue;
        }
      } catch (thrown) {
        if (!(thrown instanceof NetworkError)) throw thrown;
        error = withContext(thrown, context(attempt));
        outcome = { kind: 'network', code: thrown.code };
      }

      const delay =
        attempt < maxAttempts
          ? delayBeforeAttempt(attempt + 1, outcome, { ...config.retry, maxAttempts }, config.random, spec.repeatable ?? true)
          : undefined;
      this.#logFailure(spec, headers, error, attempt, delay !== undefined, delay, started);
      if (delay === undefined) throw error;
      await sleep(config.scheduler, delay);
    }
  }

  async #token(): Promise<string> {
    if (!this.#tokens) throw new ConfigurationError('no access token source configured');
    return this.#tokens.get();
  }

  #headers(spec: CallSpec, token: string | undefined): Record<string, string> {
    const { config } = this;
    const headers: Record<string, string> = {
      Accept: spec.responseType === 'text' ? '*/*' : 'application/json',
      'User-Agent': config.userAgent,
      'Ocp-Apim-Subscription-Key': config.subscriptionKey,
      ...config.systemHeaders,
    };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const msn = spec.merchantSerialNumber === undefined ? config.merchantSerialNumber : spec.merchantSerialNumber;
    if (msn) headers['Merchant-Serial-Number'] = msn;
    // Psp-Id goes on every PSP call except the token call (§3.1, §18).
    if (config.pspId && (spec.auth ?? 'bearer') === 'bearer') headers['Psp-Id'] = config.pspId;
    if (spec.idempotencyKey) headers['Idempotency-Key'] = spec.idempotencyKey;
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    return { ...headers, ...spec.headers };
  }

  #logFailure(
    spec: CallSpec,
    headers: Record<string, string>,
    error: ApiError | NetworkError,
    attempt: number,
    willRetry: boolean,
    retryInMs: number | undefined,
    started: number,
  ): void {
    const api = error instanceof ApiError ? error : undefined;
    this.config.logger({
      level: willRetry ? 'warn' : 'error',
      event: willRetry ? 'http.attempt_failed' : 'http.failed',
      message: error.message,
      operation: spec.operation,
      method: spec.method,
      endpoint: spec.endpoint,
      path: error.path,
      attempt,
      willRetry,
      ...(willRetry ? { retryInMs } : {}),
      idempotencyKey: spec.idempotencyKey,
      requestHeaders: redactHeaders(headers),
      requestBody: redactBody(spec.body),
      status: api?.status,
      errorCode: api?.errorCode,
      title: api?.title,
      detail: api?.detail,
      traceId: api?.traceId,
      ...(api && !api.problem ? { responseBody: api.body } : {}),
      ...(error instanceof NetworkError ? { networkError: error.code } : {}),
      durationMs: this.config.scheduler.now() - started,
    });
  }
}

function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') throw new ConfigurationError(`path parameter ${name} is required for ${template}`);
    return encodeURIComponent(value);
  });
}

function parseBody(text: string, contentType: string | undefined, responseType: 'json' | 'text'): unknown {
  if (text === '') return undefined;
  const json = /[/+]json\b/i.test(contentType ?? '') || (contentType === undefined && /^\s*[[{]/.test(text));
  if (responseType === 'text' && !json) return text;
  if (!json) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
