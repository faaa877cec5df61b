/**
 * GET /kassa/v1/report — the go-live checklist report (issue 7; docs/checklist.md) of a sales unit or a
 * PSP over a period, as JSON, Markdown or a standalone HTML page:
 *
 *   ?msn=123456 | ?pspId=…  (both: the PSP's traffic for that unit)
 *   &since=2026-05-01 | 7d  (default: 30 days)
 *   &format=json | md | html
 *
 * Who may ask (docs/dashboard.md): an admin (test mode on the loopback, or KASSA_ADMIN_TOKEN), or the
 * integration itself with its own keys — Bearer token and subscription key of a key set that reaches
 * the sales unit (or is the PSP). `kassa report` uses this endpoint, so it works while the server holds
 * the embedded database.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallerCache } from '../../auth/callerCache.ts';
import { evaluateChecklist } from '../../checklist/evaluateChecklist.ts';
import { reportDocument, reportMarkdown } from '../../checklist/renderReport.ts';
import { parseSince } from '../../checklist/reportPeriod.ts';
import type { ChecklistReport, ReportScope } from '../../checklist/types.ts';
import type { ServerContext } from '../../context.ts';
import { isAdmin, presentsAdminToken } from '../../dashboard/adminAccess.ts';
import { type FieldError, HttpProblem, ValidationError } from '../../errors.ts';
import { authenticateKeySet } from '../../http/authenticate.ts';
import { header } from '../../http/headers.ts';
import { loadEvidence, scopeSalesUnits } from '../../store/checklistStore.ts';
import type { ApiDeps } from '../apiDeps.ts';

export const REPORT_FORMATS = ['json', 'md', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
const PARAMETERS = ['msn', 'pspId', 'since', 'format'];
const MSN = /^[0-9]{4,7}$/;
const PSP_ID = /^[A-Za-z0-9-]{1,64}$/;

interface ReportQuery {
  scope: ReportScope;
  since: string | undefined;
  format: ReportFormat;
}

function readQuery(request: FastifyRequest): ReportQuery {
  const query = request.query as Record<string, string | string[] | undefined>;
  const errors: FieldError[] = [];
  const values: Record<string, string> = {};
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    if (!PARAMETERS.includes(name)) errors.push({ name, reason: `Unknown query parameter; use ${PARAMETERS.join(', ')}.` });
    else values[name] = Array.isArray(raw) ? (raw.at(-1) as string) : raw;
  }
  if (values.msn !== undefined && !MSN.test(values.msn)) errors.push({ name: 'msn', reason: `The msn must match ${MSN.source}.` });
  if (values.pspId !== undefined && !PSP_ID.test(values.pspId))
    errors.push({ name: 'pspId', reason: `The pspId must match ${PSP_ID.source}.` });
  const format = (values.format ?? 'json') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) errors.push({ name: 'format', reason: `The format must be one of: ${REPORT_FORMATS.join(', ')}.` });
  if (errors.length > 0) throw new ValidationError(errors);
  const scope: ReportScope = {};
  if (values.msn) scope.msn = values.msn;
  if (values.pspId) scope.pspId = values.pspId;
  return { scope, since: values.since, format };
}

/** Admins may ask for any scope; an integration only for what its own keys reach. */
async function authorize(request: FastifyRequest, ctx: ServerContext, cache: CallerCache, scope: ReportScope): Promise<void> {
  const keysSent = header(request, 'Ocp-Apim-Subscription-Key') !== undefined || header(request, 'Authorization') !== undefined;
  // Keys speak for their own unit or PSP, also from the loopback, where a caller without keys is an admin.
  if (presentsAdminToken(request, ctx.config) || (!keysSent && isAdmin(request, ctx.config))) return;
  if (!keysSent) {
    throw new HttpProblem(
      401,
      'Unauthorized',
      'Send your access token and subscription key (Authorization, Ocp-Apim-Subscription-Key), or the Kassa-Admin-Token header.',
    );
  }
  const { keySet } = await authenticateKeySet(request, cache, ctx.tokenKey, (keySet) => ctx.clock.latestMs(keySet.msns));
  if (scope.pspId === undefined && scope.msn === undefined) {
    if (keySet.kind === 'psp' && keySet.pspId) scope.pspId = keySet.pspId;
    else if (keySet.msns.length === 1) scope.msn = keySet.msns[0] as string;
  }
  if (scope.pspId !== undefined && scope.pspId !== keySet.pspId) {
    throw new HttpProblem(403, 'Forbidden', 'These keys may only ask for the report of their own PSP id.');
  }
  if (scope.msn !== undefined && !keySet.msns.includes(scope.msn)) {
    throw new HttpProblem(403, 'Forbidden', `These keys do not reach sales unit ${scope.msn}.`);
  }
}

/** Builds the report; throws a 400/404 Problem for a bad period or an unknown scope. */
export async function checklistReport(ctx: ServerContext, scope: ReportScope, since: string | undefined): Promise<ChecklistReport> {
  if (!scope.msn && !scope.pspId) throw new ValidationError([{ name: 'msn', reason: 'Give the msn of a sales unit, or a pspId.' }]);
  const units = await scopeSalesUnits(ctx.db, scope);
  if (units.length === 0) {
    throw new HttpProblem(
      404,
      'Not Found',
      scope.pspId ? `No sales units for PSP ${scope.pspId}${scope.msn ? ` and MSN ${scope.msn}` : ''}.` : `No sales unit ${scope.msn}.`,
    );
  }
  // The sales unit's own time (test mode may run it ahead); for a PSP, the latest of its units.
  const now = scope.msn ? ctx.clock.now(scope.msn) : new Date(ctx.clock.latestMs(units.map((u) => u.msn)));
  const start = parseSince(since, now);
  if (!start) {
    throw new ValidationError([
      { name: 'since', reason: 'The since must be an RFC 3339 time, a date (2026-05-01) or a duration such as 90m, 12h or 7d.' },
    ]);
  }
  return evaluateChecklist(await loadEvidence(ctx.db, scope, start, now));
}

export function registerReportApi(app: FastifyInstance, deps: ApiDeps, cache: CallerCache): void {
  const { ctx } = deps;
  app.get('/kassa/v1/report', async (request, reply) => {
    const query = readQuery(request);
    await authorize(request, ctx, cache, query.scope);
    const report = await checklistReport(ctx, query.scope, query.since);
    reply.header('cache-control', 'no-store').header('x-checklist-passed', String(report.passed));
    if (query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report));
    if (query.format === 'html') {
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        .send(reportDocument(report));
    }
    return reply.send(report);
  });
}
