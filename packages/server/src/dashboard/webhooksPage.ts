/** Every webhook registration (deleted and unresponsive ones too) and the newest deliveries, with replay. */
import { html, type SafeHtml } from '../customer/html.ts';
import type { DeliveryRecord, RegistrationRecord } from '../store/dashboardStore.ts';
import { paymentHref, queryOf, when } from './layout.ts';

export function webhooksBody(options: {
  msn: string | undefined;
  state: string | undefined;
  registrations: RegistrationRecord[];
  deliveries: DeliveryRecord[];
  more: boolean;
  back: string;
}): SafeHtml {
  const { registrations, deliveries } = options;
  const last = deliveries.at(-1);
  return html`<form class="filters" method="get" action="/dashboard/webhooks" aria-label="Filter webhooks">
<div><label for="msn">Sales unit (MSN)</label><input id="msn" name="msn" type="text" inputmode="numeric" value="${options.msn ?? ''}"></div>
<div><label for="state">Delivery state</label><select id="state" name="state"><option value="">Any</option>${[
    'pending',
    'delivered',
    'dropped',
  ].map((s) => html`<option${s === options.state ? html` selected` : ''}>${s}</option>`)}</select></div>
<div class="buttons"><button type="submit">Show</button></div>
</form>
<h2>Registrations</h2>
<table class="grid">
<caption class="visually-hidden">Webhook registrations</caption>
<thead><tr><th scope="col">Owner</th><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Created</th><th scope="col">Health</th></tr></thead>
<tbody>
${
  registrations.length === 0
    ? html`<tr><td colspan="5">No registrations.</td></tr>`
    : registrations.map(
        (r) => html`<tr${r.disabledAt ? html` class="disabled"` : ''}>
<td>${r.bucket === 'psp' ? `PSP ${r.pspId}${r.msn ? `, MSN ${r.msn}` : ' (all units)'}` : `MSN ${r.msn}`}</td>
<td><code>${r.url}</code></td><td>${r.events.map((e) => e.replace(/^epayments\.payment\.|\.v1$/g, '')).join(', ')}</td>
<td>${when(r.createdAt)}</td>
<td>${r.disabledAt ? `${r.disabledReason} ${when(r.disabledAt)}` : r.failingSince ? `failing since ${when(r.failingSince)}` : r.lastSuccessAt ? `ok, last ${when(r.lastSuccessAt)}` : 'no deliveries yet'}</td>
</tr>`,
      )
}
</tbody>
</table>
<h2>Deliveries</h2>
<table class="grid deliveries">
<caption class="visually-hidden">Webhook deliveries, newest first</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Payment</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Action</th></tr></thead>
<tbody>
${
  deliveries.length === 0
    ? html`<tr><td colspan="7">No deliveries.</td></tr>`
    : deliveries.map(
        (d) => html`<tr data-delivery="${d.id}">
<td>${d.id}${d.replayOf !== null ? html` <span class="hint">(replay of ${d.replayOf})</span>` : ''}</td>
<td><a href="${paymentHref(d.msn, d.reference)}"><code>${d.reference}</code></a></td>
<td>${d.eventType}</td>
<td><span class="badge delivery-${d.state}">${d.state}</span>${d.fault ? html` <span class="hint">fault: ${d.fault}</span>` : ''}</td>
<td>${d.attempts}</td>
<td>${d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastOutcome ?? '—')}${d.nextAttemptAt ? html`<br><span class="hint">next ${when(d.nextAttemptAt)}</span>` : ''}${d.queued ? html`<br><span class="hint">queued behind an earlier event of the payment</span>` : ''}</td>
<td><form method="post" action="/dashboard/webhooks/deliveries/${d.id}/replay"><input type="hidden" name="back" value="${options.back}">
<button type="submit" class="secondary small" aria-label="Replay delivery ${d.id}">Replay</button></form></td>
</tr>`,
      )
}
</tbody>
</table>
<nav class="pager" aria-label="Pages">${
    options.more && last
      ? html`<a rel="next" href="/dashboard/webhooks${queryOf({ msn: options.msn, state: options.state, before: String(last.id) })}">Older deliveries</a>`
      : ''
  }</nav>`;
}
