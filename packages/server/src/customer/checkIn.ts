/**
 * Scanning a merchant callback QR in the app (platform-guidelines §12.2): the platform gives the user a
 * `customerToken` valid 15 minutes and posts `user.checked-in.v1` to the sales unit's registration; the
 * merchant then creates a PUSH_MESSAGE payment with `customer.customerToken`, which appears in the app.
 * The check-in is effectively synchronous (§4.5): the app tells the user when the store did not answer.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import { findQrCodeByPublicId, insertCustomerToken } from '../store/customerStore.ts';
import { appFrame, appUser, sendUserPicker } from './appSession.ts';
import { sendCheckInWebhook } from './checkInWebhook.ts';
import { html, seeOther, sendPage } from './html.ts';

export const CUSTOMER_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

export function registerCheckIn(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  app.get('/app/checkin/:publicId', async (request, reply) => {
    const user = await appUser(ctx.db, request);
    if (!user) return sendUserPicker(ctx.db, reply, request.url);
    const { publicId } = request.params as { publicId: string };
    const code = await findQrCodeByPublicId(ctx.db, publicId, (msn) => ctx.clock.now(msn));
    if (code?.kind !== 'merchant-callback' || !code.qrId) {
      const body = html`<h1>QR code not found</h1><p>This store QR code does not exist (any more).</p><p><a class="button" href="/app">Back</a></p>`;
      return sendPage(reply, 404, appFrame('QR code not found', body, { user }));
    }
    const now = ctx.clock.now(code.msn);
    const customerToken = randomBytes(24).toString('base64');
    await insertCustomerToken(ctx.db, customerToken, code.msn, user.phone, new Date(now.getTime() + CUSTOMER_TOKEN_LIFETIME_MS));
    const sent = await sendCheckInWebhook(deps, {
      msn: code.msn,
      payload: { customerToken, merchantQrId: code.qrId, msn: code.msn, initiatedAt: now.toISOString() },
    });
    if (!sent.ok) {
      request.log.info({ msn: code.msn, merchantQrId: code.qrId, reason: sent.reason }, 'check-in not delivered');
      const body = html`<h1>Can't connect to store</h1>
<p>Try scanning again or pay in another way.</p>
<p class="muted">${sent.reason}</p>
<p><a class="button" href="/app">Back</a></p>`;
      return sendPage(reply, 502, appFrame("Can't connect to store", body, { user }));
    }
    const where = code.locationDescription ? ` at ${code.locationDescription}` : '';
    return seeOther(reply, `/app?notice=${encodeURIComponent(`Checked in${where}. The store will send you the payment request.`)}`);
  });
}
