/** The go-live checklist report in the dashboard: the same report as GET /kassa/v1/report and `kassa report`. */
import { reportFragment } from '../checklist/renderReport.ts';
import type { ChecklistReport } from '../checklist/types.ts';
import { html, type SafeHtml } from '../customer/html.ts';
import type { SalesUnit } from '../payments/salesUnits.ts';
import { queryOf } from './layout.ts';

export interface ChecklistQuery {
  msn?: string;
  pspId?: string;
  since?: string;
}

export function checklistBody(options: {
  values: ChecklistQuery;
  units: SalesUnit[];
  report: ChecklistReport | null;
  error?: string;
}): SafeHtml {
  const { values, units, report } = options;
  const download = (format: string) => `/kassa/v1/report${queryOf({ msn: values.msn, pspId: values.pspId, since: values.since, format })}`;
  const fileName = (extension: string) => `kassa-checklist-${values.msn ?? values.pspId ?? 'report'}.${extension}`;
  return html`<form class="filters" method="get" action="/dashboard/checklist" aria-label="Checklist report">
<div><label for="msn">Sales unit</label><select id="msn" name="msn"><option value="">—</option>${units.map(
    (unit) => html`<option value="${unit.msn}"${unit.msn === values.msn ? html` selected` : ''}>${unit.msn} ${unit.name}</option>`,
  )}</select></div>
<div><label for="pspId">or PSP id</label><input id="pspId" name="pspId" type="text" value="${values.pspId ?? ''}" spellcheck="false"></div>
<div><label for="since">Since</label><input id="since" name="since" type="text" value="${values.since ?? ''}" placeholder="30d" aria-describedby="since-hint"></div>
<div class="buttons"><button type="submit">Evaluate</button></div>
</form>
<p class="hint" id="since-hint">Since: a date (2026-05-01), a time (RFC 3339) or a duration back from now (90m, 12h, 7d). Default: 30 days.
The same report on the command line: <code>kassa report --msn ${values.msn ?? '123456'}</code> (exits non-zero when an item is not met).</p>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${
  report
    ? html`<p class="downloads">Download: <a href="${download('md')}" download="${fileName('md')}">Markdown</a> · <a href="${download('html')}" download="${fileName('html')}">HTML</a> · <a href="${download('json')}" download="${fileName('json')}">JSON</a></p>
${reportFragment(report)}`
    : options.error
      ? ''
      : html`<p>Choose a sales unit (or give a PSP id) to evaluate its recorded traffic against the go-live checklist (docs/checklist.md).</p>`
}`;
}
