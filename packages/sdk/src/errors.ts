/**
 * The SDK's errors. Every error of a call names the operation, the endpoint, the attempts made and the
 * Idempotency-Key, so a failed call can be retried with the same key (platform-guidelines §3.3) and found
 * in the platform's logs by its traceId (§15.1).
 */
import type { ExtraDetail, Problem } from './generated/types.ts';

export interface CallContext {
  /** SDK operation, e.g. `capturePayment`. */
  operation: string;
  method: string;
  /** Path template, e.g. `/epayment/v1/payments/{reference}/capture`. */
  endpoint: string;
  /** The path actually called. */
  path: string;
  /** HTTP attempts made, the failing one included (the real count: platform-guidelines open question 28). */
  attempts: number;
  idempotencyKey?: string;
}

export class SdkError extends Error {
  readonly operation: string | undefined;
  readonly method: string | undefined;
  readonly endpoint: string | undefined;
  readonly path: string | undefined;
  readonly attempts: number;
  readonly idempotencyKey: string | undefined;

  constructor(message: string, context?: Partial<CallContext>, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.operation = context?.operation;
    this.method = context?.method;
    this.endpoint = context?.endpoint;
    this.path = context?.path;
    this.attempts = context?.attempts ?? 0;
    this.idempotencyKey = context?.idempotencyKey;
  }
}

/** Invalid client configuration or arguments, found before anything is sent. */
export class ConfigurationError extends SdkError {}

/**
 * The platform answered with a non-2xx status. `problem` is the RFC 7807 body when there is one;
 * `errorCode` is the platform's numeric code (`extraDetails: [{name: "ErrorCode", reason: "6090"}]`,
 * epayment-api §13.3) — branch on it and on `status`, never on `title` or `detail` (§15.1).
 */
export class ApiError extends SdkError {
  readonly status: number;
  readonly problem: Problem | undefined;
  readonly errorCode: number | undefined;
  readonly traceId: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  /** Field errors of a validation Problem (every `extraDetails` entry except the ErrorCode). */
  readonly fieldErrors: ExtraDetail[];
  /** The parsed body (JSON) or its text, also when it is not a Problem (API-gateway answers). */
  readonly body: unknown;
  /** The wait the server asked for with `Retry-After` (429/503), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, body: unknown, context: CallContext, retryAfterMs?: number) {
    const problem = isProblem(body) ? body : undefined;
    const extraDetails = problem?.extraDetails ?? [];
    const codeEntry = extraDetails.find((entry) => entry.name === 'ErrorCode');
    const errorCode = codeEntry && /^\d+$/.test(codeEntry.reason) ? Number(codeEntry.reason) : undefined;
    const gateway = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const title = problem?.title ?? stringOr(gateway.error) ?? undefined;
    const detail = problem?.detail ?? stringOr(gateway.message) ?? stringOr(gateway.error_description) ?? undefined;
    const traceId = problem?.traceId ?? stringOr(gateway.trace_id) ?? undefined;
    const fieldErrors = extraDetails.filter((entry) => entry.name !== 'ErrorCode');
    const summary = [
      `${context.method} ${context.path} → ${status}`,
      errorCode !== undefined ? ` [${errorCode}]` : '',
      title ? ` ${title}` : '',
      detail ? `: ${detail}` : '',
      fieldErrors.length > 0 ? ` (${fieldErrors.map((f) => `${f.name}: ${f.reason}`).join('; ')})` : '',
      traceId ? ` traceId=${traceId}` : '',
    ].join('');
    super(summary, context);
    this.status = status;
    this.problem = problem;
    this.errorCode = errorCode;
    this.traceId = traceId;
    this.title = title;
    this.detail = detail;
    this.fieldErrors = fieldErrors;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The token service refused the credentials (`POST /accesstoken/get`, platform-guidelines §2.1): its
 * OAuth-style body (`error`, `error_description`, `error_codes`, `trace_id`), or the gateway's 401.
 */
export class AccessTokenError extends ApiError {
  get error(): string | undefined {
    return stringOr((this.body as Record<string, unknown> | undefined)?.error);
  }
  get errorCodes(): number[] {
    const codes = (this.body as Record<string, unknown> | undefined)?.error_codes;
    return Array.isArray(codes) ? codes.filter((c): c is number => typeof c === 'number') : [];
  }
}

/**
 * No HTTP answer: connection refused or reset, DNS failure, or a timeout. The outcome is unknown — the
 * platform may have acted — so the SDK retries with the same Idempotency-Key (§3.3, §6.2), and a caller
 * that gets this error after the last attempt should read the payment back before deciding.
 */
export class NetworkError extends SdkError {
  /** `ECONNRESET`, `ECONNREFUSED`, `ENOTFOUND`, `CONNECT_TIMEOUT`, `TOTAL_TIMEOUT`, ... */
  readonly code: string;

  constructor(message: string, code: string, context?: Partial<CallContext>, options?: ErrorOptions) {
    super(message, context, options);
    this.code = code;
  }
}

/** A request that took longer than its connect (default 5 s) or total (default 30 s) timeout (§6.2). */
export class TimeoutError extends NetworkError {
  readonly phase: 'connect' | 'total';
  readonly timeoutMs: number;

  constructor(phase: 'connect' | 'total', timeoutMs: number, context?: Partial<CallContext>) {
    super(
      `${phase === 'connect' ? 'Connecting' : 'The request'} took longer than ${timeoutMs} ms`,
      `${phase.toUpperCase()}_TIMEOUT`,
      context,
    );
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** Re-labels a transport error with the call it belongs to (the transport does not know the call). */
export function withContext(error: NetworkError, context: CallContext): NetworkError {
  const labelled =
    error instanceof TimeoutError
      ? new TimeoutError(error.phase, error.timeoutMs, context)
      : new NetworkError(`${context.method} ${context.path}: ${error.message}`, error.code, context, { cause: error.cause ?? error });
  return labelled;
}

function isProblem(body: unknown): body is Problem {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return typeof b.title === 'string' && typeof b.status === 'number';
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
