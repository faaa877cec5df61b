/**
 * The payments list: newest first, filtered by sales unit, state, reference prefix and creation date,
 * a page at a time by keyset (`before=<createdAt>_<id>`), so page 500 costs what page 1 costs.
 */

import { field } from '../customer/format.ts';
import { html, type SafeHtml } from '../customer/html.ts';
import type { SalesUnit } from '../payments/salesUnits.ts';
import { PAYMENT_STATES, type PaymentFilter, type PaymentListRow } from '../store/dashboardStore.ts';
import { money, paymentHref, queryOf, stateBadge, when } from './layout.ts';

export const PAGE_SIZE = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const REFERENCE_PREFIX = /^[A-Za-z0-9-]{1,64}$/;
const MSN = /^[0-9]{4,7}$/;

export interface PaymentQuery {
  q?: string;
  state?: string;
  msn?: string;
  from?: string;
  to?: string;
  before?: string;
}

export const BROKEN_CURSOR = 'The page link is broken; start from the newest.';

/** A keyset page link `<time>_<id>`, or null when it is not one the database could compare with. */
export function pageCursor(text: string): { at: Date; id: number } | null {
  const match = /^(.+)_(\d{1,15})$/.exec(text);
  const at = match ? new Date(match[1] as string) : null;
  if (!match || !at || Number.isNaN(at.getTime())) return null;
  const year = at.getUTCFullYear();
  return year >= 1 && year <= 9999 ? { at, id: Number(match[2]) } : null;
}

/** The filter a query asks for, or the reasons it cannot be read. */
export function paymentFilterOf(query: unknown): { filter: PaymentFilter; values: PaymentQuery; errors: string[] } {
  const values: PaymentQuery = {};
  for (const name of ['q', 'state', 'msn', 'from', 'to', 'before'] as const) {
    const value = field(query, name)?.trim();
    if (value) values[name] = value;
  }
  const errors: string[] = [];
  const filter: PaymentFilter = { limit: PAGE_SIZE + 1 };
  if (values.q !== undefined) {
    if (REFERENCE_PREFIX.test(values.q)) filter.referencePrefix = values.q;
    else errors.push('A reference has only letters, digits and "-" (at most 64).');
  }
  if (values.state !== undefined) {
    if ((PAYMENT_STATES as readonly string[]).includes(values.state)) filter.state = values.state as PaymentFilter['state'];
    else errors.push(`The state must be one of ${PAYMENT_STATES.join(', ')}.`);
  }
  if (values.msn !== undefined) {
    if (MSN.test(values.msn)) filter.msn = values.msn;
    else errors.push('An MSN has 4 to 7 digits.');
  }
  for (const name of ['from', 'to'] as const) {
    const value = values[name];
    if (value === undefined) continue;
    const date = DATE.test(value) ? new Date(`${value}T00:00:00Z`) : null;
    if (!date || Number.isNaN(date.getTime())) {
      errors.push(`"${name}" must be a date (YYYY-MM-DD).`);
      continue;
    }
    // "to" includes its whole day.
    if (name === 'from') filter.from = date;
    else filter.to = new Date(date.getTime() + 24 * 60 * 60 * 1000);
  }
  if (values.before !== undefined) {
    const cursor = pageCursor(values.before);
    if (!cursor) errors.push(BROKEN_CURSOR);
    else filter.before = { createdAt: cursor.at, id: cursor.id };
  }
  return { filter, values, errors };
}

export function paymentsBody(options: { values: PaymentQuery; rows: PaymentListRow[]; units: SalesUnit[]; errors: string[] }): SafeHtml {
  const { values, units, errors } = options;
  const more = options.rows.length > PAGE_SIZE;
  const rows = options.rows.slice(0, PAGE_SIZE);
  const last = rows.at(-1);
  const filters = { q: values.q, state: values.state, msn: values.msn, from: values.from, to: values.to };
  return html`<form class="filters" method="get" action="/dashboard" role="search" aria-label="Filter payments">
<div><label for="q">Reference starts with</label><input id="q" name="q" type="text" value="${values.q ?? ''}" autocomplete="off" spellcheck="false"></div>
<div><label for="state">State</label><select id="state" name="state"><option value="">Any</option>${PAYMENT_STATES.map(
    (state) => html`<option${state === values.state ? html` selected` : ''}>${state}</option>`,
  )}</select></div>
<div><label for="msn">Sales unit</label><select id="msn" name="msn"><option value="">Any</option>${units.map(
    (unit) => html`<option value="${unit.msn}"${unit.msn === values.msn ? html` selected` : ''}>${unit.msn} ${unit.name}</option>`,
  )}</select></div>
<div><label for="from">Created from</label><input id="from" name="from" type="date" value="${values.from ?? ''}"></div>
<div><label for="to">Created to</label><input id="to" name="to" type="date" value="${values.to ?? ''}"></div>
<div class="buttons"><button type="submit">Search</button> <a class="button secondary" href="/dashboard">Clear</a></div>
</form>
${errors.map((error) => html`<p class="error" role="alert">${error}</p>`)}
<table class="grid payments">
<caption>Payments, newest first${values.before ? ' (older page)' : ''}</caption>
<thead><tr><th scope="col">Created (server clock, UTC)</th><th scope="col">MSN</th><th scope="col">Reference</th><th scope="col">State</th>
<th scope="col" class="num">Amount</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th><th scope="col">Flow</th></tr></thead>
<tbody>
${
  rows.length === 0
    ? html`<tr><td colspan="8">No payments match.</td></tr>`
    : rows.map(
        (row) => html`<tr data-reference="${row.reference}">
<td>${when(row.createdAt)}</td><td>${row.msn}</td>
<td><a href="${paymentHref(row.msn, row.reference)}"><code>${row.reference}</code></a></td>
<td>${stateBadge(row.state)}</td>
<td class="num">${money(row.authorized > 0 ? row.authorized : row.amount, row.currency)}</td>
<td class="num">${money(row.captured, row.currency)}</td><td class="num">${money(row.refunded, row.currency)}</td>
<td>${row.userFlow}</td></tr>`,
      )
}
</tbody>
</table>
<nav class="pager" aria-label="Pages">
${values.before ? html`<a href="/dashboard${queryOf(filters)}">Newest</a>` : ''}
${more && last ? html`<a rel="next" href="/dashboard${queryOf({ ...filters, before: `${last.createdAt.toISOString()}_${last.id}` })}">Older payments</a>` : ''}
</nav>`;
}
