/**
 * QR images (epayment-api §5.4, §14.4; platform-guidelines §12): the one-time payment QR of
 * `userFlow: QR` at `/qr-image/v1?format=svg|png&size=N&token=…` (no authentication; 404 once the
 * payment is no longer waiting), and the images of QR API codes at `/qr-image/v1/codes/{id}.{png|svg}`.
 * Also what the printed QR API codes lead to: `/qr/r/{id}` (merchant redirect: any camera, no app)
 * and `/qr/c/{id}` (merchant callback: opens the app, which checks in).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import type { ApiDeps } from '../api/apiDeps.ts';
import { HttpProblem, ValidationError } from '../errors.ts';
import { findQrCodeByPublicId, type QrCodeRecord } from '../store/customerStore.ts';
import { paymentByToken } from './customerActions.ts';
import { field } from './format.ts';

export type QrImageFormat = 'svg' | 'png';
export const QR_SIZE = { min: 100, max: 2000, default: 1024 } as const;

/** The QR of `content` as SVG or as a square PNG of exactly `size` pixels. */
export async function renderQr(content: string, format: QrImageFormat, size: number): Promise<{ type: string; body: string | Buffer }> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 4, width: size };
  if (format === 'png') return { type: 'image/png', body: await QRCode.toBuffer(content, { ...options, type: 'png' }) };
  return { type: 'image/svg+xml', body: await QRCode.toString(content, { ...options, type: 'svg' }) };
}

export function parseQrSize(text: string | undefined, name = 'size'): number {
  if (text === undefined || text === '') return QR_SIZE.default;
  const size = Number(text);
  if (!Number.isInteger(size) || size < QR_SIZE.min || size > QR_SIZE.max) {
    throw new ValidationError([{ name, reason: `The field ${name} must be an integer between ${QR_SIZE.min} and ${QR_SIZE.max}.` }]);
  }
  return size;
}

/** What the target of a payment's one-time QR is: the app's QR entry (also the TEXT/TARGETURL redirectUrl). */
export function paymentQrTarget(publicUrl: string, token: string): string {
  return `${publicUrl}/app/qr?token=${token}`;
}

/** What a QR API code encodes: a stable URL of its own, so a changed redirectUrl needs no new print (§12.2). */
export function qrContentOf(code: Pick<QrCodeRecord, 'kind' | 'publicId' | 'targetUrl'>, publicUrl: string): string {
  if (code.kind === 'merchant-redirect') return `${publicUrl}/qr/r/${code.publicId}`;
  if (code.kind === 'merchant-callback') return `${publicUrl}/qr/c/${code.publicId}`;
  return code.targetUrl ?? '';
}

export function qrImageUrlOf(publicId: string, publicUrl: string, format: QrImageFormat, size?: number): string {
  return `${publicUrl}/qr-image/v1/codes/${publicId}.${format}${format === 'png' && size ? `?size=${size}` : ''}`;
}

function sendImage(reply: FastifyReply, image: { type: string; body: string | Buffer }): FastifyReply {
  // Images change meaning when the payment or code ends, so they are never cached.
  return reply.code(200).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').type(image.type).send(image.body);
}

export function registerQrImages(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  app.get('/qr-image/v1', async (request, reply) => {
    const format = field(request.query, 'format') ?? 'svg';
    if (format !== 'svg' && format !== 'png') {
      throw new ValidationError([{ name: 'format', reason: 'The field format must be "svg" or "png".' }]);
    }
    const size = parseQrSize(field(request.query, 'size'));
    const payment = await paymentByToken(deps, field(request.query, 'token'));
    // One code per payment, valid only while it waits for the user (epayment-api §11.3: 404 after expiry).
    if (payment?.state !== 'CREATED' || !payment.redirectToken) {
      throw new HttpProblem(404, 'Not Found', 'This QR code is unknown or its payment is no longer waiting for the user.');
    }
    return sendImage(reply, await renderQr(paymentQrTarget(ctx.config.publicUrl, payment.redirectToken), format, size));
  });

  app.get('/qr-image/v1/codes/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const match = /^([\w-]{8,64})\.(png|svg)$/.exec(file);
    const code = match ? await findQrCodeByPublicId(ctx.db, match[1] as string, (msn) => ctx.clock.now(msn)) : null;
    if (!match || !code) throw new HttpProblem(404, 'Not Found', 'This QR code does not exist (any more).');
    const size = parseQrSize(field(request.query, 'size'));
    return sendImage(reply, await renderQr(qrContentOf(code, ctx.config.publicUrl), match[2] as QrImageFormat, size));
  });

  /** A printed merchant redirect QR opens the merchant's current URL with any camera (§12.2). */
  app.get('/qr/r/:publicId', async (request, reply) => {
    const { publicId } = request.params as { publicId: string };
    const code = await findQrCodeByPublicId(ctx.db, publicId, (msn) => ctx.clock.now(msn));
    if (code?.kind !== 'merchant-redirect' || !code.targetUrl) {
      throw new HttpProblem(404, 'Not Found', 'This QR code does not exist (any more).');
    }
    return reply.code(302).header('cache-control', 'no-store').header('location', code.targetUrl).send();
  });

  /** A merchant callback QR belongs to the app: a phone camera hands it over, and the app checks in. */
  app.get('/qr/c/:publicId', async (request, reply) => {
    const { publicId } = request.params as { publicId: string };
    return reply
      .code(303)
      .header('location', `/app/checkin/${encodeURIComponent(publicId)}`)
      .send();
  });
}
