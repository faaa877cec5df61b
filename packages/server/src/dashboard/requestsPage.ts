/** The request log (migration 004): every API call, newest first, and one call in full. */
import { html, type SafeHtml } from '../customer/html.ts';
import type { RequestRecord } from '../store/dashboardStore.ts';
import { paymentHref, queryOf, when } from './layout.ts';

export interface RequestQuery {
  msn?: string;
  reference?: string;
  status?: string;
  before?: string;
}

export function requestsBody(options: { values: RequestQuery; rows: RequestRecord[]; more: boolean; errors: string[] }): SafeHtml {
  const { values, rows } = options;
  const last = rows.at(-1);
  const filters = { msn: values.msn, reference: values.reference, status: values.status };
  return html`<form class="filters" method="get" action="/dashboard/requests" aria-label="Filter the request log">
<div><label for="msn">Sales unit (MSN)</label><input id="msn" name="msn" type="text" inputmode="numeric" value="${values.msn ?? ''}"></div>
<div><label for="reference">Reference</label><input id="reference" name="reference" type="text" value="${values.reference ?? ''}" spellcheck="false"></div>
<div><label for="status">Status</label><select id="status" name="status"><option value="">Any</option>${['2xx', '3xx', '4xx', '5xx'].map(
    (s) => html`<option${s === values.status ? html` selected` : ''}>${s}</option>`,
  )}</select></div>
<div class="buttons"><button type="submit">Show</button> <a class="button secondary" href="/dashboard/requests">Clear</a></div>
</form>
${options.errors.map((error) => html`<p class="error" role="alert">${error}</p>`)}
<table class="grid requests">
<caption class="visually-hidden">API calls, newest first</caption>
<thead><tr><th scope="col">At (server clock, UTC)</th><th scope="col">MSN</th><th scope="col">Call</th><th scope="col">Status</th><th scope="col" class="num">ms</th><th scope="col">Idempotency-Key</th><th scope="col">Fault</th></tr></thead>
<tbody>
${
  rows.length === 0
    ? html`<tr><td colspan="7">No requests match.</td></tr>`
    : rows.map(
        (r) => html`<tr class="${r.status >= 400 ? 'bad' : ''}">
<td><a href="/dashboard/requests/${r.id}">${when(r.at)}</a></td><td>${r.msn ?? '—'}</td>
<td><code>${r.method} ${r.path}</code></td><td>${r.status}${r.errorCode ? ` (${r.errorCode})` : ''}</td>
<td class="num">${Math.round(r.latencyMs)}</td><td>${r.idempotencyKey ? html`<code>${r.idempotencyKey}</code>` : '—'}</td><td>${r.fault ?? ''}</td>
</tr>`,
      )
}
</tbody>
</table>
<nav class="pager" aria-label="Pages">${
    options.more && last
      ? html`<a rel="next" href="/dashboard/requests${queryOf({ ...filters, before: `${last.at.toISOString()}_${last.id}` })}">Older requests</a>`
      : ''
  }</nav>`;
}

export function requestBody(r: RequestRecord, paymentExists: boolean): SafeHtml {
  return html`<p><a href="/dashboard/requests${queryOf({ msn: r.msn ?? undefined })}">← Request log</a>
${r.msn && r.reference && paymentExists ? html` · <a href="${paymentHref(r.msn, r.reference)}">Payment ${r.reference}</a>` : ''}</p>
<dl class="facts">
<dt>Call</dt><dd><code>${r.method} ${r.path}</code> (route <code>${r.route}</code>)</dd>
<dt>Answer</dt><dd>${r.status}${r.errorCode ? ` with error code ${r.errorCode}` : ''} in ${Math.round(r.latencyMs)} ms</dd>
<dt>At</dt><dd>${when(r.at)}</dd>
<dt>Sales unit / PSP / client</dt><dd>${r.msn ?? '—'} / ${r.pspId ?? '—'} / ${r.clientId ?? '—'}</dd>
<dt>Idempotency-Key</dt><dd>${r.idempotencyKey ?? '—'}</dd>
<dt>Fault injected</dt><dd>${r.fault ?? 'none'}</dd>
<dt>traceId</dt><dd><code>${r.traceId}</code></dd>
</dl>
<h2>Headers (secrets redacted)</h2>
<pre class="example">${Object.entries(r.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n')}</pre>
<h2>Body</h2>
<pre class="example">${r.body === null || r.body === undefined ? '(none)' : JSON.stringify(r.body, null, 2)}</pre>
${r.problem ? html`<h2>Problem answered</h2><pre class="example">${JSON.stringify(r.problem, null, 2)}</pre>` : ''}`;
}
