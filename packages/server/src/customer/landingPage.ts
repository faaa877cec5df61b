/**
 * The landing page (platform-guidelines §11, epayment-api §5.3): the `redirectUrl` of WEB_REDIRECT.
 * Shows the sales unit, the amount and the description; asks for the phone number (pre-filled from
 * `customer.phoneNumber` or the browser's "remember me"); sends the request to that user's app and
 * waits, then sends the browser to `returnUrl` whatever the outcome. On a phone-sized touch screen it
 * switches to the app at once, as the universal link would. It refuses to be framed (html.ts headers).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import { awaitingIssuer } from '../operations/approvePayment.ts';
import type { Payment } from '../payments/types.ts';
import { addPaymentRequest, requestedPhones } from '../store/customerStore.ts';
import { findSalesUnit } from '../store/merchantsStore.ts';
import { findUser } from '../store/usersStore.ts';
import { paymentByToken, rejectPayment } from './customerActions.ts';
import { cookie, cookiesOf, field, formatAmount, normalizePhone } from './format.ts';
import { html, page, raw, type SafeHtml, seeOther, sendPage } from './html.ts';
import { type Language, languageOf, languages, type Texts, textsFor } from './landingText.ts';
import { ageOn } from './testUsers.ts';

/** "Remember me" is browser-wide, not per merchant (platform-guidelines open question 22). */
const REMEMBER_COOKIE = 'kassa_phone';
const REMEMBER_SECONDS = 365 * 24 * 60 * 60;

function returnUrlOf(payment: Payment): string | null {
  const url = payment.request.returnUrl;
  return typeof url === 'string' ? url : null;
}

function frame(t: Texts, language: Language, title: string, body: SafeHtml, scripts: string[] = []): string {
  return page({
    kind: 'landing',
    lang: language === 'nb' ? 'nb' : language,
    title: `${title} – Kassa`,
    scripts,
    body: html`<header class="brand"><span class="logo" aria-hidden="true">K</span><span>Kassa</span><span class="env">${t.framingNote}</span></header>
<main id="main">${body}</main>`,
  });
}

function languageForm(t: Texts, language: Language, token: string, path: string): SafeHtml {
  const options = Object.entries(languages).map(
    ([code, name]) => html`<option value="${code}" ${code === language ? html`selected` : ''}>${name}</option>`,
  );
  return html`<form class="language" method="get" action="${path}">
<input type="hidden" name="token" value="${token}">
<label for="lang">${t.language}</label>
<select id="lang" name="lang">${options}</select>
<button type="submit" class="secondary">${t.change}</button>
</form>`;
}

function summary(t: Texts, language: Language, payment: Payment, merchantName: string): SafeHtml {
  const description = payment.request.paymentDescription as string | undefined;
  return html`<section class="summary" aria-label="${t.payTo} ${merchantName}">
<p class="muted">${t.payTo}</p>
<h1>${merchantName}</h1>
<p class="amount"><span class="visually-hidden">${t.amount}: </span>${formatAmount(payment.amount, payment.currency, language)}</p>
${description ? html`<p>${description}</p>` : ''}
</section>`;
}

/** The clear page for a link that is unknown or no longer usable (never a stack trace). */
function endPage(t: Texts, language: Language, payment: Payment | null, merchantName: string): { status: number; body: string } {
  if (!payment) {
    return { status: 404, body: frame(t, language, t.unknownTitle, html`<h1>${t.unknownTitle}</h1><p>${t.unknownText}</p>`) };
  }
  const [title, text, status] =
    payment.state === 'EXPIRED'
      ? [t.expiredTitle, t.expiredText, 410]
      : payment.state === 'AUTHORIZED'
        ? [t.doneTitle, t.doneText, 200]
        : [t.abortedTitle, t.abortedText, 410];
  const back = returnUrlOf(payment);
  return {
    status,
    body: frame(
      t,
      language,
      title,
      html`<h1>${title}</h1><p>${text}</p>${back ? html`<p><a class="button" href="${back}">${t.backToShop} ${merchantName}</a></p>` : ''}`,
    ),
  };
}

export function registerLandingPage(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  async function merchantNameOf(payment: Payment): Promise<string> {
    return (await findSalesUnit(ctx.db, payment.msn))?.name ?? payment.msn;
  }

  const secondsLeftOf = (payment: Payment) => Math.max(0, Math.round((payment.expiresAt.getTime() - ctx.clock.nowMs(payment.msn)) / 1000));
  /** Approved, the bank yet to answer: the waiting page is the only page left to show. */
  const waitingForBank = (payment: Payment) => awaitingIssuer(payment, ctx.clock.now(payment.msn));
  const waitPage = (payment: Payment, language: Language) => `/landing/wait?token=${payment.redirectToken}&lang=${language}`;

  async function phoneForm(reply: FastifyReply, payment: Payment, language: Language, phone: string, remember: boolean, error?: string) {
    const t = textsFor(language);
    const token = payment.redirectToken as string;
    const merchantName = await merchantNameOf(payment);
    const body = html`${summary(t, language, payment, merchantName)}
<form class="card" method="post" action="/landing" novalidate>
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="lang" value="${language}">
<label for="phone">${t.phoneLabel}</label>
<p id="phone-hint" class="hint">${t.phoneHint}</p>
${error ? html`<p id="phone-error" class="error" role="alert">${error}</p>` : ''}
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" value="${phone}" required
  aria-describedby="phone-hint${error ? ' phone-error' : ''}" ${error ? html`aria-invalid="true" autofocus` : ''}>
<label class="check"><input type="checkbox" name="remember" value="on" ${remember ? html`checked` : ''}> ${t.remember}</label>
<button type="submit">${t.next}</button>
</form>
<p class="app-switch"><a id="open-app" href="/app/pay?token=${token}&amp;via=app-switch">${t.openApp}</a></p>
<form method="post" action="/landing/cancel"><input type="hidden" name="token" value="${token}"><input type="hidden" name="lang" value="${language}">
<button type="submit" class="link">${t.cancel}</button></form>
${languageForm(t, language, token, '/landing')}`;
    return sendPage(reply, error ? 400 : 200, frame(t, language, t.title, body, ['landing.js']));
  }

  app.get('/landing', async (request, reply) => {
    const language = languageOf(field(request.query, 'lang'));
    const t = textsFor(language);
    const payment = await paymentByToken(deps, field(request.query, 'token'));
    if (payment?.state !== 'CREATED') {
      const end = endPage(t, language, payment, payment ? await merchantNameOf(payment) : '');
      return sendPage(reply, end.status, end.body);
    }
    if (waitingForBank(payment)) return seeOther(reply, waitPage(payment, language));
    const remembered = cookiesOf(request)[REMEMBER_COOKIE];
    const prefill = (payment.request.customer as { phoneNumber?: string } | undefined)?.phoneNumber ?? remembered ?? '';
    return phoneForm(reply, payment, language, prefill, remembered !== undefined);
  });

  app.post('/landing', async (request, reply) => {
    const language = languageOf(field(request.body, 'lang'));
    const t = textsFor(language);
    const payment = await paymentByToken(deps, field(request.body, 'token'));
    if (payment?.state !== 'CREATED') {
      const end = endPage(t, language, payment, payment ? await merchantNameOf(payment) : '');
      return sendPage(reply, end.status, end.body);
    }
    if (waitingForBank(payment)) return seeOther(reply, waitPage(payment, language));
    const phone = normalizePhone(field(request.body, 'phone') ?? '');
    const remember = field(request.body, 'remember') === 'on';
    if (!/^\d{9,15}$/.test(phone)) return phoneForm(reply, payment, language, phone, remember, t.invalidPhone);
    const user = await findUser(ctx.db, phone);
    const minimumUserAge = payment.request.minimumUserAge as number | null | undefined;
    // Unknown, unable to pay businesses or too young: one generic message on the landing page (spec §14.5).
    if (!user?.canPayBusinesses || (minimumUserAge && ageOn(user.birthDate, ctx.clock.now(payment.msn)) < minimumUserAge)) {
      return phoneForm(reply, payment, language, phone, remember, t.cannotPay);
    }
    await addPaymentRequest(ctx.db, payment.id, phone, 'landing', ctx.clock.now(payment.msn));
    reply.header(
      'set-cookie',
      remember
        ? cookie(REMEMBER_COOKIE, phone, { path: '/landing', maxAgeSeconds: REMEMBER_SECONDS })
        : cookie(REMEMBER_COOKIE, '', { path: '/landing', maxAgeSeconds: 0 }),
    );
    return seeOther(reply, `/landing/wait?token=${payment.redirectToken}&lang=${language}`);
  });

  app.get('/landing/wait', async (request, reply) => {
    const language = languageOf(field(request.query, 'lang'));
    const t = textsFor(language);
    const payment = await paymentByToken(deps, field(request.query, 'token'));
    const back = payment ? returnUrlOf(payment) : null;
    // Without JavaScript the page refreshes itself; once the payment is final it sends the browser on.
    if (payment && payment.state !== 'CREATED' && back) return seeOther(reply, back);
    if (payment?.state !== 'CREATED') {
      const end = endPage(t, language, payment, payment ? await merchantNameOf(payment) : '');
      return sendPage(reply, end.status, end.body);
    }
    const phones = await requestedPhones(ctx.db, payment.id);
    const token = payment.redirectToken as string;
    const secondsLeft = secondsLeftOf(payment);
    const phone = phones.at(-1);
    // Approved, the bank yet to answer (test amount 201): the request can neither be cancelled nor sent again.
    const pending = waitingForBank(payment);
    const hiddenUnless = (shown: boolean) => (shown ? '' : raw(' hidden'));
    const body = html`${summary(t, language, payment, await merchantNameOf(payment))}
<section class="card waiting" id="waiting" data-status="/landing/status?token=${token}" data-seconds-left="${secondsLeft}" data-done="${t.goingBack}">
<h2>${t.waitTitle}</h2>
${phone ? html`<p>${t.waitSent} <strong>${phone}</strong>.</p>` : ''}
<p id="confirm"${hiddenUnless(!pending)}>${t.waitConfirm}</p>
<p id="bank-pending"${hiddenUnless(pending)}><strong>${t.bankPending}</strong></p>
<p class="countdown">${t.timeLeft}: <span id="countdown" role="timer" aria-live="off">${Math.floor(secondsLeft / 60)}:${String(secondsLeft % 60).padStart(2, '0')}</span></p>
<p id="status" class="visually-hidden" role="status" aria-live="polite"></p>
<noscript><p><a href="/landing/wait?token=${token}&amp;lang=${language}">${t.refresh}</a></p></noscript>
</section>
<div id="while-waiting"${hiddenUnless(!pending)}>
<p><a href="/landing?token=${token}&amp;lang=${language}">${t.changeNumber}</a></p>
<form method="post" action="/landing/cancel"><input type="hidden" name="token" value="${token}"><input type="hidden" name="lang" value="${language}">
<button type="submit" class="link">${t.cancel}</button></form>
</div>`;
    return sendPage(reply, 200, frame(t, language, t.waitTitle, body, ['landing.js']));
  });

  /** What the waiting screen polls (platform-guidelines §5: the merchant polls too; the page asks its own server). */
  app.get('/landing/status', async (request, reply) => {
    const payment = await paymentByToken(deps, field(request.query, 'token'));
    reply.header('cache-control', 'no-store');
    if (!payment) return reply.code(404).send({ state: null, final: true, returnUrl: null });
    return reply.send({
      state: payment.state,
      final: payment.state !== 'CREATED',
      // The user approved and the bank has not answered (test amount 201): the page says so.
      bankPending: waitingForBank(payment),
      // The time to pay can grow while the page is open (an approval the bank has yet to answer).
      secondsLeft: secondsLeftOf(payment),
      returnUrl: returnUrlOf(payment),
    });
  });

  /** Cancelling (or backing out of) the landing page aborts the payment (epayment-api §5.4, since Nov 2024). */
  app.post('/landing/cancel', async (request, reply) => {
    const language = languageOf(field(request.body, 'lang'));
    const t = textsFor(language);
    const payment = await paymentByToken(deps, field(request.body, 'token'));
    // Once approved, the answer is the bank's (epayment-api §9.2, 6250): the waiting page says so.
    if (payment?.state === 'CREATED' && waitingForBank(payment)) return seeOther(reply, waitPage(payment, language));
    if (payment?.state === 'CREATED') await rejectPayment(deps, payment);
    const back = payment ? returnUrlOf(payment) : null;
    if (back) return seeOther(reply, back);
    const end = endPage(t, language, payment, payment ? await merchantNameOf(payment) : '');
    return sendPage(reply, end.status, end.body);
  });
}
