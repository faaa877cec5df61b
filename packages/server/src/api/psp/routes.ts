/**
 * The PSP side of Kassa (epayment-api §17, platform-guidelines §17–§18): the PSP Merchant API and the
 * control API for PAN encryption keys. The ePayment endpoints themselves are the ordinary ones (a PSP
 * sends `Psp-Id`); the card callback page is registered from psp/softDeclinePage.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { registerSoftDeclinePage } from '../../psp/softDeclinePage.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { registerPspEncryptionKeys } from './encryptionKeys.ts';
import { registerPspMerchants } from './merchants.ts';

export function registerPspApi(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  registerPspMerchants(app, deps, cache);
  registerPspEncryptionKeys(app, deps, cache);
  registerSoftDeclinePage(app, deps);
}
