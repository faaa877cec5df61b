/**
 * The checklist report as Markdown (for a pull request or the go-live e-mail), as an HTML fragment (the
 * dashboard) and as a self-contained HTML document (`kassa report --format html > report.html`).
 */
import { html, raw, type SafeHtml, toText } from '../customer/html.ts';
import type { ChecklistReport, ItemResult, ItemStatus, RequestExample } from './types.ts';

const LABEL: Record<ItemStatus, string> = { met: 'met', not_met: 'NOT MET', not_exercised: 'not exercised' };
const MARK: Record<ItemStatus, string> = { met: '✅', not_met: '❌', not_exercised: '➖' };

export function scopeLabel(report: Pick<ChecklistReport, 'scope'>): string {
  const parts = [];
  if (report.scope.msn) parts.push(`MSN ${report.scope.msn}`);
  if (report.scope.pspId) parts.push(`PSP ${report.scope.pspId}`);
  return parts.join(', ');
}

function verdict(report: ChecklistReport): string {
  const { met, not_met, not_exercised } = report.summary;
  return `${report.passed ? 'PASSED' : 'NOT PASSED'} — ${met} met, ${not_met} not met, ${not_exercised} not exercised`;
}

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
}

/** An example as an HTTP message: request line, the headers that matter, the JSON body. */
export function exampleText(example: RequestExample): string {
  const lines = [
    `${example.method} ${example.path}  → ${example.status}${example.errorCode ? ` (${example.errorCode})` : ''}  at ${example.at}`,
  ];
  for (const [name, value] of Object.entries(example.headers)) lines.push(`${name}: ${value}`);
  if (example.body !== null && example.body !== undefined) lines.push('', JSON.stringify(example.body, null, 2));
  return lines.join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(report: ChecklistReport): string {
  const out: string[] = [
    `# Go-live checklist — ${scopeLabel(report)}`,
    '',
    `Period: ${report.since} – ${report.until}`,
    '',
    `**${verdict(report)}**`,
    '',
    '| | Item | Status | Summary |',
    '| --- | --- | --- | --- |',
    ...report.items.map((item) => `| ${MARK[item.status]} | ${cell(item.title)} | ${LABEL[item.status]} | ${cell(item.summary)} |`),
    '',
  ];
  for (const item of report.items) out.push(...itemMarkdown(item));
  if (report.notes.length > 0) out.push('## Notes', '', ...report.notes.map((note) => `- ${note}`), '');
  return out.join('\n');
}

function itemMarkdown(item: ItemResult): string[] {
  const out = [
    `## ${MARK[item.status]} ${item.title} — ${LABEL[item.status]}`,
    '',
    `Rule (${item.guideline}): ${item.rule}`,
    '',
    item.summary,
    '',
  ];
  if (Object.keys(item.counts).length > 0) out.push(`Counts: ${countsText(item.counts)}`, '');
  if (item.offenders.length > 0) {
    out.push('Offending:', '');
    for (const o of item.offenders) out.push(`- ${o.reference ? `\`${o.reference}\`${o.msn ? ` (MSN ${o.msn})` : ''}: ` : ''}${o.reason}`);
    out.push('');
  }
  for (const example of item.examples.slice(0, 3)) out.push('```http', exampleText(example), '```', '');
  return out;
}

export function reportFragment(report: ChecklistReport): SafeHtml {
  return html`<section class="report" aria-labelledby="report-title">
<h2 id="report-title">Go-live checklist — ${scopeLabel(report)}</h2>
<p>Period ${report.since} – ${report.until}</p>
<p class="verdict ${report.passed ? 'ok' : 'bad'}" data-passed="${String(report.passed)}"><strong>${verdict(report)}</strong></p>
<table class="grid">
<caption class="visually-hidden">Checklist items</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Status</th><th scope="col">Summary</th></tr></thead>
<tbody>
${report.items.map(
  (item) => html`<tr data-item="${item.id}" data-status="${item.status}"><td><a href="#item-${item.id}">${item.title}</a></td>
<td><span class="status ${item.status}">${MARK[item.status]} ${LABEL[item.status]}</span></td><td>${item.summary}</td></tr>`,
)}
</tbody>
</table>
${report.items.map(itemFragment)}
${report.notes.length > 0 ? html`<h3>Notes</h3><ul>${report.notes.map((note) => html`<li>${note}</li>`)}</ul>` : ''}
</section>`;
}

function itemFragment(item: ItemResult): SafeHtml {
  return html`<article class="item ${item.status}" id="item-${item.id}">
<h3>${MARK[item.status]} ${item.title} — ${LABEL[item.status]}</h3>
<p class="rule">Rule (${item.guideline}): ${item.rule}</p>
<p>${item.summary}</p>
${Object.keys(item.counts).length > 0 ? html`<p class="counts">${countsText(item.counts)}</p>` : ''}
${
  item.offenders.length > 0
    ? html`<ul class="offenders">${item.offenders.map(
        (o) =>
          html`<li>${o.reference ? html`<a href="/dashboard/payments/${encodeURIComponent(o.msn ?? '')}/${encodeURIComponent(o.reference)}"><code>${o.reference}</code></a>: ` : ''}${o.reason}</li>`,
      )}</ul>`
    : ''
}
${item.examples
  .slice(0, 3)
  .map(
    (example, i) =>
      html`<details class="example"><summary>Request example ${i + 1}: ${example.method} ${example.path} → ${example.status}</summary><pre class="example">${exampleText(example)}</pre></details>`,
  )}
</article>`;
}

const DOCUMENT_STYLE = `body{font-family:system-ui,sans-serif;color:#1f2937;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d1d5db;padding:.4rem;text-align:left;vertical-align:top}
.ok{color:#166534}.bad{color:#991b1b}.status.not_met{color:#991b1b;font-weight:700}.status.met{color:#166534}
pre{background:#f3f4f6;padding:.75rem;overflow:auto;font-size:.85rem}.rule,.counts{color:#4b5563}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}`;

/** A whole page that stands alone (saved as a file; links into the dashboard resolve only on the server). */
export function reportDocument(report: ChecklistReport): string {
  return toText(html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Go-live checklist — ${scopeLabel(report)}</title><style>${raw(DOCUMENT_STYLE)}</style></head>
<body><main>${reportFragment(report)}</main></body>
</html>
`);
}
