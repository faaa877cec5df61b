/**
 * Shared parts of the QR API (platform-guidelines §12.2): its error shape (`invalidParams` instead of
 * `extraDetails`), image selection by `Accept` and `Size`, and the sales unit a call acts for.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { parseQrSize, type QrImageFormat } from '../../customer/qrImages.ts';
import { type FieldError, HttpProblem, ValidationError } from '../../errors.ts';
import { header } from '../../http/headers.ts';
import { validatorFor } from '../../http/validation.ts';
import { jsonBodyOf } from '../epayment/requestParts.ts';

/** A 400 in the QR API's own shape: `{type, title, detail, instance, invalidParams[]}`. */
export function invalidParams(fields: FieldError[]): HttpProblem {
  return new HttpProblem(400, 'Bad Request', fields.map((f) => f.reason).join(' '), { invalidParams: fields });
}

/** Runs `work`, turning schema-level errors into the QR API's 400. */
export function qrValidated<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ValidationError) throw invalidParams(error.fields);
    throw error;
  }
}

export function qrBody<S extends TSchema>(request: FastifyRequest, schema: S): Static<S> {
  const body = jsonBodyOf(request);
  const errors = validatorFor(schema)(body);
  if (errors.length > 0) throw invalidParams(errors);
  return body as Static<S>;
}

/** `Merchant-Serial-Number` is required on the merchant-callback endpoints (§12.2). */
export function requireMsnHeader(request: FastifyRequest): void {
  if (!header(request, 'Merchant-Serial-Number')) {
    throw invalidParams([{ name: 'Merchant-Serial-Number', reason: 'The Merchant-Serial-Number header is required.' }]);
  }
}

export type QrSelection = { kind: 'image'; format: QrImageFormat; size: number } | { kind: 'target' };

/** `Accept: image/png | image/svg+xml | text/targetUrl` (also `image/*`) and `Size` for PNG (§12.2). */
export function qrSelection(request: FastifyRequest): QrSelection {
  const accept = (header(request, 'Accept') ?? '').toLowerCase();
  if (accept.includes('text/targeturl')) return { kind: 'target' };
  const size = qrValidated(() => parseQrSize(header(request, 'Size'), 'Size'));
  if (accept.includes('image/png')) return { kind: 'image', format: 'png', size };
  return { kind: 'image', format: 'svg', size };
}

/** `qrImageFormat` (`PNG`|`SVG`, default SVG) and `qrImageSize` of the merchant-callback reads (§12.2). */
export function callbackImageQuery(request: FastifyRequest): { format: QrImageFormat; size: number } {
  const query = request.query as Record<string, string | undefined>;
  const format = (query.qrImageFormat ?? 'SVG').toUpperCase();
  if (format !== 'PNG' && format !== 'SVG') {
    throw invalidParams([{ name: 'qrImageFormat', reason: 'The field qrImageFormat must be PNG or SVG.' }]);
  }
  const size = qrValidated(() => parseQrSize(query.qrImageSize, 'qrImageSize'));
  return { format: format === 'PNG' ? 'png' : 'svg', size };
}
