/**
 * Registers the customer side's human pages (landing page, wallet-app simulator, check-in), the QR
 * images and the static assets. Forms post `application/x-www-form-urlencoded`, parsed only here.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import { HttpProblem } from '../errors.ts';
import { registerCheckIn } from './checkIn.ts';
import { registerLandingPage } from './landingPage.ts';
import { registerPaymentScreen } from './paymentScreen.ts';
import { registerQrImages } from './qrImages.ts';
import { registerWalletApp } from './walletApp.ts';

const assetTypes: Record<string, string> = {
  'kassa.css': 'text/css; charset=utf-8',
  'landing.js': 'text/javascript; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
};

export function registerCustomerPages(app: FastifyInstance, deps: ApiDeps): void {
  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
      done(null, Object.fromEntries(new URLSearchParams(text as string)));
    });
    registerLandingPage(scope, deps);
    registerWalletApp(scope, deps);
    registerPaymentScreen(scope, deps);
    registerCheckIn(scope, deps);
    registerQrImages(scope, deps);

    const cache = new Map<string, Buffer>();
    scope.get('/assets/customer/:name', async (request, reply) => {
      const { name } = request.params as { name: string };
      const type = assetTypes[name];
      if (!type) throw new HttpProblem(404, 'Not Found', `No asset ${name}.`);
      let body = cache.get(name);
      if (!body) {
        body = await readFile(new URL(`./assets/${name}`, import.meta.url));
        cache.set(name, body);
      }
      return reply.type(type).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff').send(body);
    });
  });
}
