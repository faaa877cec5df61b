/**
 * Kassa for the SDK's tests: a real server (the server package's own test harness — test support may
 * cross packages, the SDK's source never does) and SDK clients for its demo sales units.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { digest } from '../../../server/src/auth/credentials.ts';
import type { DemoSalesUnit } from '../../../server/src/seed.ts';
import { insertKeySet } from '../../../server/src/store/merchantsStore.ts';
import { NO, startTestServer, type TestServer } from '../../../server/test/support/testServer.ts';
import { type Client, type ClientConfig, createClient } from '../../src/index.ts';

export { assertMatchesOpenApi } from '../../../server/test/support/openapi.ts';
export { DK, FI, NO, newReference, type TestServer } from '../../../server/test/support/testServer.ts';
export type { DemoSalesUnit };

export { startTestServer };

export function clientFor(server: TestServer, unit: DemoSalesUnit = NO, overrides: Partial<ClientConfig> = {}): Client {
  return createClient({
    baseUrl: server.url,
    clientId: unit.clientId,
    clientSecret: unit.clientSecret,
    subscriptionKey: unit.subscriptionKey,
    merchantSerialNumber: unit.msn,
    system: { name: 'kassa-sdk-tests', version: '0.1.0' },
    ...overrides,
  });
}

/** A PSP key set (own credentials and Psp-Id) that may act for `msns` (platform-guidelines §18). */
export async function addPsp(
  server: TestServer,
  msns: string[],
): Promise<{ clientId: string; clientSecret: string; subscriptionKey: string; pspId: string }> {
  const psp = {
    clientId: randomUUID(),
    clientSecret: randomBytes(24).toString('base64'),
    subscriptionKey: randomBytes(16).toString('hex'),
    pspId: randomBytes(16).toString('hex').toUpperCase(),
  };
  await insertKeySet(server.ctx.db, {
    clientId: psp.clientId,
    clientSecretHash: digest(psp.clientSecret),
    subscriptionKeyHash: digest(psp.subscriptionKey),
    kind: 'psp',
    pspId: psp.pspId,
    msns,
  });
  return psp;
}

export function currencyOf(unit: DemoSalesUnit): 'NOK' | 'DKK' | 'EUR' {
  return unit.market === 'NO' ? 'NOK' : unit.market === 'DK' ? 'DKK' : 'EUR';
}

/** The `token` of a redirect URL (text after the last `token=`, epayment-api §5.4). */
export function tokenOf(redirectUrl: string | undefined): string {
  const token = redirectUrl?.split('token=').pop();
  if (!token) throw new Error(`no token in ${redirectUrl}`);
  return token;
}
