/**
 * What the end-to-end tests share: Debian's headless Chromium driven by playwright-core, a loopback
 * "shop" (returnUrl page, Express shipping callback, webhook receiver), an axe-core accessibility
 * check, and the screenshots written to docs/screenshots.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { DemoSalesUnit } from '../../src/seed.ts';
import { assertMatchesOpenApi } from '../support/openapi.ts';
import { NO, type TestServer } from '../support/testServer.ts';

export const CHROMIUM = process.env.KASSA_CHROMIUM ?? '/usr/bin/chromium';
/** Every wait in the browser is bounded: a broken flow fails in seconds, never hangs the suite. */
export const STEP_TIMEOUT_MS = 45_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A desktop browser (the landing page's world). */
export async function desktop(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB' });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  return { context, page: await context.newPage() };
}

/** A phone: where the app runs, and where a universal link switches from the browser to the app. */
export async function phone(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'en-GB',
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  return { context, page: await context.newPage() };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Shop {
  url: string;
  /** Every request the shop received, in order. */
  received: ReceivedRequest[];
  /** What POST /shipping answers (the Express dynamic-options callback). */
  shippingAnswer: { status: number; body: unknown };
  returnUrl(reference: string): string;
  close(): Promise<void>;
}

/** The merchant's side on a loopback port: a return page, a shipping-options callback, a webhook receiver. */
export async function startShop(): Promise<Shop> {
  const received: ReceivedRequest[] = [];
  const shop: Partial<Shop> = { received, shippingAnswer: { status: 200, body: { groups: [] } } };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ method: request.method ?? 'GET', path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (request.method === 'GET' && path.startsWith('/return')) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end('<!doctype html><html lang="en"><head><title>Shop: order status</title></head><body><h1>Thank you</h1></body></html>');
        return;
      }
      if (request.method === 'POST' && path === '/shipping') {
        const answer = shop.shippingAnswer as Shop['shippingAnswer'];
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
        return;
      }
      response.writeHead(path.startsWith('/webhooks') ? 200 : 404, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(shop, {
    url,
    returnUrl: (reference: string) => `${url}/return?reference=${reference}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as Shop;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core over the whole page: no serious or critical violations (issue 4). Evaluated through the
 * DevTools protocol, so the pages' strict CSP (no inline script) stays on during the tests.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page above
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: { id: string; impact: string; help: string; nodes: { target: string[] }[] }) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  const serious = violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${what}: accessibility violations ${JSON.stringify(serious, null, 2)}`);
}

const docsScreenshots = join(import.meta.dirname, '../../../../docs/screenshots');

/**
 * Refreshes a screenshot the docs show, when UPDATE_SCREENSHOTS=1: a plain test run leaves the
 * committed images alone (they would differ in every pixel of a clock or a random reference).
 */
export async function screenshot(page: Page, name: string, dir = docsScreenshots): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: true });
}

/** On the landing page: enters the customer's mobile number and goes on (Next). */
export async function enterPhoneNumber(page: Page, phoneNumber: string): Promise<void> {
  await page.getByLabel('Your mobile number').fill(phoneNumber);
  await page.getByRole('button', { name: 'Next' }).click();
}

/** Picks the test user in the app's user picker (the page must show it). */
export async function pickUser(page: Page, phoneNumber: string): Promise<void> {
  await page.locator(`button.user[value="${phoneNumber}"]`).click();
}

export async function paymentOf(server: TestServer, reference: string) {
  const path = `/epayment/v1/payments/${reference}`;
  const reply = await server.call('GET', path);
  assert.equal(reply.status, 200);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body;
}

export async function eventNamesOf(server: TestServer, reference: string): Promise<string[]> {
  const path = `/epayment/v1/payments/${reference}/events`;
  const reply = await server.call('GET', path);
  assert.equal(reply.status, 200);
  assertMatchesOpenApi('GET', path, 200, reply.body);
  return reply.body.map((event: { name: string }) => event.name);
}

/** Registers a webhook of a demo sales unit to the shop's receiver; returns its secret. */
export async function registerWebhook(
  server: TestServer,
  shop: Shop,
  events: string[],
  path = '/webhooks',
  unit: DemoSalesUnit = NO,
): Promise<string> {
  const reply = await server.call('POST', '/webhooks/v1/webhooks', { unit, body: { url: `${shop.url}${path}`, events } });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.secret;
}

/** The webhook bodies the shop received at `path`. */
export function webhooksAt(shop: Shop, path = '/webhooks'): Record<string, unknown>[] {
  return shop.received.filter((r) => r.method === 'POST' && r.path === path).map((r) => JSON.parse(r.body));
}
