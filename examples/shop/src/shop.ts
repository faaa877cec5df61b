/**
 * The shop as one HTTP server (node:http, server-rendered pages): customers' pages, the staff pages,
 * and the webhook endpoint. `startShop` wires the SDK client, the order store, the payment tracker and
 * the reservation keeper, registers the webhook, and listens.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ClientConfig, createClient, jsonLinesLogger, type Scheduler, systemScheduler } from '@kassa/sdk';
import { addToCart, cartCookie, parseCart, setQuantity } from './cart.ts';
import { catalog } from './catalog.ts';
import { parseMoney } from './money.ts';
import { OrderStore } from './orderStore.ts';
import { ShopError, type ShopLogger, ShopPayments } from './shopPayments.ts';
import { cartPage, catalogPage, errorPage, orderPage, ordersPage, returnPage } from './views.ts';
import { ensureWebhookRegistration, receiveWebhook } from './webhookEndpoint.ts';

export interface ShopOptions {
  /** The platform (or Kassa) and the sales unit's keys. */
  platform: Pick<ClientConfig, 'baseUrl' | 'clientId' | 'clientSecret' | 'subscriptionKey'> & { merchantSerialNumber: string };
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How customers and the platform reach the shop; default `http://host:port`. */
  publicUrl?: string;
  /** JSON file for orders and the webhook secret; none keeps them in memory. */
  dataFile?: string;
  log?: ShopLogger;
  scheduler?: Scheduler;
  abandonAfterDays?: number;
  /** How often the reservation keeper runs; default hourly. 0 turns the timer off (run it from the staff page). */
  keeperIntervalMs?: number;
  /** When set, the staff pages ask for it (HTTP Basic, user `staff`). */
  staffPassword?: string;
  /** SDK settings to override (retries, timeouts). */
  sdk?: Partial<Pick<ClientConfig, 'retry' | 'timeouts'>>;
}

export interface RunningShop {
  url: string;
  store: OrderStore;
  payments: ShopPayments;
  close(): Promise<void>;
}

const WEBHOOK_PATH = '/webhooks/vipps';
const MAX_BODY = 64 * 1024;

export async function startShop(options: ShopOptions): Promise<RunningShop> {
  const log: ShopLogger = options.log ?? jsonLinesLogger((line) => process.stdout.write(line), { minLevel: 'info' });
  const scheduler = options.scheduler ?? systemScheduler;
  const store = new OrderStore(options.dataFile);
  const client = createClient({
    ...options.platform,
    system: { name: 'kassa-shop', version: '0.1.0', pluginName: 'kassa-shop-example', pluginVersion: '0.1.0' },
    logger: (entry) => log({ ...entry, component: 'sdk' }),
    ...options.sdk,
  });

  // Listen first (the public URL may need the port), answer requests once everything is wired.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/$/, '');

  const shopPayments = new ShopPayments({
    client,
    store,
    publicUrl,
    merchantSerialNumber: options.platform.merchantSerialNumber,
    log,
    scheduler,
    abandonAfterMs: (options.abandonAfterDays ?? 14) * 24 * 60 * 60 * 1000,
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: Error) => {
      log({ level: 'error', event: 'http.unhandled', message: error.message, path: request.url });
      if (!response.headersSent) send(response, 500, errorPage('Something went wrong', 'Please try again.'));
    });
  });
  await ensureWebhookRegistration(client, store, `${publicUrl}${WEBHOOK_PATH}`, log);
  await shopPayments.resume();
  const keeperInterval = options.keeperIntervalMs ?? 60 * 60 * 1000;
  if (keeperInterval > 0) shopPayments.keeper.start(keeperInterval);
  log({ level: 'info', event: 'shop.started', message: `shop on ${url}`, url, publicUrl });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = new URL(request.url ?? '/', 'http://shop.local');
    const path = target.pathname;
    const method = request.method ?? 'GET';

    if (method === 'POST' && path === WEBHOOK_PATH) {
      const body = await readBody(request);
      const status = receiveWebhook(request.headers, body, store.webhook, shopPayments, log, () => scheduler.now());
      response.writeHead(status).end();
      return;
    }
    if (method === 'GET' && path === '/health') return send(response, 200, '{"status":"ok"}', 'application/json');

    const cart = parseCart(request.headers.cookie);
    if (method === 'GET' && path === '/') return send(response, 200, catalogPage(cart, target.searchParams.get('notice') ?? undefined));
    if (method === 'GET' && path === '/cart') return send(response, 200, cartPage(cart));
    if (method === 'POST' && path === '/cart/add') {
      const form = await readForm(request);
      const sku = form.get('sku') ?? '';
      const name = catalog.find((p) => p.sku === sku)?.name ?? 'Item';
      return redirect(response, `/?notice=${encodeURIComponent(`${name} added to the cart`)}`, cartCookie(addToCart(cart, sku)));
    }
    if (method === 'POST' && path === '/cart/update') {
      const form = await readForm(request);
      let next = cart;
      for (const [name, value] of form) if (name.startsWith('qty_')) next = setQuantity(next, name.slice(4), Number(value) || 0);
      return redirect(response, '/cart', cartCookie(next));
    }
    if (method === 'POST' && path === '/checkout') {
      try {
        const order = await shopPayments.checkout(cart);
        // Open the redirect URL exactly as returned: no rewriting, no iframe (§10.2).
        return redirect(response, order.redirectUrl ?? `/return?reference=${encodeURIComponent(order.reference)}`, cartCookie(new Map()));
      } catch (error) {
        const message =
          error instanceof ShopError ? error.message : 'The payment could not be started. Nothing was charged; please try again.';
        return send(response, error instanceof ShopError ? 400 : 502, cartPage(cart, message));
      }
    }
    if (method === 'GET' && path === '/return') {
      // The app may open this in another browser than the one that checked out: the reference in the
      // URL is all it needs. While the payment still waits, ask the platform now rather than show stale state.
      const reference = target.searchParams.get('reference') ?? '';
      let order = store.get(reference);
      if (order && (order.paymentState === 'CREATED' || order.paymentState === 'NEW')) {
        order = (await shopPayments.refresh(reference, 'return page').catch(() => order)) ?? order;
      }
      return send(response, order ? 200 : 404, returnPage(order, reference));
    }

    if (path.startsWith('/admin')) {
      if (!staffAllowed(request)) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Kassa Shop staff"' }).end();
        return;
      }
      return handleStaff(request, response, target, method);
    }
    send(response, 404, errorPage('Not found', 'There is no such page.'));
  }

  async function handleStaff(request: IncomingMessage, response: ServerResponse, target: URL, method: string): Promise<void> {
    const path = target.pathname;
    if (method === 'GET' && path === '/admin/orders')
      return send(response, 200, ordersPage(store.all(), target.searchParams.get('notice') ?? undefined));
    if (method === 'POST' && path === '/admin/keeper/run') {
      const reports = await shopPayments.keeper.runOnce();
      const acted = reports.filter((r) => r.action !== 'waiting').length;
      return redirect(
        response,
        `/admin/orders?notice=${encodeURIComponent(`Reservation keeper: ${reports.length} checked, ${acted} settled`)}`,
      );
    }
    const match = /^\/admin\/orders\/([^/]+)(?:\/(ship|refund|close|refresh|retry))?$/.exec(path);
    const reference = match ? decodeURIComponent(match[1] as string) : '';
    const order = store.get(reference);
    if (!match || !order) return send(response, 404, errorPage('Order not found', `No order ${reference}.`));
    const orderUrl = `/admin/orders/${encodeURIComponent(reference)}`;
    const action = match[2];

    if (method === 'GET' && !action) {
      const events = await client.epayment
        .getPaymentEvents(reference)
        .catch((error: Error) => `Could not read the event log: ${error.message}`);
      return send(
        response,
        200,
        orderPage(order, events, target.searchParams.get('notice') ?? undefined, target.searchParams.get('error') ?? undefined),
      );
    }
    if (method !== 'POST' || !action) return send(response, 405, errorPage('Not allowed', 'Use the buttons on the order page.'));
    const form = await readForm(request);
    try {
      let notice = '';
      if (action === 'ship') {
        const quantities: Record<string, number> = {};
        for (const [name, value] of form) if (name.startsWith('qty_')) quantities[name.slice(4)] = Number(value) || 0;
        await shopPayments.ship(reference, quantities);
        notice = 'Shipped and captured.';
      } else if (action === 'refund') {
        const amount = parseMoney(form.get('amount') ?? '');
        if (amount === undefined) throw new ShopError('Give the amount as e.g. 49.90.');
        await shopPayments.refund(reference, amount);
        notice = 'Refunded.';
      } else if (action === 'close') {
        await shopPayments.close(reference, 'closed by staff');
        notice = 'Order closed; the reservation is released.';
      } else if (action === 'retry') {
        await shopPayments.retryPending(reference);
        notice = 'Pending operations confirmed.';
      } else {
        await shopPayments.refresh(reference, 'staff');
        notice = 'Payment read again.';
      }
      return redirect(response, `${orderUrl}?notice=${encodeURIComponent(notice)}`);
    } catch (error) {
      return redirect(response, `${orderUrl}?error=${encodeURIComponent((error as Error).message)}`);
    }
  }

  function staffAllowed(request: IncomingMessage): boolean {
    if (!options.staffPassword) return true;
    const header = request.headers.authorization ?? '';
    const [user, password] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .split(':');
    return user === 'staff' && password === options.staffPassword;
  }

  return {
    url,
    store,
    payments: shopPayments,
    async close() {
      shopPayments.keeper.stop();
      shopPayments.tracker.stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(body);
}

/** 303 after a POST, so a reload does not repeat it. */
function redirect(response: ServerResponse, location: string, cookie?: string): void {
  response.writeHead(303, { Location: location, ...(cookie ? { 'Set-Cookie': cookie } : {}) });
  response.end();
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(request)).toString('utf8'));
}
