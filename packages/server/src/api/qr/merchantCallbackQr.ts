/**
 * Merchant callback QR codes (platform-guidelines §12.2): a code at a till or vending machine; the
 * customer scans it in the app, which checks in (customer/checkIn.ts: `user.checked-in.v1` and a
 * 15-minute customerToken). `merchantQrId` + MSN are the code's identity; PUT creates or updates it.
 */
import { randomBytes } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { qrContentOf, qrImageUrlOf } from '../../customer/qrImages.ts';
import { HttpProblem } from '../../errors.ts';
import { deleteQrCode, findQrCode, insertQrCode, listQrCodes, type QrCodeRecord, updateQrCode } from '../../store/customerStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { callbackImageQuery, invalidParams, qrBody, requireMsnHeader } from './qrRequests.ts';

const CATEGORIES = ['IN_STORE', 'VENDING', 'AGE_CHECK'] as const;
const PutSchema = T.Object({
  locationDescription: T.String({ minLength: 1, maxLength: 36 }),
  category: T.Optional(T.Unsafe<(typeof CATEGORIES)[number]>({ type: 'string', enum: [...CATEGORIES] })),
});
const BeaconSchema = T.Object({ locationDescription: T.String({ minLength: 1, maxLength: 36 }) });
const QR_ID = /^[-_+%æøåÆØÅ\w]{1,128}$/;

export function registerMerchantCallbackQr(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  async function caller(request: FastifyRequest) {
    const found = await deps.authenticate(request);
    requireMsnHeader(request);
    return found;
  }

  function idOf(request: FastifyRequest, name: string): string {
    const id = (request.params as Record<string, string>)[name] as string;
    if (!QR_ID.test(id)) throw invalidParams([{ name, reason: `The field ${name} must be 1–128 letters, digits, - or _.` }]);
    return id;
  }

  function view(code: QrCodeRecord, image: { format: 'png' | 'svg'; size: number }) {
    return {
      merchantSerialNumber: code.msn,
      merchantQrId: code.qrId,
      locationDescription: code.locationDescription,
      category: code.category,
      qrImageUrl: qrImageUrlOf(code.publicId, ctx.config.publicUrl, image.format, image.size),
      qrContent: qrContentOf(code, ctx.config.publicUrl),
    };
  }

  function newCode(msn: string, qrId: string, locationDescription: string, category: string): QrCodeRecord {
    return {
      publicId: randomBytes(12).toString('base64url'),
      msn,
      kind: 'merchant-callback',
      qrId,
      targetUrl: null,
      locationDescription,
      category,
      createdAt: ctx.clock.now(msn),
      expiresAt: null,
    };
  }

  app.put('/qr/v1/merchant-callback/:merchantQrId', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const merchantQrId = idOf(request, 'merchantQrId');
    const body = qrBody(request, PutSchema);
    const category = body.category ?? 'IN_STORE';
    const created = await insertQrCode(ctx.db, newCode(salesUnit.msn, merchantQrId, body.locationDescription, category));
    if (!created) {
      await updateQrCode(ctx.db, salesUnit.msn, 'merchant-callback', merchantQrId, {
        locationDescription: body.locationDescription,
        category,
      });
    }
    // Creates or updates; the image is fetched with GET (§12.2: "does not return the image").
    return reply.code(200).send();
  });

  app.put('/qr/v1/merchant-callback/mobilepay/:beaconId', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const beaconId = idOf(request, 'beaconId');
    const body = qrBody(request, BeaconSchema);
    // A legacy MobilePay QR keeps its beacon id as merchantQrId; converting it twice is a conflict.
    if (!(await insertQrCode(ctx.db, newCode(salesUnit.msn, beaconId, body.locationDescription, 'IN_STORE')))) {
      throw new HttpProblem(409, 'Conflict', `The MobilePay QR "${beaconId}" has already been converted.`);
    }
    return reply.code(200).send();
  });

  app.get('/qr/v1/merchant-callback', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const image = callbackImageQuery(request);
    const codes = await listQrCodes(ctx.db, salesUnit.msn, 'merchant-callback', ctx.clock.now(salesUnit.msn));
    return reply.send(codes.map((code) => view(code, image)));
  });

  app.get('/qr/v1/merchant-callback/:merchantQrId', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const merchantQrId = idOf(request, 'merchantQrId');
    const image = callbackImageQuery(request);
    const code = await findQrCode(ctx.db, salesUnit.msn, 'merchant-callback', merchantQrId, ctx.clock.now(salesUnit.msn));
    if (!code) throw new HttpProblem(404, 'Not Found', `No merchant callback QR with id "${merchantQrId}".`);
    return reply.send(view(code, image));
  });

  app.delete('/qr/v1/merchant-callback/:merchantQrId', async (request, reply) => {
    const { salesUnit } = await caller(request);
    const merchantQrId = idOf(request, 'merchantQrId');
    if (!(await deleteQrCode(ctx.db, salesUnit.msn, 'merchant-callback', merchantQrId))) {
      throw new HttpProblem(404, 'Not Found', `No merchant callback QR with id "${merchantQrId}".`);
    }
    return reply.code(204).send();
  });
}
