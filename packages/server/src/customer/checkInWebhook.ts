/**
 * Posts `user.checked-in.v1` while the customer waits in the app (platform-guidelines §4.5 "QR check-in
 * … effectively synchronous"; payload §12.2, `msn` per open question 20). Signed and sent exactly like
 * every other webhook (signWebhook.ts, postWebhook.ts), but straight away rather than through the
 * payment-event outbox: the app must tell the user at once when the store did not answer.
 */
import type { ApiDeps } from '../api/apiDeps.ts';
import { findCheckInRegistration } from '../store/customerStore.ts';
import { postWebhook } from '../webhooks/postWebhook.ts';
import { signRequest } from '../webhooks/signWebhook.ts';
import { openSecret, webhookSecretKey } from '../webhooks/webhookSecrets.ts';

export interface CheckInPayload {
  customerToken: string;
  merchantQrId: string;
  msn: string;
  initiatedAt: string;
}

export async function sendCheckInWebhook(
  deps: ApiDeps,
  checkIn: { msn: string; payload: CheckInPayload },
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const { ctx } = deps;
  const registration = await findCheckInRegistration(ctx.db, checkIn.msn);
  if (!registration) return { ok: false, reason: 'The store has not registered the user.checked-in.v1 webhook.' };
  const secret = openSecret(await webhookSecretKey(ctx.db), registration.id, registration.secretSealed);
  const body = JSON.stringify(checkIn.payload);
  // Dated on the sales unit's clock, as its payload's initiatedAt and every payment webhook are.
  const signed = signRequest({ url: registration.url, body, secret, date: ctx.clock.now(checkIn.msn) });
  const result = await postWebhook({
    url: registration.url,
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-ms-date': signed['x-ms-date'],
      'x-ms-content-sha256': signed['x-ms-content-sha256'],
      authorization: signed.Authorization,
      'webhook-id': registration.id,
      'user-agent': 'Kassa-Webhooks/1',
    },
    refusePrivateAddresses: ctx.config.mode === 'production',
  });
  if (result.outcome === 'delivered') return { ok: true };
  return { ok: false, reason: `The store's webhook did not accept the check-in (${result.error ?? result.outcome}).` };
}
