/**
 * `kassa report`: asks a running Kassa for the go-live checklist report (GET /kassa/v1/report), so it
 * works while that server holds the embedded database. Prints the report; the exit code is the CI
 * gate: 0 every exercised item met, 1 an item not met, 2 no report (bad arguments, server unreachable,
 * refused).
 */
import { parseArgs } from 'node:util';

export const reportUsage = `  kassa report --msn 123456 [--psp-id ID] [--since 7d|2026-05-01] [--format md|json|html]
               [--url http://127.0.0.1:7070] [--token ADMIN_TOKEN]
                                   the go-live checklist report of a sales unit (or PSP) from the running
                                   server; exit code 1 when an item is not met (a CI gate)
`;

export interface ReportCommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
}

export async function reportCommand(args: string[], io: ReportCommandIo): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        msn: { type: 'string' },
        'psp-id': { type: 'string' },
        since: { type: 'string' },
        format: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
      },
    }).values;
  } catch (error) {
    io.err(`kassa report: ${(error as Error).message}\n${reportUsage}`);
    return 2;
  }
  if (!values.msn && !values['psp-id']) {
    io.err(`kassa report: give --msn (or --psp-id)\n${reportUsage}`);
    return 2;
  }
  const format = values.format ?? 'md';
  const base = (values.url ?? io.env.KASSA_URL ?? `http://127.0.0.1:${io.env.PORT ?? 7070}`).replace(/\/$/, '');
  const query = new URLSearchParams({ format });
  if (values.msn) query.set('msn', values.msn);
  if (values['psp-id']) query.set('pspId', values['psp-id']);
  if (values.since) query.set('since', values.since);
  const token = values.token ?? io.env.KASSA_ADMIN_TOKEN;
  let response: Response;
  try {
    response = await io.fetch(`${base}/kassa/v1/report?${query}`, { headers: token ? { 'Kassa-Admin-Token': token } : {} });
  } catch (error) {
    io.err(`kassa report: cannot reach Kassa at ${base} (${(error as Error).cause ?? (error as Error).message}); is it running? (--url)\n`);
    return 2;
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string; extraDetails?: { name: string; reason: string }[] };
      detail = [problem.title, problem.detail, ...(problem.extraDetails ?? []).map((d) => `${d.name}: ${d.reason}`)]
        .filter(Boolean)
        .join(' — ');
    } catch {}
    io.err(`kassa report: ${response.status} ${detail}\n`);
    return 2;
  }
  io.out(text.endsWith('\n') ? text : `${text}\n`);
  return response.headers.get('x-checklist-passed') === 'true' ? 0 : 1;
}
