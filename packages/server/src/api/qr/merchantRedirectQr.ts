/**
 * Merchant redirect QR codes (platform-guidelines §12.2): printable codes that open the merchant's
 * `redirectUrl` with any camera. The image encodes a stable Kassa URL, so PUT changes where a printed
 * code leads at once; DELETE kills printed codes forever (a new code with the same id is a new code);
 * `ttl` deletes the code by itself.
 */
import { randomBytes } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { qrContentOf, qrImageUrlOf } from '../../customer/qrImages.ts';
import { HttpProblem } from '../../errors.ts';
import { isValidCallbackUrl } from '../../payments/urlRules.ts';
import {
  deleteExpiredQrCodes,
  deleteQrCode,
  findQrCode,
  insertQrCode,
  listQrCodes,
  type QrCodeRecord,
  updateQrCode,
} from '../../store/customerStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { invalidParams, type QrSelection, qrBody, qrSelection } from './qrRequests.ts';

const ID_PATTERN = '^[-_+%æøåÆØÅ\\w\\s]*$';
const CreateSchema = T.Object({
  id: T.String({ minLength: 1, maxLength: 128, pattern: ID_PATTERN }),
  redirectUrl: T.String({ minLength: 1, maxLength: 2048 }),
  ttl: T.Optional(T.Integer({ minimum: 300, maximum: 2147483647 })),
});
const UpdateSchema = T.Object({ redirectUrl: T.String({ minLength: 1, maxLength: 2048 }) });

/** The published pattern with `https?` for test mode's loopback receivers, which isValidCallbackUrl keeps to test mode. */
const REDIRECT_URL_CHARACTERS = /^https?:\/\/[\w.]+([\w#!:.?+=&%@\-/]+)?$/;

export function registerMerchantRedirectQr(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  const testMode = () => ctx.config.mode === 'test';

  function checkUrl(url: string) {
    // The code leads a customer's browser there: https (loopback http only in test mode), in the
    // characters the platform's pattern allows (platform-guidelines §9).
    if (!isValidCallbackUrl(url, testMode()) || !REDIRECT_URL_CHARACTERS.test(url)) {
      throw invalidParams([
        {
          name: 'redirectUrl',
          reason: `The field redirectUrl must be an absolute https URL matching '${REDIRECT_URL_CHARACTERS.source}'.`,
        },
      ]);
    }
  }

  function view(code: QrCodeRecord, selection: QrSelection) {
    const url =
      selection.kind === 'target'
        ? qrContentOf(code, ctx.config.publicUrl)
        : qrImageUrlOf(code.publicId, ctx.config.publicUrl, selection.format, selection.size);
    const expiresIn = code.expiresAt ? Math.max(0, Math.ceil((code.expiresAt.getTime() - ctx.clock.nowMs(code.msn)) / 1000)) : null;
    return { id: code.qrId, url, redirectUrl: code.targetUrl, expiresIn };
  }

  async function existing(request: FastifyRequest, msn: string): Promise<QrCodeRecord> {
    const { id } = request.params as { id: string };
    const code = await findQrCode(ctx.db, msn, 'merchant-redirect', id, ctx.clock.now(msn));
    if (!code) throw new HttpProblem(404, 'Not Found', `No merchant redirect QR with id "${id}".`);
    return code;
  }

  app.post('/qr/v1/merchant-redirect', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = qrBody(request, CreateSchema);
    checkUrl(body.redirectUrl);
    const selection = qrSelection(request);
    // Global time: what has expired there has expired on every unit's clock (units only run ahead).
    await deleteExpiredQrCodes(ctx.db, ctx.clock.now());
    const createdAt = ctx.clock.now(caller.salesUnit.msn);
    const code: QrCodeRecord = {
      publicId: randomBytes(12).toString('base64url'),
      msn: caller.salesUnit.msn,
      kind: 'merchant-redirect',
      qrId: body.id,
      targetUrl: body.redirectUrl,
      locationDescription: null,
      category: null,
      createdAt,
      expiresAt: body.ttl ? new Date(createdAt.getTime() + body.ttl * 1000) : null,
    };
    if (!(await insertQrCode(ctx.db, code))) {
      throw new HttpProblem(409, 'Conflict', `A merchant redirect QR with id "${body.id}" already exists.`);
    }
    return reply.code(201).send(view(code, selection));
  });

  app.get('/qr/v1/merchant-redirect', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const selection = qrSelection(request);
    const codes = await listQrCodes(ctx.db, caller.salesUnit.msn, 'merchant-redirect', ctx.clock.now(caller.salesUnit.msn));
    return reply.send(codes.map((code) => view(code, selection)));
  });

  app.get('/qr/v1/merchant-redirect/:id', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const selection = qrSelection(request);
    return reply.send(view(await existing(request, caller.salesUnit.msn), selection));
  });

  app.put('/qr/v1/merchant-redirect/:id', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = qrBody(request, UpdateSchema);
    checkUrl(body.redirectUrl);
    const selection = qrSelection(request);
    const code = await existing(request, caller.salesUnit.msn);
    await updateQrCode(ctx.db, code.msn, 'merchant-redirect', code.qrId as string, { targetUrl: body.redirectUrl });
    return reply.send(view({ ...code, targetUrl: body.redirectUrl }, selection));
  });

  app.delete('/qr/v1/merchant-redirect/:id', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const code = await existing(request, caller.salesUnit.msn);
    await deleteQrCode(ctx.db, code.msn, 'merchant-redirect', code.qrId as string);
    return reply.code(204).send();
  });
}
