/**
 * The PSP Merchant API as far as the spec describes it (platform-guidelines §18, epayment-api §17.2):
 * `POST /merchant-management/psp/v1/merchants` onboards a merchant — a new sales unit the PSP's key set
 * then reaches, with a platform-chosen MSN — and `PATCH .../merchants/{merchantSerialNumber}` updates
 * one the PSP onboarded. A PSP acts only for the sales units it onboarded (http/authenticate.ts); another
 * PSP's merchant is as unknown as one that never existed (404). The bodies are Kassa's own minimum —
 * the name shown to users and the market — since the spec lists the endpoints, not their fields.
 */
import { randomInt } from 'node:crypto';
import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { HttpProblem, ValidationError } from '../../errors.ts';
import { marketCurrency } from '../../payments/salesUnits.ts';
import type { Market } from '../../payments/types.ts';
import { findSalesUnit, upsertSalesUnit } from '../../store/merchantsStore.ts';
import { findPspMerchant, linkSalesUnit, type PspMerchant, renameSalesUnit } from '../../store/pspStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { validatedBody } from '../epayment/requestParts.ts';
import { authenticatePsp } from './pspCaller.ts';

const MERCHANTS = '/merchant-management/psp/v1/merchants';
const MSN_PATTERN = /^[0-9]{4,7}$/;

const CreateMerchantSchema = T.Object({
  /** The merchant (sales unit) name users see on the landing page and in the app. */
  name: T.String({ minLength: 1, maxLength: 100 }),
  /** The market of the sales unit: its currency and capture rules follow (epayment-api §4.2, §11.6). */
  country: T.Optional(T.Union([T.Literal('NO'), T.Literal('DK'), T.Literal('FI')])),
});

const UpdateMerchantSchema = T.Object({ name: T.Optional(T.String({ minLength: 1, maxLength: 100 })) });

type CreateMerchant = Static<typeof CreateMerchantSchema>;

function merchantBody(merchant: PspMerchant) {
  return {
    merchantSerialNumber: merchant.merchantSerialNumber,
    name: merchant.name,
    country: merchant.market,
    currency: marketCurrency[merchant.market],
  };
}

export function registerPspMerchants(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;

  app.post(MERCHANTS, async (request, reply) => {
    const keySet = await authenticatePsp(request, deps, cache);
    const body: CreateMerchant = validatedBody(request, CreateMerchantSchema);
    const market: Market = body.country ?? 'NO';
    const merchant = await ctx.db.transaction(async (tx) => {
      let msn = '';
      do msn = String(randomInt(100000, 1000000));
      while (await findSalesUnit(tx, msn));
      await upsertSalesUnit(tx, { msn, name: body.name, market, currency: marketCurrency[market] });
      await linkSalesUnit(tx, keySet.clientId, msn);
      return { merchantSerialNumber: msn, name: body.name, market };
    });
    // The key set now reaches one more unit: this process sees it at once, others within the cache's seconds.
    cache.clear();
    return reply.code(201).send(merchantBody(merchant));
  });

  app.patch(`${MERCHANTS}/:merchantSerialNumber`, async (request, reply) => {
    const keySet = await authenticatePsp(request, deps, cache);
    const { merchantSerialNumber } = request.params as { merchantSerialNumber: string };
    if (!MSN_PATTERN.test(merchantSerialNumber)) {
      throw new ValidationError([
        {
          name: 'merchantSerialNumber',
          reason: `The field MerchantSerialNumber must match the regular expression '${MSN_PATTERN.source}'.`,
        },
      ]);
    }
    const body = validatedBody(request, UpdateMerchantSchema);
    const merchant = await ctx.db.transaction(async (tx) => {
      const found = await findPspMerchant(tx, keySet.clientId, merchantSerialNumber);
      if (!found) return null;
      if (body.name !== undefined) await renameSalesUnit(tx, merchantSerialNumber, body.name);
      return { ...found, ...(body.name !== undefined ? { name: body.name } : {}) };
    });
    if (!merchant) throw new HttpProblem(404, 'Not Found', `Sales unit ${merchantSerialNumber} is not a merchant of this PSP.`);
    cache.clear();
    return reply.code(200).send(merchantBody(merchant));
  });
}
