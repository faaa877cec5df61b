/** Builds the HTTP app from its parts. No I/O at import time; main.ts and the tests call buildApp. */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { registerAccessToken } from './api/accesstoken/getAccessToken.ts';
import type { ApiDeps } from './api/apiDeps.ts';
import { unsupportedBody } from './api/epayment/requestParts.ts';
import { registerEpaymentRoutes } from './api/epayment/routes.ts';
import { registerClockApi } from './api/kassa/clock.ts';
import { registerFaultsApi } from './api/kassa/faults.ts';
import { registerReportApi } from './api/kassa/report.ts';
import { registerWebhookDiagnostics } from './api/kassa/webhookDeliveries.ts';
import { registerPspApi } from './api/psp/routes.ts';
import { registerQrApi } from './api/qr/qrApi.ts';
import { registerForceApprove } from './api/test/forceApprove.ts';
import { registerUserinfo } from './api/userinfo/getUserinfo.ts';
import { registerWebhooksApi } from './api/webhooks/routes.ts';
import { CallerCache } from './auth/callerCache.ts';
import type { ServerContext } from './context.ts';
import { injectApiFaults } from './control/injectFaults.ts';
import { registerCustomerPages } from './customer/customerPages.ts';
import { registerDashboard } from './dashboard/registerDashboard.ts';
import { HttpProblem } from './errors.ts';
import { authenticate } from './http/authenticate.ts';
import { answerClientError, handleError } from './http/errorHandler.ts';
import { bodyIgnored, parseJsonBody } from './http/jsonBody.ts';
import { trackRoutesFor405 } from './http/methodNotAllowed.ts';
import { sendProblem } from './http/problem.ts';
import { limits, tooManyRequests } from './http/rateLimiter.ts';
import { noteRequestFacts, RequestLogWriter, recordRequests } from './http/requestLog.ts';
import { rateCheckOfThisProcess } from './http/sharedRateLimits.ts';
import { refuseUnstorableUrls } from './http/storableUrl.ts';
import { newTraceId } from './http/traceId.ts';

export interface AppParts {
  app: FastifyInstance;
  deps: ApiDeps;
  cache: CallerCache;
  requestLog: RequestLogWriter;
}

const rawBodies = new WeakMap<FastifyRequest, string>();

export function buildApp(ctx: ServerContext, options: { onEvents?: () => void } = {}): AppParts {
  const app = Fastify({
    loggerInstance: ctx.log,
    genReqId: () => newTraceId(),
    bodyLimit: ctx.config.bodyLimit,
    return503OnClosing: true,
    // Long enough that an over-long `reference` reaches its own 400 field check (spec §3) instead of the router.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors: handleError,
    clientErrorHandler: answerClientError,
  });

  // Only our parsers: Fastify's own JSON parser would refuse the empty JSON bodies the official SDK
  // sends (token call, cancel) and lose the literal digits of numeric references (jsonBody.ts);
  // its text/plain parser would let a non-JSON body through instead of 415 (spec §13.5).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json/i, { parseAs: 'string' }, (request, text, done) => {
    if (bodyIgnored(request)) return done(null, undefined);
    try {
      rawBodies.set(request, text as string);
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    if (bodyIgnored(request)) return done(null, undefined);
    done(null, (text as string).length === 0 ? undefined : unsupportedBody(request.headers['content-type']));
  });

  const cache = new CallerCache(ctx.db);
  const rateCheck = rateCheckOfThisProcess(ctx.clock);
  const deps: ApiDeps = {
    ctx,
    async authenticate(request) {
      const caller = await authenticate(request, cache, ctx.tokenKey, (keySet) => ctx.clock.latestMs(keySet.msns));
      noteRequestFacts(request, { msn: caller.salesUnit.msn, pspId: caller.keySet.pspId, clientId: caller.keySet.clientId });
      return caller;
    },
    async rateLimit(key, kind, msn) {
      if (!ctx.config.rateLimits) return;
      const retryAfter = await rateCheck(key, limits[kind], ctx.clock.nowMs(msn));
      if (retryAfter !== null) throw tooManyRequests(limits[kind], retryAfter);
    },
    rawBody: (request) => rawBodies.get(request) ?? '',
    captureFault: () => undefined,
    onEvents: options.onEvents ?? (() => {}),
  };

  const requestLog = new RequestLogWriter(ctx.db, (error) => ctx.log.error({ err: error }, 'request log write failed'));
  recordRequests(app, requestLog, (msn) => ctx.clock.now(msn));
  refuseUnstorableUrls(app);
  // Test mode: wraps deps.authenticate so faults of the caller's sales unit strike after authentication.
  if (ctx.faults) injectApiFaults(app, deps, ctx.faults);

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem(404, 'Not Found', `No endpoint ${request.method} ${request.url.split('?')[0]}.`)),
  );

  const answer405 = trackRoutesFor405(app);
  app.get('/health', async () => ({ status: 'ok', mode: ctx.config.mode, database: ctx.db.kind }));
  registerAccessToken(app, deps, cache);
  registerEpaymentRoutes(app, deps);
  registerForceApprove(app, deps);
  registerWebhooksApi(app, deps, cache);
  registerWebhookDiagnostics(app, deps, cache);
  registerClockApi(app, deps, cache);
  registerFaultsApi(app, deps, cache);
  registerPspApi(app, deps, cache);
  registerQrApi(app, deps);
  registerUserinfo(app, deps);
  registerCustomerPages(app, deps);
  registerReportApi(app, deps, cache);
  registerDashboard(app, deps);
  answer405();

  return { app, deps, cache, requestLog };
}
