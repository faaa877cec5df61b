/** Header and path checks shared by the ePayment operations (spec §2.1, §3, §12.1). */

import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { type FieldError, HttpProblem, ValidationError } from '../../errors.ts';
import { header } from '../../http/headers.ts';
import { validatorFor } from '../../http/validation.ts';
import { IDEMPOTENCY_KEY_MAX, REFERENCE_PATTERN } from './schemas.ts';

const referencePattern = new RegExp(REFERENCE_PATTERN);
const SYSTEM_HEADERS = ['Vipps-System-Name', 'Vipps-System-Version', 'Vipps-System-Plugin-Name', 'Vipps-System-Plugin-Version'];

/** `Vipps-System-*` longer than 30 characters → 400 (epayment open question 24). */
export function systemHeaderErrors(request: FastifyRequest): FieldError[] {
  return SYSTEM_HEADERS.filter((name) => (header(request, name)?.length ?? 0) > 30).map((name) => ({
    name,
    reason: `The field ${name} must be a string with a maximum length of '30'.`,
  }));
}

export function idempotencyKeyOf(request: FastifyRequest, required: boolean): string | null {
  const key = header(request, 'Idempotency-Key');
  if (key === undefined) {
    if (!required) return null;
    throw new ValidationError([{ name: 'Idempotency-Key', reason: 'The Idempotency-Key header is required.' }]);
  }
  if (key.length > IDEMPOTENCY_KEY_MAX) {
    throw new ValidationError([
      { name: 'Idempotency-Key', reason: `The field Idempotency-Key must be a string with a maximum length of '${IDEMPOTENCY_KEY_MAX}'.` },
    ]);
  }
  return key;
}

/** The Idempotency-Key when it is one the server keeps (present, 1–50 characters), else null; never throws. */
export function usableIdempotencyKeyOf(request: FastifyRequest): string | null {
  const key = header(request, 'Idempotency-Key');
  return key && key.length <= IDEMPOTENCY_KEY_MAX ? key : null;
}

export const isSystemHeader = (name: string): boolean => SYSTEM_HEADERS.includes(name);

/** The request's path without its query: with the method and body, what a request's fingerprint covers. */
export const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] as string;

export function referenceOf(request: FastifyRequest): string {
  const reference = (request.params as { reference?: string }).reference ?? '';
  if (!referencePattern.test(reference)) {
    throw new ValidationError([
      { name: 'reference', reason: `The field Reference must match the regular expression '${REFERENCE_PATTERN}'.` },
    ]);
  }
  return reference;
}

/** The reference of a read (GET payment, GET events), whose Vipps-System-* headers are held to 30 characters as a write's are (open question 24). */
export function readReferenceOf(request: FastifyRequest): string {
  const reference = referenceOf(request);
  const errors = systemHeaderErrors(request);
  if (errors.length > 0) throw new ValidationError(errors);
  return reference;
}

const UNSUPPORTED = Symbol('unsupported media type');

/** What the catch-all content-type parser returns for a non-JSON body. */
export function unsupportedBody(contentType: string | undefined): unknown {
  return { [UNSUPPORTED]: contentType ?? '' };
}

/** The parsed JSON body; a body of another media type gets 415. */
export function jsonBodyOf(request: FastifyRequest): unknown {
  const body = request.body as Record<symbol, unknown> | undefined;
  if (body && typeof body === 'object' && UNSUPPORTED in body) {
    throw new HttpProblem(415, 'Unsupported Media Type', `Send the request body as application/json, not "${String(body[UNSUPPORTED])}".`);
  }
  return request.body;
}

/** The body checked against its schema, with any `also` found elsewhere: all field errors in one 400 (spec §13.2). */
export function validatedBody<S extends TSchema>(
  request: FastifyRequest,
  schema: S,
  whenEmpty?: unknown,
  also: FieldError[] = [],
): Static<S> {
  const body = jsonBodyOf(request) ?? whenEmpty;
  const errors = [...validatorFor(schema)(body), ...also];
  if (errors.length > 0) throw new ValidationError(errors);
  return body as Static<S>;
}

/**
 * An ePayment request's body with its `Vipps-System-*` headers: the ePayment API refuses headers over
 * 30 characters (epayment-api open question 24). The other APIs accept them, as platform-guidelines
 * open question 19 recommends; the checklist reports them either way.
 */
export function validatedEpaymentBody<S extends TSchema>(request: FastifyRequest, schema: S, whenEmpty?: unknown): Static<S> {
  return validatedBody(request, schema, whenEmpty, systemHeaderErrors(request));
}
