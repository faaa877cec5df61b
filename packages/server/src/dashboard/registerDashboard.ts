/**
 * The dashboard (/dashboard; docs/dashboard.md): server-rendered pages for payments, a payment's
 * timeline, webhooks with replay, the request log, the clock and faults, and the checklist report.
 * Access: adminAccess.ts. Forms post `application/x-www-form-urlencoded` and end in a 303 (post/
 * redirect/get); a post from another site is refused, whatever cookies it carries.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import { checklistReport } from '../api/kassa/report.ts';
import type { ChecklistReport } from '../checklist/types.ts';
import { changeClock, clockView } from '../control/clockOffsets.ts';
import { faultRuleFrom } from '../control/faultRules.ts';
import { field } from '../customer/format.ts';
import { html } from '../customer/html.ts';
import { HttpProblem, ValidationError } from '../errors.ts';
import { sweepDueTransitions } from '../operations/sweepDueTransitions.ts';
import { deleteFaultRules, insertFaultRule, listFaultRules } from '../store/controlStore.ts';
import {
  deliveryOwner,
  findRequest,
  listAllRegistrations,
  listPayments,
  listRecentDeliveries,
  listRequests,
  type RequestFilter,
} from '../store/dashboardStore.ts';
import { listSalesUnits } from '../store/merchantsStore.ts';
import { findPayment } from '../store/paymentsStore.ts';
import { replayDelivery } from '../store/webhooksStore.ts';
import { ADMIN_COOKIE, adminCookieValue, isAdmin, isAdminToken, presentsAdminToken } from './adminAccess.ts';
import { type ChecklistQuery, checklistBody } from './checklistPage.ts';
import { controlBody, faultRequestFromForm } from './controlPage.ts';
import { dashboardPage, type Section, sendDashboard } from './layout.ts';
import { loginBody } from './loginPage.ts';
import { paymentBody } from './paymentPage.ts';
import { BROKEN_CURSOR, pageCursor, paymentFilterOf, paymentsBody } from './paymentsPage.ts';
import { type RequestQuery, requestBody, requestsBody } from './requestsPage.ts';
import { loadTimeline } from './timeline.ts';
import { webhooksBody } from './webhooksPage.ts';

const ASSETS: Record<string, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};
const MSN = /^[0-9]{4,7}$/;
const REQUEST_PAGE = 100;
const DELIVERY_PAGE = 100;

type Message = { text: string; kind: 'notice' | 'error' };

function messageOf(request: FastifyRequest): Message | undefined {
  const error = field(request.query, 'error');
  if (error) return { text: error, kind: 'error' };
  const text = field(request.query, 'notice');
  return text ? { text, kind: 'notice' } : undefined;
}

/** A dashboard path to come back to (never an absolute URL: no open redirect). */
function dashboardPath(value: string | undefined, fallback = '/dashboard'): string {
  return value && /^\/dashboard(\/|\?|$)/.test(value) && !value.startsWith('//') ? value : fallback;
}

function withMessage(path: string, message: Message): string {
  return `${path}${path.includes('?') ? '&' : '?'}${message.kind}=${encodeURIComponent(message.text)}`;
}

/**
 * Posts must come from the dashboard itself. Browsers say where a post comes from: Sec-Fetch-Site, or
 * else Origin (which is "null" for the dashboard's own forms, whose pages send no referrer). Clients
 * that send neither are not browsers, and cannot be made to post by another site.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function problemText(error: unknown): string {
  if (error instanceof ValidationError) return error.fields.map((f) => `${f.name}: ${f.reason}`).join(' ');
  if (error instanceof HttpProblem) return error.detail ?? error.title;
  throw error;
}

export function registerDashboard(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  const mode = ctx.config.mode;
  const render = (
    reply: FastifyReply,
    status: number,
    title: string,
    section: Section | null,
    body: Parameters<typeof dashboardPage>[0]['body'],
    scripts?: string[],
  ) => sendDashboard(reply, status, dashboardPage({ title, section, body, mode, ...(scripts ? { scripts } : {}) }));

  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
      done(null, Object.fromEntries(new URLSearchParams(text as string)));
    });

    scope.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      if (path.startsWith('/assets/')) return;
      const loginPage = path === '/dashboard/login';
      if (request.method === 'POST' && !sameOrigin(request))
        throw new HttpProblem(403, 'Forbidden', 'Dashboard forms can only be posted from the dashboard.');
      if (isAdmin(request, ctx.config)) return;
      // Without a configured token there is nothing to log in with: the dashboard does not exist here.
      if (!ctx.config.adminToken) throw new HttpProblem(404, 'Not Found', `No endpoint ${request.method} ${path}.`);
      if (loginPage) return;
      if (request.method === 'GET')
        return reply
          .code(303)
          .header('location', `/dashboard/login?next=${encodeURIComponent(request.url)}`)
          .send();
      throw new HttpProblem(401, 'Unauthorized', 'Log in to the dashboard with the admin token first.');
    });

    const cache = new Map<string, Buffer>();
    scope.get('/assets/dashboard/:name', async (request, reply) => {
      const { name } = request.params as { name: string };
      const type = ASSETS[name];
      if (!type) throw new HttpProblem(404, 'Not Found', `No asset ${name}.`);
      let body = cache.get(name);
      if (!body) {
        body = await readFile(new URL(`./assets/${name}`, import.meta.url));
        cache.set(name, body);
      }
      return reply.type(type).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff').send(body);
    });

    scope.get('/dashboard/login', async (request, reply) => {
      const next = dashboardPath(field(request.query, 'next'));
      if (presentsAdminToken(request, ctx.config)) return reply.code(303).header('location', next).send();
      return render(reply, 200, 'Log in', null, loginBody(next));
    });

    scope.post('/dashboard/login', async (request, reply) => {
      const token = field(request.body, 'token') ?? '';
      const next = dashboardPath(field(request.body, 'next'));
      if (!isAdminToken(token, ctx.config)) return render(reply, 401, 'Log in', null, loginBody(next, 'That is not the admin token.'));
      const secure = ctx.config.publicUrl.startsWith('https:') ? '; Secure' : '';
      return reply
        .code(303)
        .header(
          'set-cookie',
          `${ADMIN_COOKIE}=${adminCookieValue(ctx.config.adminToken as string)}; Path=/; HttpOnly; SameSite=Strict${secure}`,
        )
        .header('location', next)
        .send();
    });

    scope.post('/dashboard/logout', async (_request, reply) => {
      return reply
        .code(303)
        .header('set-cookie', `${ADMIN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
        .header('location', '/dashboard/login')
        .send();
    });

    // --- Payments -------------------------------------------------------------------------------

    scope.get('/dashboard', async (request, reply) => {
      const { filter, values, errors } = paymentFilterOf(request.query);
      const [units, rows] = await Promise.all([listSalesUnits(ctx.db), errors.length > 0 ? [] : listPayments(ctx.db, filter)]);
      return render(reply, errors.length > 0 ? 400 : 200, 'Payments', 'payments', paymentsBody({ values, rows, units, errors }));
    });

    scope.get('/dashboard/payments/:msn/:reference', async (request, reply) => {
      const { msn, reference } = request.params as { msn: string; reference: string };
      const payment = MSN.test(msn) ? await findPayment(ctx.db, msn, reference) : null;
      if (!payment) {
        return render(
          reply,
          404,
          'Payment not found',
          'payments',
          html`<p class="error" role="alert">No payment ${reference} for sales unit ${msn}.</p><p><a href="/dashboard">All payments</a></p>`,
        );
      }
      const timeline = await loadTimeline(ctx.db, payment);
      return render(reply, 200, `Payment ${reference}`, 'payments', paymentBody(payment, timeline, messageOf(request)));
    });

    // --- Webhooks -------------------------------------------------------------------------------

    scope.get('/dashboard/webhooks', async (request, reply) => {
      const msn = field(request.query, 'msn')?.trim() || undefined;
      const state = field(request.query, 'state') || undefined;
      const before = field(request.query, 'before');
      const bad =
        (msn !== undefined && !MSN.test(msn)) ||
        (state !== undefined && !['pending', 'delivered', 'dropped'].includes(state)) ||
        (before !== undefined && !/^\d{1,15}$/.test(before));
      const [registrations, deliveries] = bad
        ? [[], []]
        : await Promise.all([
            listAllRegistrations(ctx.db, msn),
            listRecentDeliveries(ctx.db, {
              ...(msn ? { msn } : {}),
              ...(state ? { state: state as 'pending' | 'delivered' | 'dropped' } : {}),
              ...(before ? { beforeId: Number(before) } : {}),
              limit: DELIVERY_PAGE + 1,
            }),
          ]);
      const message = bad
        ? { text: 'The MSN has 4 to 7 digits; the state is pending, delivered or dropped.', kind: 'error' as const }
        : messageOf(request);
      return render(
        reply,
        bad ? 400 : 200,
        'Webhooks',
        'webhooks',
        html`${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>` : ''}${webhooksBody(
          {
            msn,
            state,
            registrations,
            deliveries: deliveries.slice(0, DELIVERY_PAGE),
            more: deliveries.length > DELIVERY_PAGE,
            back: request.url.replace(/([?&])(notice|error)=[^&]*/g, '$1'),
          },
        )}`,
      );
    });

    scope.post('/dashboard/webhooks/deliveries/:id/replay', async (request, reply) => {
      const raw = (request.params as { id: string }).id;
      const back = dashboardPath(field(request.body, 'back'), '/dashboard/webhooks');
      const id = /^[1-9][0-9]{0,14}$/.test(raw) ? Number(raw) : null;
      const owner = id === null ? null : await deliveryOwner(ctx.db, id);
      if (id === null || !owner)
        return reply
          .code(303)
          .header('location', withMessage(back, { text: `There is no webhook delivery ${raw}.`, kind: 'error' }))
          .send();
      const result = await replayDelivery(ctx.db, owner, id, ctx.clock.now(owner.msn ?? undefined));
      if ('problem' in result) {
        return reply
          .code(303)
          .header(
            'location',
            withMessage(back, { text: 'The registration of this delivery was deleted; it cannot be sent again.', kind: 'error' }),
          )
          .send();
      }
      deps.onEvents();
      const text =
        result.replayed.id === id
          ? `Delivery ${id} will be tried again now.`
          : `Delivery ${id} queued again as delivery ${result.replayed.id}.`;
      return reply
        .code(303)
        .header('location', withMessage(back, { text, kind: 'notice' }))
        .send();
    });

    // --- Request log ----------------------------------------------------------------------------

    scope.get('/dashboard/requests', async (request, reply) => {
      const values: RequestQuery = {};
      for (const name of ['msn', 'reference', 'status', 'before'] as const) {
        const value = field(request.query, name)?.trim();
        if (value) values[name] = value;
      }
      const errors: string[] = [];
      const filter: RequestFilter = { limit: REQUEST_PAGE + 1 };
      if (values.msn !== undefined) {
        if (MSN.test(values.msn)) filter.msn = values.msn;
        else errors.push('An MSN has 4 to 7 digits.');
      }
      if (values.reference !== undefined) filter.reference = values.reference;
      if (values.status !== undefined) {
        const match = /^([2-5])xx$/.exec(values.status);
        if (match) filter.statusClass = Number(match[1]) as 2 | 3 | 4 | 5;
        else errors.push('The status is 2xx, 3xx, 4xx or 5xx.');
      }
      if (values.before !== undefined) {
        const cursor = pageCursor(values.before);
        if (cursor) filter.before = cursor;
        else errors.push(BROKEN_CURSOR);
      }
      const rows = errors.length > 0 ? [] : await listRequests(ctx.db, filter);
      return render(
        reply,
        errors.length > 0 ? 400 : 200,
        'Request log',
        'requests',
        requestsBody({ values, rows: rows.slice(0, REQUEST_PAGE), more: rows.length > REQUEST_PAGE, errors }),
      );
    });

    scope.get('/dashboard/requests/:id', async (request, reply) => {
      const raw = (request.params as { id: string }).id;
      const found = /^[1-9][0-9]{0,14}$/.test(raw) ? await findRequest(ctx.db, Number(raw)) : null;
      if (!found)
        return render(
          reply,
          404,
          'Request not found',
          'requests',
          html`<p>No request ${raw} in the log (it may have passed the retention limit).</p>`,
        );
      // A refused create, or a mistyped reference, names a payment that does not exist: no link to it.
      const payment = found.msn && found.reference ? await findPayment(ctx.db, found.msn, found.reference) : null;
      return render(reply, 200, `${found.method} ${found.path}`, 'requests', requestBody(found, payment !== null));
    });

    // --- Clock and faults (test mode) -------------------------------------------------------------

    scope.get('/dashboard/control', async (request, reply) => {
      const units = await listSalesUnits(ctx.db);
      const rules = mode === 'test' ? await listFaultRules(ctx.db, {}) : [];
      const body = controlBody({
        testMode: mode === 'test',
        clock: clockView(
          ctx.clock,
          units.map((u) => u.msn),
        ),
        units,
        rules,
        ...(messageOf(request) ? { message: messageOf(request) as Message } : {}),
      });
      return render(reply, 200, 'Clock & faults', 'control', body, ['dashboard.js']);
    });

    function requireTestMode(): void {
      if (mode !== 'test') throw new HttpProblem(404, 'Not Found', 'Time control and fault injection exist only in test mode.');
    }

    scope.post('/dashboard/control/clock', async (request, reply) => {
      requireTestMode();
      const form = request.body as Record<string, string | undefined>;
      const msn = form.msn?.trim() || undefined;
      const back = '/dashboard/control';
      try {
        if (msn !== undefined && !MSN.test(msn)) throw new ValidationError([{ name: 'msn', reason: 'An MSN has 4 to 7 digits.' }]);
        const scopeOf = msn ? { msn } : {};
        const advance = form.advance?.trim();
        const set = form.set?.trim();
        if (advance && set) throw new ValidationError([{ name: 'advance', reason: 'Advance the clock or set it, not both.' }]);
        if (advance) {
          const ms = Number(advance) * Number(form.unit ?? '60') * 1000;
          if (!Number.isFinite(ms) || ms <= 0) throw new ValidationError([{ name: 'advance', reason: 'Advance by a positive number.' }]);
          await changeClock(ctx.db, ctx.clock, { ...scopeOf, advanceMs: Math.round(ms) }, 'dashboard');
        } else if (set) {
          const to = new Date(/Z|[+-]\d\d:?\d\d$/.test(set) ? set : `${set}Z`);
          if (Number.isNaN(to.getTime())) throw new ValidationError([{ name: 'set', reason: 'Give a date and time.' }]);
          if (to.getTime() <= ctx.clock.nowMs(msn)) throw new ValidationError([{ name: 'set', reason: 'Time only moves forward.' }]);
          await changeClock(ctx.db, ctx.clock, { ...scopeOf, setTo: to }, 'dashboard');
        } else throw new ValidationError([{ name: 'advance', reason: 'Say how far to advance the clock, or when to set it to.' }]);
      } catch (error) {
        return reply
          .code(303)
          .header('location', withMessage(back, { text: problemText(error), kind: 'error' }))
          .send();
      }
      // What the background sweeper would do within a second, now: the pages show the consequences at once.
      const moved = await sweepDueTransitions(ctx.db, ctx.clock);
      if (moved > 0) deps.onEvents();
      const now = ctx.clock.now(msn).toISOString();
      const text = `${msn ? `Sales unit ${msn}` : 'Global time'} is now ${now}${moved > 0 ? `; ${moved} payment(s) moved (expired or past their capture deadline)` : ''}.`;
      return reply
        .code(303)
        .header('location', withMessage(back, { text, kind: 'notice' }))
        .send();
    });

    scope.post('/dashboard/control/faults', async (request, reply) => {
      requireTestMode();
      const form = request.body as Record<string, string | undefined>;
      const back = '/dashboard/control';
      try {
        const msn = form.msn?.trim() ?? '';
        if (!MSN.test(msn)) throw new ValidationError([{ name: 'msn', reason: 'Choose a sales unit.' }]);
        const rule = await insertFaultRule(ctx.db, faultRuleFrom(faultRequestFromForm(form), msn, 'dashboard'));
        await ctx.faults?.reload();
        return reply
          .code(303)
          .header('location', withMessage(back, { text: `Fault rule ${rule.id} added for sales unit ${msn}.`, kind: 'notice' }))
          .send();
      } catch (error) {
        return reply
          .code(303)
          .header('location', withMessage(back, { text: problemText(error), kind: 'error' }))
          .send();
      }
    });

    scope.post('/dashboard/control/faults/:id/delete', async (request, reply) => {
      requireTestMode();
      const raw = (request.params as { id: string }).id;
      const msn = field(request.body, 'msn') ?? '';
      const deleted = /^[1-9][0-9]{0,14}$/.test(raw) && MSN.test(msn) ? await deleteFaultRules(ctx.db, [msn], Number(raw)) : 0;
      await ctx.faults?.reload();
      const message: Message =
        deleted > 0 ? { text: `Fault rule ${raw} deleted.`, kind: 'notice' } : { text: `There is no fault rule ${raw}.`, kind: 'error' };
      return reply.code(303).header('location', withMessage('/dashboard/control', message)).send();
    });

    // --- Checklist ------------------------------------------------------------------------------

    scope.get('/dashboard/checklist', async (request, reply) => {
      const values: ChecklistQuery = {};
      for (const name of ['msn', 'pspId', 'since'] as const) {
        const value = field(request.query, name)?.trim();
        if (value) values[name] = value;
      }
      const units = await listSalesUnits(ctx.db);
      let report: ChecklistReport | null = null;
      let error: string | undefined;
      if (values.msn !== undefined || values.pspId !== undefined) {
        try {
          if (values.msn !== undefined && !MSN.test(values.msn))
            throw new ValidationError([{ name: 'msn', reason: 'An MSN has 4 to 7 digits.' }]);
          if (values.pspId !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(values.pspId))
            throw new ValidationError([{ name: 'pspId', reason: 'A PSP id has letters, digits and "-".' }]);
          report = await checklistReport(
            ctx,
            { ...(values.msn ? { msn: values.msn } : {}), ...(values.pspId ? { pspId: values.pspId } : {}) },
            values.since,
          );
        } catch (caught) {
          error = problemText(caught);
        }
      }
      return render(
        reply,
        error ? 400 : 200,
        'Go-live checklist',
        'checklist',
        checklistBody({ values, units, report, ...(error ? { error } : {}) }),
      );
    });
  });
}
