/** Kassa plus the shop for the shop's tests, with the shop's logs collected and Kassa's clock as the shop's. */
import { type LogEntry, systemScheduler } from '@kassa/sdk';
import { NO, startTestServer, type TestServer } from '../../../../packages/server/test/support/testServer.ts';
import { type RunningShop, type ShopOptions, startShop } from '../../src/shop.ts';

export interface Harness {
  kassa: TestServer;
  shop: RunningShop;
  logs: LogEntry[];
  close(): Promise<void>;
}

export async function startKassaAndShop(shopOptions: Partial<ShopOptions> = {}, kassa?: TestServer): Promise<Harness> {
  const server = kassa ?? (await startTestServer({}, { backgroundWebhooks: true }));
  const logs: LogEntry[] = [];
  const shop = await startShop({
    platform: {
      baseUrl: server.url,
      clientId: NO.clientId,
      clientSecret: NO.clientSecret,
      subscriptionKey: NO.subscriptionKey,
      merchantSerialNumber: NO.msn,
    },
    port: 0,
    log: (entry) => void logs.push(entry),
    // The shop's "now" is Kassa's, which the tests move to reach deadlines.
    scheduler: { now: () => server.clock.nowMs(), setTimeout: systemScheduler.setTimeout, clearTimeout: systemScheduler.clearTimeout },
    keeperIntervalMs: 0,
    ...shopOptions,
  });
  return {
    kassa: server,
    shop,
    logs,
    async close() {
      await shop.close();
      if (!kassa) await server.close();
    },
  };
}

/** Resolves once `condition` holds, checking after each turn of the event loop; fails after `ms`. */
export async function eventually<T>(
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Checks out a cart through the shop's HTTP interface, as a browser without JavaScript would. */
export async function checkout(shop: RunningShop, cart: string): Promise<{ reference: string; redirectUrl: string; token: string }> {
  const response = await fetch(`${shop.url}/checkout`, {
    method: 'POST',
    headers: { cookie: `cart=${encodeURIComponent(cart)}` },
    redirect: 'manual',
  });
  if (response.status !== 303) throw new Error(`checkout answered ${response.status}: ${await response.text()}`);
  const redirectUrl = response.headers.get('location') ?? '';
  const newest = shop.store.all()[0];
  if (!newest) throw new Error('no order after checkout');
  return { redirectUrl, reference: newest.reference, token: redirectUrl.split('token=').pop() ?? '' };
}
