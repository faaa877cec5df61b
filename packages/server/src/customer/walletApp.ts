/**
 * The wallet-app simulator's home (`/app`): pick a test user; an inbox of payment requests sent to
 * that user (push, landing page, app-switch, native deeplink, scanned QR); the history of payments
 * with captures and refunds as they happen; "scan" (open a QR code's content or a deeplink); the
 * user's personal QR. Server-rendered; app.js polls /app/inbox.json and reloads when it changes.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { ApiDeps } from '../api/apiDeps.ts';
import type { Clock } from '../clock.ts';
import { awaitingIssuer } from '../operations/approvePayment.ts';
import {
  type AppPaymentSummary,
  addPaymentRequest,
  findQrCodeByPublicId,
  listAppPayments,
  type RequestSource,
} from '../store/customerStore.ts';
import { findUser, type StoredUser } from '../store/usersStore.ts';
import { appFrame, appUser, logIn, logOut, safeNext, sendUserPicker } from './appSession.ts';
import { paymentByToken } from './customerActions.ts';
import { field, formatAmount, formatTime } from './format.ts';
import { html, raw, type SafeHtml, seeOther, sendPage } from './html.ts';
import { personalQrOf } from './testUsers.ts';

export const stateLabels: Record<string, string> = {
  CREATED: 'Waiting for you',
  AUTHORIZED: 'Paid',
  ABORTED: 'Rejected',
  EXPIRED: 'Expired',
  TERMINATED: 'Cancelled by the store',
};

/** A payment the user approved whose issuer has not answered (test amount 201). */
export const pendingLabel = 'Waiting for your bank';

/**
 * What the home screen shows: `open` until answered or expired on the sales unit's clock (time control
 * may run the unit ahead), `pending` while the bank has not answered an approval, else the state.
 */
function statusOf(p: AppPaymentSummary, clock: Clock): 'open' | 'pending' | AppPaymentSummary['state'] {
  if (p.state !== 'CREATED') return p.state;
  const now = clock.now(p.msn);
  if (awaitingIssuer(p, now)) return 'pending';
  return p.expiresAt.getTime() > now.getTime() ? 'open' : 'EXPIRED';
}

function isOpen(p: AppPaymentSummary, clock: Clock): boolean {
  return statusOf(p, clock) === 'open';
}

/** Changes whenever anything the home screen shows changes; the page reloads when it does. */
export function versionOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

function inboxVersion(payments: AppPaymentSummary[], clock: Clock): string {
  return versionOf(payments.map((p) => [p.pspReference, statusOf(p, clock), p.captured, p.refunded, p.cancelled]));
}

/** Where a link leads inside the app: what the phone's OS does with a deeplink or a scanned QR. */
export function appTargetOf(link: string, appScheme: string): string | null {
  let url: URL;
  try {
    url = new URL(link.trim());
  } catch {
    return null;
  }
  const token = url.searchParams.get('token');
  const encodedToken = token ? encodeURIComponent(token) : '';
  if (url.protocol === `${appScheme}:`) return token ? `/app/pay?token=${encodedToken}&via=native` : null;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const path = url.pathname;
  if (path === '/landing' && token) return `/app/pay?token=${encodedToken}&via=app-switch`;
  if ((path === '/app/qr' || path === '/qr-image/v1') && token) return `/app/qr?token=${encodedToken}`;
  const code = /^\/(?:qr\/[rc]|qr-image\/v1\/codes)\/([\w-]+)(?:\.(?:png|svg))?$/.exec(path);
  if (code) return `/app/code/${code[1]}`;
  return null;
}

function paymentItem(p: AppPaymentSummary, clock: Clock): SafeHtml {
  const status = statusOf(p, clock);
  const open = status === 'open';
  const label = open ? stateLabels.CREATED : status === 'pending' ? pendingLabel : stateLabels[status];
  const money = (value: number) => formatAmount(value, p.currency);
  const aggregate =
    p.state === 'AUTHORIZED'
      ? [
          p.captured > 0 ? `captured ${money(p.captured)}` : '',
          p.refunded > 0 ? `refunded ${money(p.refunded)}` : '',
          p.cancelled > 0 ? `released ${money(p.cancelled)}` : '',
        ].filter(Boolean)
      : [];
  return html`<li><a class="payment ${open ? 'open' : ''}" href="/app/payments/${p.pspReference}">
<span class="merchant">${p.merchantName}</span>
<span class="amount">${money(p.authorized || p.amount)}</span>
<span class="meta">${p.description ?? p.reference}</span>
<span class="meta"><span class="state state-${status.toLowerCase()}">${label}</span>${aggregate.length ? ` · ${aggregate.join(', ')}` : ''}${open ? ` · answer by ${formatTime(p.expiresAt)}` : ''}</span>
</a></li>`;
}

export function registerWalletApp(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  /** The signed-in user, or the picker (coming back to this page after). */
  async function userOr(request: FastifyRequest, reply: FastifyReply): Promise<StoredUser | null> {
    const user = await appUser(ctx.db, request);
    if (!user) await sendUserPicker(ctx.db, reply, request.url);
    return user;
  }

  app.get('/app', async (request, reply) => {
    const chosen = field(request.query, 'user');
    if (chosen && (await findUser(ctx.db, chosen))) {
      logIn(reply, chosen);
      return seeOther(reply, '/app');
    }
    const user = await userOr(request, reply);
    if (!user) return reply;
    const payments = await listAppPayments(ctx.db, user.phone);
    const { clock } = ctx;
    const inbox = payments.filter((p) => isOpen(p, clock));
    const history = payments.filter((p) => !isOpen(p, clock));
    const notice = field(request.query, 'notice');
    const personalQr = personalQrOf(user, ctx.config.publicUrl);
    const qrSvg = await QRCode.toString(personalQr, { type: 'svg', margin: 2, width: 200 });
    const body = html`<section aria-labelledby="hello">
<h1 id="hello">Hi, ${user.firstName}</h1>
<p class="muted">${user.phone} · ${user.market} · ${user.cards.length} card${user.cards.length === 1 ? '' : 's'}</p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
</section>
<section aria-labelledby="inbox-title" id="inbox" data-poll="/app/inbox.json" data-version="${inboxVersion(payments, clock)}">
<h2 id="inbox-title">Payment requests</h2>
${inbox.length ? html`<ul class="payments">${inbox.map((p) => paymentItem(p, clock))}</ul>` : html`<p class="muted">No payment requests right now.</p>`}
</section>
<section aria-labelledby="scan-title">
<h2 id="scan-title">Scan a QR code</h2>
<form method="post" action="/app/open" class="scan">
<label for="link">QR code content or link</label>
<p id="link-hint" class="hint">Paste what the camera would read: a payment QR, a store's QR code, a landing page or a ${ctx.config.appScheme}:// link.</p>
<input id="link" name="link" type="url" inputmode="url" autocomplete="off" required aria-describedby="link-hint">
<button type="submit">Open</button>
</form>
</section>
<section aria-labelledby="history-title">
<h2 id="history-title">History</h2>
${history.length ? html`<ul class="payments">${history.map((p) => paymentItem(p, clock))}</ul>` : html`<p class="muted">No payments yet.</p>`}
</section>
<details class="my-qr">
<summary>Show my QR code</summary>
<p class="muted">Stores scan this code to send you a payment request (customer.personalQr).</p>
<figure>${raw(qrSvg.replace('<svg ', '<svg role="img" aria-label="Personal QR code" '))}<figcaption><code>${personalQr}</code></figcaption></figure>
</details>`;
    return sendPage(reply, 200, appFrame('Home', body, { scripts: ['app.js'], user }));
  });

  app.post('/app/login', async (request, reply) => {
    const phone = field(request.body, 'phone') ?? '';
    const next = safeNext(field(request.body, 'next'));
    if (!(await findUser(ctx.db, phone))) return sendUserPicker(ctx.db, reply, next, 'Pick one of the test users.');
    logIn(reply, phone);
    return seeOther(reply, next);
  });

  app.post('/app/logout', async (_request, reply) => {
    logOut(reply);
    return seeOther(reply, '/app');
  });

  app.get('/app/inbox.json', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const user = await appUser(ctx.db, request);
    if (!user) return reply.code(401).send({ version: null });
    const payments = await listAppPayments(ctx.db, user.phone);
    return reply.send({ version: inboxVersion(payments, ctx.clock), open: payments.filter((p) => isOpen(p, ctx.clock)).length });
  });

  /** "Scanning" a QR code or following a deeplink: the OS hands the link to the app. */
  async function open(link: string, reply: FastifyReply, request: FastifyRequest) {
    const target = appTargetOf(link, ctx.config.appScheme);
    if (target) return seeOther(reply, target);
    const user = await appUser(ctx.db, request);
    const body = html`<h1>The app cannot open this</h1>
<p>This is not a payment or store QR code the app knows: <code>${link}</code></p>
<p><a class="button" href="/app">Back</a></p>`;
    return sendPage(reply, 404, appFrame('Unknown code', body, { user }));
  }
  app.post('/app/open', (request, reply) => open(field(request.body, 'link') ?? '', reply, request));
  app.get('/app/open', (request, reply) => open(field(request.query, 'link') ?? '', reply, request));

  /** A payment link that reached the app: record it in the user's inbox and show the payment. */
  async function receive(request: FastifyRequest, reply: FastifyReply, source: RequestSource) {
    const user = await userOr(request, reply);
    if (!user) return reply;
    const payment = await paymentByToken(deps, field(request.query, 'token'));
    if (!payment) {
      const body = html`<h1>Payment not found</h1><p>This payment link or QR code is not valid (any more).</p><p><a class="button" href="/app">Back</a></p>`;
      return sendPage(reply, 404, appFrame('Payment not found', body, { user }));
    }
    await addPaymentRequest(ctx.db, payment.id, user.phone, source, ctx.clock.now(payment.msn));
    return seeOther(reply, `/app/payments/${payment.pspReference}`);
  }

  // The deeplink of NATIVE_REDIRECT, and the landing page's app-switch on a phone.
  app.get('/app/pay', (request, reply) => receive(request, reply, field(request.query, 'via') === 'native' ? 'native' : 'app-switch'));
  // The target of a one-time payment QR (TEXT/TARGETURL, and what the QR images encode).
  app.get('/app/qr', (request, reply) => receive(request, reply, 'qr'));

  /** A QR API code opened in the app: a callback QR checks in, a redirect QR opens its URL. */
  app.get('/app/code/:publicId', async (request, reply) => {
    const { publicId } = request.params as { publicId: string };
    const code = await findQrCodeByPublicId(ctx.db, publicId, (msn) => ctx.clock.now(msn));
    if (code?.kind === 'merchant-callback') return seeOther(reply, `/app/checkin/${publicId}`);
    if (code?.kind === 'merchant-redirect') return seeOther(reply, `/qr/r/${publicId}`);
    if (code?.kind === 'one-time' && code.targetUrl) return open(code.targetUrl, reply, request);
    const user = await appUser(ctx.db, request);
    return sendPage(
      reply,
      404,
      appFrame(
        'QR code not found',
        html`<h1>QR code not found</h1><p>This QR code does not exist (any more).</p><p><a class="button" href="/app">Back</a></p>`,
        { user },
      ),
    );
  });
}
