/**
 * Who is using the wallet-app simulator: one test user per browser (a phone runs the app for one
 * user), kept in a cookie. Pages that need a user show the user picker first and come back after.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../store/database.ts';
import { findUser, listUsers, type StoredUser } from '../store/usersStore.ts';
import { cookie, cookiesOf } from './format.ts';
import { html, page, sendPage } from './html.ts';

const USER_COOKIE = 'kassa_app_user';

export async function appUser(db: Queryable, request: FastifyRequest): Promise<StoredUser | null> {
  const phone = cookiesOf(request)[USER_COOKIE];
  return phone && /^\d{9,15}$/.test(phone) ? findUser(db, phone) : null;
}

export function logIn(reply: FastifyReply, phone: string): void {
  reply.header('set-cookie', cookie(USER_COOKIE, phone, { path: '/', maxAgeSeconds: 30 * 24 * 60 * 60 }));
}

export function logOut(reply: FastifyReply): void {
  reply.header('set-cookie', cookie(USER_COOKIE, '', { path: '/', maxAgeSeconds: 0 }));
}

/** Only the app's own pages may be returned to after picking a user (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(app|qr)\/[\w\-/?=&%.:]*$/.test(next) && !next.startsWith('//') ? next : '/app';
}

export function appFrame(
  title: string,
  body: ReturnType<typeof html>,
  options: { scripts?: string[]; user?: StoredUser | null } = {},
): string {
  const user = options.user;
  return page({
    kind: 'app',
    title: `${title} – Kassa app`,
    ...(options.scripts ? { scripts: options.scripts } : {}),
    body: html`<div class="phone">
<header class="appbar">
<a class="home" href="/app"><span class="logo" aria-hidden="true">K</span> Kassa app</a>
${
  user
    ? html`<form method="post" action="/app/logout" class="who"><span>${user.firstName} ${user.lastName}</span>
<button type="submit" class="link">Switch user</button></form>`
    : html`<span class="who">Test environment</span>`
}
</header>
<main id="main">${body}</main>
</div>`,
  });
}

/** The user picker: every seeded test user, with market, age and cards (issue 4 "pick test user"). */
export async function sendUserPicker(db: Queryable, reply: FastifyReply, next: string, notice?: string): Promise<FastifyReply> {
  const users = await listUsers(db);
  const rows = users.map(
    (user) => html`<li><button type="submit" name="phone" value="${user.phone}" class="user">
<span class="name">${user.firstName} ${user.lastName}</span>
<span class="meta">${user.phone} · ${user.market} · born ${user.birthDate} · ${user.cards.length === 1 ? '1 card' : `${user.cards.length} cards`}</span>
</button></li>`,
  );
  const body = html`<h1>Who is using the app?</h1>
<p class="muted">Pick a test user. The app shows the payment requests sent to that user's phone number.</p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<form method="post" action="/app/login">
<input type="hidden" name="next" value="${safeNext(next)}">
<ul class="users">${rows}</ul>
</form>`;
  return sendPage(reply, 200, appFrame('Pick a test user', body));
}
