/** Turns every error into an RFC 7807 Problem (spec §4.7, §13). Nothing else builds Problem bodies. */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, errorCodes, HttpProblem, ValidationError } from '../errors.ts';
import { pgErrorCode } from '../store/database.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  traceId: string;
  extraDetails?: { name: string; reason: string }[];
  [member: string]: unknown;
}

/** The platform reports the path without the `/epayment` prefix (e.g. `/v1/payments/abc/capture`). */
function instanceOf(url: string): string {
  const path = url.split('?')[0] ?? url;
  return path.startsWith('/epayment/') ? path.slice('/epayment'.length) : path;
}

export function problemFor(
  error: unknown,
  request: Pick<FastifyRequest, 'url' | 'id'>,
): { problem: Problem; headers: Record<string, string> } {
  const base = { instance: instanceOf(request.url), traceId: request.id };
  if (error instanceof DomainError) {
    return {
      problem: {
        type: `https://httpstatuses.io/${error.status}`,
        title: error.title,
        status: error.status,
        detail: error.detail,
        ...base,
        extraDetails: [{ name: 'ErrorCode', reason: String(error.code) }],
      },
      headers: {},
    };
  }
  if (error instanceof ValidationError) {
    return {
      problem: {
        type: 'https://httpstatuses.io/400',
        title: error.title,
        status: error.status,
        detail: error.detail,
        ...base,
        extraDetails: error.fields,
      },
      headers: {},
    };
  }
  if (error instanceof HttpProblem) {
    return {
      problem: {
        type: `https://httpstatuses.io/${error.status}`,
        title: error.title,
        status: error.status,
        ...(error.detail ? { detail: error.detail } : {}),
        ...base,
        ...error.extra,
      },
      headers: error.headers,
    };
  }
  if (isDataException(error)) {
    return {
      problem: {
        type: 'https://httpstatuses.io/400',
        title: 'Bad Request',
        status: 400,
        detail: 'A value in the request is outside what the platform can store or compare.',
        ...base,
      },
      headers: {},
    };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    const { title, detail } = describeFrameworkError(fastifyError.code, status, fastifyError.message);
    return { problem: { type: `https://httpstatuses.io/${status}`, title, status, detail, ...base }, headers: {} };
  }
  const internal = errorCodes.internalError;
  return {
    problem: {
      type: 'https://httpstatuses.io/500',
      title: internal.title,
      status: 500,
      detail: 'An unexpected error occurred. The request can be retried with the same Idempotency-Key.',
      ...base,
      extraDetails: [{ name: 'ErrorCode', reason: String(internal.code) }],
    },
    headers: {},
  };
}

/**
 * PostgreSQL refused a value as data (SQLSTATE class 22: out of range, bad encoding, …). Requests are
 * checked before they reach the database; one that still carries such a value is the client's, and
 * must not be answered as a fault of the platform (the error handler logs it as a warning to fix).
 */
export function isDataException(error: unknown): boolean {
  return /^22[0-9A-Z]{3}$/.test(pgErrorCode(error) ?? '');
}

function describeFrameworkError(code: string | undefined, status: number, message = ''): { title: string; detail: string } {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { title: 'Payload Too Large', detail: 'The request body is larger than the server accepts.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { title: 'Unsupported Media Type', detail: 'Send the request body as application/json.' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { title: 'Bad Request', detail: 'The Content-Length header does not match the body.' };
    case 'FST_ERR_BAD_URL':
      return { title: 'Bad Request', detail: 'The request path is not a valid URL (bad percent-encoding).' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { title: 'URI Too Long', detail: 'A path parameter is longer than the server accepts.' };
    default:
      return { title: STATUS_CODES[status] ?? 'Bad Request', detail: message };
  }
}

export function sendProblem(reply: FastifyReply, error: unknown): FastifyReply {
  const { problem, headers } = problemFor(error, reply.request);
  return reply.code(problem.status).headers(headers).type('application/problem+json').send(problem);
}
