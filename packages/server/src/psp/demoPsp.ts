/**
 * The demo PSP of test mode (issue 5): its key set, its Psp-Id and the one Norwegian sales unit it has
 * onboarded, so a PSP integration (and examples/psp) works against a fresh Kassa at once.
 */
import { marketCurrency } from '../payments/salesUnits.ts';
import type { Queryable } from '../store/database.ts';
import { upsertSalesUnit } from '../store/merchantsStore.ts';
import { insertPspKeySet, type PspCredentials } from './pspSecrets.ts';

export const demoPsp: PspCredentials & { salesUnitName: string } = {
  pspId: 'kassa-demo-psp',
  clientId: 'kassa-demo-psp-client',
  clientSecret: 'kassa-demo-psp-secret',
  subscriptionKey: 'kassa-demo-psp-subscription',
  msns: ['223344'],
  salesUnitName: 'Kassa Demo Kortbutikk',
};

/** Seeds the demo PSP inside the test-mode seed transaction (seed.ts). Idempotent. */
export async function seedDemoPsp(tx: Queryable): Promise<void> {
  for (const msn of demoPsp.msns) {
    await upsertSalesUnit(tx, { msn, name: demoPsp.salesUnitName, market: 'NO', currency: marketCurrency.NO });
  }
  await insertPspKeySet(tx, demoPsp);
}
