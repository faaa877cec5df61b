/**
 * `POST /qr/v1` (platform-guidelines §12.2): a one-time QR for a payment deeplink. For Kassa's own
 * payment links the code lives as long as the payment waits; other URLs get the default payment
 * lifetime of 10 minutes (epayment-api §11.3).
 */
import { randomBytes } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { paymentByToken } from '../../customer/customerActions.ts';
import { qrImageUrlOf } from '../../customer/qrImages.ts';
import { DEFAULT_PAYMENT_LIFETIME_MS } from '../../payments/salesUnits.ts';
import { isValidReturnUrl } from '../../payments/urlRules.ts';
import { insertQrCode } from '../../store/customerStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { invalidParams, qrBody, qrSelection } from './qrRequests.ts';

const OneTimeSchema = T.Object({ url: T.String({ minLength: 1, maxLength: 2048 }) });

export function registerOneTimeQr(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  app.post('/qr/v1', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = qrBody(request, OneTimeSchema);
    if (!isValidReturnUrl(body.url, ctx.config.mode === 'test')) {
      throw invalidParams([{ name: 'url', reason: 'The field url must be an absolute https URL or app deeplink.' }]);
    }
    const selection = qrSelection(request);
    let token: string | null = null;
    try {
      token = new URL(body.url).searchParams.get('token');
    } catch {}
    const payment = token ? await paymentByToken(deps, token) : null;
    // The code lives on its sales unit's clock, as the payment it leads to does (time control).
    const nowMs = ctx.clock.nowMs(caller.salesUnit.msn);
    const expiresAt = payment?.state === 'CREATED' ? payment.expiresAt : new Date(nowMs + DEFAULT_PAYMENT_LIFETIME_MS);
    const publicId = randomBytes(12).toString('base64url');
    await insertQrCode(ctx.db, {
      publicId,
      msn: caller.salesUnit.msn,
      kind: 'one-time',
      qrId: null,
      targetUrl: body.url,
      locationDescription: null,
      category: null,
      createdAt: new Date(nowMs),
      expiresAt,
    });
    const url = selection.kind === 'target' ? body.url : qrImageUrlOf(publicId, ctx.config.publicUrl, selection.format, selection.size);
    return reply.send({ url, expiresIn: Math.max(0, Math.ceil((expiresAt.getTime() - nowMs) / 1000)) });
  });
}
