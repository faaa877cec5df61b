/**
 * Identifying a customer at a till (platform-guidelines §12.2): `POST /qr/v1/exchange` turns the full
 * content of a scanned personal QR into the phone number, `POST /qr/v1/exchange/customer` does the
 * same for a check-in's customerToken (valid 15 minutes, for the sales unit checked in to).
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { phoneInPersonalQr } from '../../operations/resolveCustomer.ts';
import { findCustomerToken, findUser } from '../../store/usersStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { invalidParams, qrBody } from './qrRequests.ts';

const RequestedData = T.Array(T.Literal('MSISDN'), { minItems: 1 });
const ExchangeSchema = T.Object({ qrCode: T.String({ minLength: 5, maxLength: 255 }), requestedData: RequestedData });
const ExchangeCustomerSchema = T.Object({
  customer: T.Object({ customerToken: T.String({ minLength: 1 }) }),
  requestedData: RequestedData,
});

export function registerQrExchange(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  /** On the caller's sales unit clock, like every time the API answers (time control, test mode). */
  const epochSeconds = (msn: string) => Math.floor(ctx.clock.nowMs(msn) / 1000);

  app.post('/qr/v1/exchange', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = qrBody(request, ExchangeSchema);
    const phone = phoneInPersonalQr(body.qrCode);
    const user = phone ? await findUser(ctx.db, phone) : null;
    if (!user) throw invalidParams([{ name: 'qrCode', reason: 'The qrCode is not the personal QR of a user.' }]);
    // Version 2.0 codes carry a timestamp; the `?v=1` codes the app shows are version 1.0 (§12.2).
    let version = '1.0';
    try {
      if (new URL(body.qrCode).searchParams.get('v') === '2') version = '2.0';
    } catch {}
    return reply.send({ msisdn: user.phone, ...(version === '2.0' ? { timestamp: epochSeconds(caller.salesUnit.msn) } : {}), version });
  });

  app.post('/qr/v1/exchange/customer', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = qrBody(request, ExchangeCustomerSchema);
    const token = await findCustomerToken(ctx.db, body.customer.customerToken);
    if (!token || token.msn !== caller.salesUnit.msn || token.expiresAt.getTime() <= ctx.clock.nowMs(caller.salesUnit.msn)) {
      throw invalidParams([{ name: 'customer.customerToken', reason: 'The customerToken is unknown or has expired.' }]);
    }
    return reply.send({ msisdn: token.phone, timestamp: epochSeconds(caller.salesUnit.msn) });
  });
}
