/** The QR API (`/qr/v1/...`, platform-guidelines §12.2): one-time QR, merchant redirect and callback codes, exchange. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../apiDeps.ts';
import { registerQrExchange } from './exchange.ts';
import { registerMerchantCallbackQr } from './merchantCallbackQr.ts';
import { registerMerchantRedirectQr } from './merchantRedirectQr.ts';
import { registerOneTimeQr } from './oneTimeQr.ts';

export function registerQrApi(app: FastifyInstance, deps: ApiDeps): void {
  registerOneTimeQr(app, deps);
  registerMerchantRedirectQr(app, deps);
  registerMerchantCallbackQr(app, deps);
  registerQrExchange(app, deps);
}
