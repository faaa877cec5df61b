/**
 * `npm start -w @kassa/example-shop`: the shop against a Kassa on http://127.0.0.1:7070 (`npm start` in
 * the repo root) with its demo sales unit, or against the platform with your own keys:
 *
 *   VIPPS_BASE_URL=https://apitest.vipps.no VIPPS_CLIENT_ID=… VIPPS_CLIENT_SECRET=… \
 *   VIPPS_SUBSCRIPTION_KEY=… VIPPS_MSN=… SHOP_PUBLIC_URL=https://your-tunnel.example npm start
 */
import { join } from 'node:path';
import { jsonLinesLogger, type LogLevel } from '@kassa/sdk';
import { startShop } from './shop.ts';

const env = process.env;
const baseUrl = env.VIPPS_BASE_URL ?? 'http://127.0.0.1:7070';
const shop = await startShop({
  platform: {
    baseUrl,
    clientId: env.VIPPS_CLIENT_ID ?? 'kassa-demo-client',
    clientSecret: env.VIPPS_CLIENT_SECRET ?? 'kassa-demo-secret',
    subscriptionKey: env.VIPPS_SUBSCRIPTION_KEY ?? 'kassa-demo-subscription',
    merchantSerialNumber: env.VIPPS_MSN ?? '123456',
  },
  host: env.SHOP_HOST ?? '127.0.0.1',
  port: Number(env.SHOP_PORT ?? 8080),
  ...(env.SHOP_PUBLIC_URL ? { publicUrl: env.SHOP_PUBLIC_URL } : {}),
  dataFile: env.SHOP_DATA_FILE ?? join(import.meta.dirname, '../.data/shop.json'),
  abandonAfterDays: Number(env.SHOP_ABANDON_AFTER_DAYS ?? 14),
  ...(env.SHOP_STAFF_PASSWORD ? { staffPassword: env.SHOP_STAFF_PASSWORD } : {}),
  log: jsonLinesLogger((line) => process.stdout.write(line), { minLevel: (env.SHOP_LOG_LEVEL as LogLevel | undefined) ?? 'info' }),
}).catch((error: Error) => {
  // Its first calls to the platform failed (the SDK logged them): say what to check, without a stack trace.
  process.stderr.write(
    `The shop could not start: ${error.message}\nIs the platform at ${baseUrl} running? For Kassa: npm start in the repository root.\n`,
  );
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void shop.close().then(() => process.exit(0));
  });
}
