/**
 * The dashboard's page frame: the customer pages' stylesheet and palette (kassa.css) plus its own
 * dashboard.css, a navigation bar, and the same security headers (no framing, no inline script).
 */
import type { FastifyReply } from 'fastify';
import { html, pageSecurityHeaders, type SafeHtml, toText } from '../customer/html.ts';

export type Section = 'payments' | 'webhooks' | 'requests' | 'control' | 'checklist';

const NAV: [Section, string, string][] = [
  ['payments', '/dashboard', 'Payments'],
  ['webhooks', '/dashboard/webhooks', 'Webhooks'],
  ['requests', '/dashboard/requests', 'Request log'],
  ['control', '/dashboard/control', 'Clock & faults'],
  ['checklist', '/dashboard/checklist', 'Checklist'],
];

export interface DashboardPage {
  title: string;
  section: Section | null;
  body: SafeHtml;
  mode: 'test' | 'production';
  scripts?: string[];
}

export function dashboardPage(page: DashboardPage): string {
  return toText(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} — Kassa dashboard</title>
<link rel="stylesheet" href="/assets/customer/kassa.css">
<link rel="stylesheet" href="/assets/dashboard/dashboard.css">
${(page.scripts ?? []).map((name) => html`<script src="/assets/dashboard/${name}" defer></script>`)}
</head>
<body class="dashboard">
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
<span class="logo" aria-hidden="true">K</span>
<span class="product">Kassa dashboard</span>
<span class="mode mode-${page.mode}">${page.mode} mode</span>
<nav aria-label="Dashboard">
<ul>${NAV.map(
    ([section, href, label]) => html`<li><a href="${href}"${section === page.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
  )}</ul>
</nav>
</header>
<main id="main">
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>
`);
}

export function sendDashboard(reply: FastifyReply, status: number, content: string): FastifyReply {
  return reply.code(status).headers(pageSecurityHeaders).type('text/html; charset=utf-8').send(content);
}

/** Minor units with the currency, e.g. 49900 NOK → "499.00 NOK" (platform-guidelines §14). */
export function money(value: number, currency: string): string {
  return `${(value / 100).toFixed(2)} ${currency}`;
}

/** Server-clock times to the second, in UTC (the clock may run ahead of the wall clock in test mode). */
export function when(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')}` : '—';
}

export function stateBadge(state: string): SafeHtml {
  return html`<span class="badge state-${state.toLowerCase()}">${state}</span>`;
}

export function notice(text: string | undefined, kind: 'notice' | 'error' = 'notice'): SafeHtml {
  if (!text) return html``;
  return html`<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;
}

/** A payment's page in the dashboard. */
export function paymentHref(msn: string, reference: string): string {
  return `/dashboard/payments/${encodeURIComponent(msn)}/${encodeURIComponent(reference)}`;
}

/** The query string of `params` without empty values. */
export function queryOf(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
