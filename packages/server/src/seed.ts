/** Test-mode seed data: the demo sales units, their key sets and the test users. Idempotent. */
import { digest } from './auth/credentials.ts';
import { testUsers } from './customer/testUsers.ts';
import { marketCurrency } from './payments/salesUnits.ts';
import type { Market } from './payments/types.ts';
import { seedDemoPsp } from './psp/demoPsp.ts';
import type { Database } from './store/database.ts';
import { insertKeySet, upsertSalesUnit } from './store/merchantsStore.ts';
import { upsertUser } from './store/usersStore.ts';

export interface DemoSalesUnit {
  msn: string;
  name: string;
  market: Market;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
}

export const demoSalesUnits: DemoSalesUnit[] = [
  {
    msn: '123456',
    name: 'Kassa Demo Butikk',
    market: 'NO',
    clientId: 'kassa-demo-client',
    clientSecret: 'kassa-demo-secret',
    subscriptionKey: 'kassa-demo-subscription',
  },
  {
    msn: '654321',
    name: 'Kassa Demo Butik',
    market: 'DK',
    clientId: 'kassa-demo-dk-client',
    clientSecret: 'kassa-demo-dk-secret',
    subscriptionKey: 'kassa-demo-dk-subscription',
  },
  {
    msn: '765432',
    name: 'Kassa Demo Kauppa',
    market: 'FI',
    clientId: 'kassa-demo-fi-client',
    clientSecret: 'kassa-demo-fi-secret',
    subscriptionKey: 'kassa-demo-fi-subscription',
  },
];

export async function seedTestData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const unit of demoSalesUnits) {
      await upsertSalesUnit(tx, { msn: unit.msn, name: unit.name, market: unit.market, currency: marketCurrency[unit.market] });
      await insertKeySet(tx, {
        clientId: unit.clientId,
        clientSecretHash: digest(unit.clientSecret),
        subscriptionKeyHash: digest(unit.subscriptionKey),
        kind: 'merchant',
        pspId: null,
        msns: [unit.msn],
      });
    }
    for (const user of testUsers) await upsertUser(tx, user);
    await seedDemoPsp(tx);
  });
}
