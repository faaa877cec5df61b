/**
 * `npm start -w @kassa/example-psp`: the reference PSP against a Kassa on http://127.0.0.1:7070 (`npm
 * start` in the repo root) with its demo PSP and that PSP's sales unit 223344, or against the platform
 * with your own PSP keys:
 *
 *   VIPPS_BASE_URL=https://apitest.vipps.no VIPPS_CLIENT_ID=… VIPPS_CLIENT_SECRET=… VIPPS_SUBSCRIPTION_KEY=… \
 *   VIPPS_PSP_ID=… PSP_MSN=… PSP_PUBLIC_URL=https://your-tunnel.example npm start
 */
import { readFileSync } from 'node:fs';
import { jsonLinesLogger, type LogLevel } from '@kassa/sdk';
import { startPsp } from './psp.ts';

const env = process.env;
const baseUrl = env.VIPPS_BASE_URL ?? 'http://127.0.0.1:7070';
const psp = await startPsp({
  platform: {
    baseUrl,
    clientId: env.VIPPS_CLIENT_ID ?? 'kassa-demo-psp-client',
    clientSecret: env.VIPPS_CLIENT_SECRET ?? 'kassa-demo-psp-secret',
    subscriptionKey: env.VIPPS_SUBSCRIPTION_KEY ?? 'kassa-demo-psp-subscription',
    pspId: env.VIPPS_PSP_ID ?? 'kassa-demo-psp',
  },
  defaultMerchantSerialNumber: env.PSP_MSN ?? '223344',
  host: env.PSP_HOST ?? '127.0.0.1',
  port: Number(env.PSP_PORT ?? 8090),
  ...(env.PSP_PUBLIC_URL ? { publicUrl: env.PSP_PUBLIC_URL } : {}),
  ...(env.PSP_PRIVATE_KEY_FILE ? { privateKeyPem: readFileSync(env.PSP_PRIVATE_KEY_FILE, 'utf8') } : {}),
  ...(env.PSP_MERCHANT_API_KEY ? { merchantApiKey: env.PSP_MERCHANT_API_KEY } : {}),
  log: jsonLinesLogger((line) => process.stdout.write(line), { minLevel: (env.PSP_LOG_LEVEL as LogLevel | undefined) ?? 'info' }),
}).catch((error: Error) => {
  // Its first calls to the platform failed (the SDK logged them): say what to check, without a stack trace.
  process.stderr.write(
    `The PSP could not start: ${error.message}\nIs the platform at ${baseUrl} running? For Kassa: npm start in the repository root.\n`,
  );
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void psp.close().then(() => process.exit(0));
  });
}
