/**
 * Server-rendered HTML for the customer pages: an escaping template tag, the page frame, and the
 * headers every page carries. No frontend framework; the little JavaScript lives in ./assets.
 */
import type { FastifyReply } from 'fastify';

const SAFE = Symbol('safe html');

export interface SafeHtml {
  readonly [SAFE]: string;
}

export function raw(text: string): SafeHtml {
  return { [SAFE]: text };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

type Part = SafeHtml | string | number | boolean | null | undefined | Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (Array.isArray(part)) return part.map(render).join('');
  if (typeof part === 'object' && SAFE in part) return part[SAFE];
  return escapeHtml(String(part));
}

/** `html\`<p>${value}</p>\`` escapes every interpolated value unless it is itself html. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return raw(out);
}

export function toText(content: SafeHtml): string {
  return content[SAFE];
}

/**
 * The pages may never be framed (platform-guidelines §10.2, §11: "never in an iframe"), and load
 * scripts and styles only from this server, so no inline script can run. There is deliberately no
 * `form-action`: Chromium applies it to the redirect after a post, and approving in the app ends in a
 * redirect to the merchant's returnUrl (any https URL or custom scheme).
 */
export const pageSecurityHeaders: Record<string, string> = {
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface PageOptions {
  title: string;
  lang?: string;
  body: SafeHtml;
  /** Scripts under /assets/customer/ to load (deferred). */
  scripts?: string[];
  /** Class on <body>: 'landing' or 'app' (the phone frame). */
  kind: 'landing' | 'app';
}

export function page(options: PageOptions): string {
  const scripts = (options.scripts ?? []).map((name) => html`<script src="/assets/customer/${name}" defer></script>`);
  return toText(html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
<link rel="stylesheet" href="/assets/customer/kassa.css">
${scripts}
</head>
<body class="${options.kind}">
${options.body}
</body>
</html>
`);
}

export function sendPage(reply: FastifyReply, status: number, content: string): FastifyReply {
  return reply.code(status).headers(pageSecurityHeaders).type('text/html; charset=utf-8').send(content);
}

/** Post/redirect/get: every form post ends in a 303 to the page that shows its outcome. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).headers(pageSecurityHeaders).header('location', location).send();
}
