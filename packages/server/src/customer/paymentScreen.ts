/**
 * The app's payment screen (`/app/payments/{pspReference}`): amount, merchant, order lines / receipt,
 * the profile scopes to consent to (epayment-api §14.2, platform-guidelines §13.1), Express shipping
 * (§14.1), the minimum-age check (§14.5), the card to pay with; approve or reject. After the user has
 * answered it is the receipt, with captures and refunds as they happen (app.js polls status.json).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import type { Receipt, ShippingGroup } from '../api/epayment/schemas.ts';
import { awaitingIssuer, scopesOf } from '../operations/approvePayment.ts';
import type { Payment, PaymentEvent } from '../payments/types.ts';
import {
  consentsOf,
  findPaymentKey,
  findPaymentRequest,
  findShippingQuote,
  findSub,
  listAuthorizationAttempts,
  type RequestSource,
  saveShippingQuote,
} from '../store/customerStore.ts';
import { findSalesUnit } from '../store/merchantsStore.ts';
import type { StoredUser } from '../store/usersStore.ts';
import { appFrame, appUser, sendUserPicker } from './appSession.ts';
import { approveInApp, currentPayment, rejectPayment } from './customerActions.ts';
import { fetchDynamicOptions, type ShippingChoice, shippingApproval, shippingChoices, shipsTo } from './expressShipping.ts';
import { field, formatAmount, formatTime } from './format.ts';
import { html, type SafeHtml, seeOther, sendPage } from './html.ts';
import { consentIsFresh } from './profileConsent.ts';
import { ageOn, type TestCard } from './testUsers.ts';
import { pendingLabel, stateLabels, versionOf } from './walletApp.ts';

const scopeLabels: Record<string, string> = {
  name: 'Name',
  email: 'Email address',
  phoneNumber: 'Phone number',
  address: 'Address',
  birthDate: 'Date of birth',
  nin: 'National identity number',
  accountNumbers: 'Account numbers',
};

function scopeValue(user: StoredUser, scope: string): string {
  switch (scope) {
    case 'name':
      return `${user.firstName} ${user.lastName}`;
    case 'email':
      return user.email;
    case 'phoneNumber':
      return user.phone;
    case 'address':
      return [user.address.addressLine1, user.address.addressLine2, `${user.address.postCode} ${user.address.city}`, user.address.country]
        .filter(Boolean)
        .join(', ');
    case 'birthDate':
      return user.birthDate;
    case 'nin':
      return user.nin;
    default:
      return '';
  }
}

const cardNames: Record<TestCard['type'], string> = {
  VISA_DEBIT: 'Visa debit',
  VISA_CREDIT: 'Visa credit',
  MC_DEBIT: 'Mastercard debit',
  MC_CREDIT: 'Mastercard credit',
  DANKORT: 'Dankort',
  BANKAXEPT: 'BankAxept',
};

const outcomeHints: Record<TestCard['outcome'], string> = {
  approve: 'test card: approves',
  declined: 'test card: declined by the issuer',
  insufficient_funds: 'test card: insufficient funds',
  expired: 'test card: expired',
};

export function cardLabel(card: TestCard): string {
  return `${cardNames[card.type]} •••• ${card.last4}, expires ${card.expiry}`;
}

function receiptSection(payment: Payment): SafeHtml {
  const receipt = payment.request.receipt as Receipt | undefined;
  const receiptUrl = payment.request.receiptUrl as string | undefined;
  const money = (value: number) => formatAmount(value, payment.currency);
  const parts: SafeHtml[] = [];
  if (receipt) {
    const rows = receipt.orderLines.map((line) => {
      const sign = line.isReturn ? -1 : 1;
      const quantity = line.unitInfo ? `${line.unitInfo.quantity} ${line.unitInfo.quantityUnit ?? 'PCS'}`.replace(' PCS', ' ×') : '1 ×';
      return html`<tr><th scope="row">${line.name}${line.isShipping && !/shipping/i.test(line.name) ? ' (shipping)' : ''}${line.isReturn ? ' (return)' : ''}</th>
<td>${quantity}</td><td class="num">${money(sign * line.totalAmount)}</td></tr>`;
    });
    const tip = receipt.bottomLine.tipAmount ?? 0;
    const total = receipt.orderLines.reduce((sum, line) => sum + (line.isReturn ? -1 : 1) * line.totalAmount, 0) + tip;
    parts.push(html`<table class="receipt"><caption>Order</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Qty</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${rows}${tip ? html`<tr><th scope="row">Tip</th><td></td><td class="num">${money(tip)}</td></tr>` : ''}</tbody>
<tfoot><tr><th scope="row">Total</th><td></td><td class="num">${money(total)}</td></tr></tfoot></table>
${receipt.bottomLine.receiptNumber ? html`<p class="muted">Receipt ${receipt.bottomLine.receiptNumber}${receipt.bottomLine.posId ? ` · till ${receipt.bottomLine.posId}` : ''}</p>` : ''}`);
  }
  if (receiptUrl) parts.push(html`<p><a href="${receiptUrl}">View the receipt at the store</a></p>`);
  return html`${parts}`;
}

function eventsTable(events: PaymentEvent[], currency: string): SafeHtml {
  const names: Record<string, string> = {
    CREATED: 'Requested',
    AUTHORIZED: 'Approved (reserved)',
    ABORTED: 'Rejected',
    EXPIRED: 'Expired',
    CANCELLED: 'Reservation released',
    CAPTURED: 'Captured',
    REFUNDED: 'Refunded',
    TERMINATED: 'Cancelled by the store',
  };
  const rows = events.map(
    (e) => html`<tr><td>${formatTime(e.occurredAt)}</td><td>${names[e.name] ?? e.name}${e.success ? '' : ' (failed)'}</td>
<td class="num">${formatAmount(e.amount, currency)}</td></tr>`,
  );
  return html`<table class="events"><caption>What happened</caption>
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

const errorMessages: Record<string, string> = {
  consent: 'Agree to share the requested information, or reject the payment.',
  terms: "Accept the store's terms, or reject the payment.",
  shipping: 'Choose how you want the order delivered.',
  state: 'This payment can no longer be answered.',
};

/** What the user chose on the payment screen, carried back to it after a refused attempt. */
interface Choices {
  consent?: string | undefined;
  terms?: string | undefined;
  shipping?: string | undefined;
  card?: string | undefined;
}

function choicesIn(form: unknown): Choices {
  return { consent: field(form, 'consent'), terms: field(form, 'terms'), shipping: field(form, 'shipping'), card: field(form, 'card') };
}

export function registerPaymentScreen(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  // What the user does happens on the payment's sales unit's clock (time control may run it ahead).
  const now = (payment: Payment) => ctx.clock.now(payment.msn);

  interface Loaded {
    user: StoredUser;
    payment: Payment;
    events: PaymentEvent[];
    source: RequestSource | 'push' | 'own';
    merchantName: string;
    market: string;
  }

  /** The payment of the URL, if it reached this user's app; otherwise the page has been answered. */
  async function load(request: FastifyRequest, reply: FastifyReply): Promise<Loaded | null> {
    const user = await appUser(ctx.db, request);
    if (!user) {
      await sendUserPicker(ctx.db, reply, request.method === 'GET' ? request.url : '/app');
      return null;
    }
    const { id } = request.params as { id: string };
    const key = await findPaymentKey(ctx.db, id);
    const { payment, events } = key ? await currentPayment(deps, key.msn, key.reference) : { payment: null, events: [] };
    const requested = payment ? await findPaymentRequest(ctx.db, payment.id, user.phone) : null;
    const own = payment?.customerPhone === user.phone;
    if (!payment || (!requested && !own)) {
      const body = html`<h1>Payment not found</h1><p>This payment was not sent to ${user.firstName}'s app.</p><p><a class="button" href="/app">Back</a></p>`;
      await sendPage(reply, 404, appFrame('Payment not found', body, { user }));
      return null;
    }
    const unit = await findSalesUnit(ctx.db, payment.msn);
    const source = requested ?? (payment.userFlow === 'PUSH_MESSAGE' ? 'push' : 'own');
    return { user, payment, events, source, merchantName: unit?.name ?? payment.msn, market: unit?.market ?? 'NO' };
  }

  async function consentNeeded(payment: Payment, user: StoredUser): Promise<string[]> {
    const scopes = scopesOf(payment);
    if (scopes.length === 0) return [];
    const sub = await findSub(ctx.db, payment.msn, user.phone);
    const { consents } = sub ? await consentsOf(ctx.db, sub) : { consents: new Map<string, Date>() };
    return scopes.filter((scope) => {
      const at = consents.get(scope);
      return !at || !consentIsFresh(at, now(payment));
    });
  }

  /** Express options: fixed ones from the request, dynamic ones asked from the merchant once per user (or on "try again"). */
  async function shippingFor(loaded: Loaded, refresh: boolean): Promise<{ choices: ShippingChoice[]; error: string | null } | null> {
    const { payment, user } = loaded;
    const shipping = payment.request.shipping as { fixedOptions?: ShippingGroup[] } | null | undefined;
    if (!shipping) return null;
    if (!shipsTo(payment, loaded.market, user)) return { choices: [], error: `The store does not ship to ${user.address.country}.` };
    if (shipping.fixedOptions) return { choices: shippingChoices(shipping.fixedOptions), error: null };
    let quote = refresh ? null : await findShippingQuote(ctx.db, payment.id, user.phone);
    if (!quote) {
      quote = await fetchDynamicOptions(payment, user);
      await saveShippingQuote(ctx.db, payment.id, user.phone, quote, now(payment));
    }
    return { choices: quote.groups ? shippingChoices(quote.groups as ShippingGroup[]) : [], error: quote.error };
  }

  function afterAnswer(loaded: Loaded): string {
    const returnUrl = loaded.payment.request.returnUrl;
    // The app opens returnUrl when the payment reached it by app-switch or deeplink (platform-guidelines §10.2);
    // after a landing page the browser that waits there goes on by itself, and push/QR open nothing (§11).
    if ((loaded.source === 'app-switch' || loaded.source === 'native') && typeof returnUrl === 'string') return returnUrl;
    return `/app/payments/${loaded.payment.pspReference}`;
  }

  function header(loaded: Loaded): SafeHtml {
    const { payment } = loaded;
    const description = payment.request.paymentDescription as string | undefined;
    return html`<p class="muted">Payment to</p>
<h1>${loaded.merchantName}</h1>
<p class="amount" id="amount" data-base="${payment.amount}" data-currency="${payment.currency}">${formatAmount(payment.amount, payment.currency)}</p>
${description ? html`<p>${description}</p>` : ''}`;
  }

  async function paymentForm(loaded: Loaded, error: string | undefined, refreshShipping: boolean, kept: Choices): Promise<SafeHtml> {
    const { payment, user } = loaded;
    const id = payment.pspReference;
    const attempts = await listAuthorizationAttempts(ctx.db, payment.id, user.phone);
    const lastAttempt = attempts.at(-1);
    const failed =
      error === 'failed' && lastAttempt ? `Payment failed: ${lastAttempt.reason} Choose another card or try again.` : undefined;
    const message = failed ?? (error ? errorMessages[error] : undefined);
    const minimumUserAge = payment.request.minimumUserAge as number | null | undefined;
    const tooYoung = Boolean(minimumUserAge && ageOn(user.birthDate, now(payment)) < minimumUserAge);
    const consent = await consentNeeded(payment, user);
    const shipping = await shippingFor(loaded, refreshShipping);
    const legal = payment.request.merchantLegalLinks as { termsOfSaleUrl?: string; privacyPolicyUrl?: string } | undefined;
    const canPay = !tooYoung && user.cards.length > 0 && !(shipping && (shipping.error || shipping.choices.length === 0));
    const defaultCard = user.cards.find((c) => c.id === kept.card) ?? user.cards.find((c) => c.outcome === 'approve') ?? user.cards[0];
    const keptShipping = shipping?.choices.some((c) => c.key === kept.shipping) ? kept.shipping : undefined;

    const consentPart = consent.length
      ? html`<fieldset class="consent"><legend>${loaded.merchantName} asks for your information</legend>
<ul>${consent.map((scope) => html`<li><strong>${scopeLabels[scope] ?? scope}:</strong> ${scopeValue(user, scope)}</li>`)}</ul>
<p class="hint" id="consent-hint">All or nothing: if you do not agree, the payment is rejected. The store can read this for 7 days.</p>
<label class="check"><input type="checkbox" name="consent" value="yes" required aria-describedby="consent-hint"${kept.consent === 'yes' ? html` checked` : ''}> I agree to share this information</label>
</fieldset>`
      : scopesOf(payment).length
        ? html`<p class="muted">You already agreed to share ${scopesOf(payment)
            .map((s) => scopeLabels[s] ?? s)
            .join(', ')} with this store.</p>`
        : '';

    const shippingPart = shipping
      ? shipping.error
        ? html`<div class="error" role="alert"><p>${shipping.error}</p>
<p><a href="/app/payments/${id}?refreshShipping=1">Try again</a></p></div>`
        : html`<fieldset class="shipping"><legend>Delivery to ${user.address.addressLine1}, ${user.address.postCode} ${user.address.city}</legend>
${shipping.choices.map(
  (
    c,
  ) => html`<label class="option"><input type="radio" name="shipping" value="${c.key}" data-cost="${c.option.amount.value}" required ${(keptShipping ? c.key === keptShipping : c.isDefault) ? html`checked` : ''}>
<span><strong>${c.option.name}</strong> · ${formatAmount(c.option.amount.value, payment.currency)}<br>
<span class="muted">${c.group.brand} ${c.group.type.replace('_', ' ').toLowerCase()}${c.option.meta ? ` · ${c.option.meta}` : ''}${c.option.estimatedDelivery ? ` · ${c.option.estimatedDelivery}` : ''}</span></span></label>`,
)}
</fieldset>`
      : '';

    const agePart = tooYoung
      ? html`<p class="error" role="alert">You must be at least ${minimumUserAge} years old to pay ${loaded.merchantName}.</p>`
      : '';

    const cardPart = user.cards.length
      ? html`<fieldset class="cards"><legend>Pay with</legend>
${user.cards.map(
  (
    card,
  ) => html`<label class="option"><input type="radio" name="card" value="${card.id}" required ${card === defaultCard ? html`checked` : ''}>
<span>${cardLabel(card)}<br><span class="muted">${outcomeHints[card.outcome]}</span></span></label>`,
)}
</fieldset>`
      : html`<p class="error" role="alert">${user.firstName} has no cards in the app, so the payment cannot be approved.</p>`;

    const termsPart =
      legal?.termsOfSaleUrl || legal?.privacyPolicyUrl
        ? // One span: the label is a flex row, and each bit of text and link would be a column of its own.
          html`<label class="check"><input type="checkbox" name="terms" value="yes" required${kept.terms === 'yes' ? html` checked` : ''}> <span>I accept the store's
${legal.termsOfSaleUrl ? html`<a href="${legal.termsOfSaleUrl}">terms of sale</a>` : ''}${legal.termsOfSaleUrl && legal.privacyPolicyUrl ? ' and ' : ''}${legal.privacyPolicyUrl ? html`<a href="${legal.privacyPolicyUrl}">privacy policy</a>` : ''}</span></label>`
        : '';

    return html`${message ? html`<p class="error" role="alert" id="result">${message}</p>` : ''}
${receiptSection(payment)}
<form method="post" action="/app/payments/${id}/approve" class="pay">
${consentPart}${shippingPart}${agePart}${canPay ? cardPart : ''}${canPay ? termsPart : ''}
${shipping && canPay ? html`<p class="total">Total <strong id="total">${formatAmount(payment.amount + (shipping.choices.find((c) => c.isDefault)?.option.amount.value ?? 0), payment.currency)}</strong></p>` : ''}
<div class="actions">
${canPay ? html`<button type="submit" id="approve">Approve</button>` : ''}
<button type="submit" class="secondary" formaction="/app/payments/${id}/reject" formnovalidate id="reject">Reject</button>
</div>
</form>
<p class="muted">Answer by ${formatTime(payment.expiresAt)}.</p>
${attempts.length ? html`<details><summary>Failed attempts (${attempts.length})</summary><ul>${attempts.map((a) => html`<li>${formatTime(a.attemptedAt)}: ${a.reason}</li>`)}</ul></details>` : ''}`;
  }

  function receiptScreen(loaded: Loaded): SafeHtml {
    const { payment, events, user } = loaded;
    const money = (value: number) => formatAmount(value, payment.currency);
    const card = payment.cardBin ? user.cards.find((c) => c.bin8.startsWith(payment.cardBin as string)) : undefined;
    const shippingDetails = payment.shippingDetails as { shippingOptionName?: string; shippingCost?: { value: number } } | null;
    const returnUrl = payment.request.returnUrl;
    const { aggregate } = payment;
    if (awaitingIssuer(payment, now(payment))) {
      return html`<p class="state state-pending big" role="status">${pendingLabel}</p>
<p>You approved; your bank has not answered yet. The store sees the payment as waiting until it does.</p>
<p class="muted">Test amount 201: the answer never comes, and the payment expires at ${formatTime(payment.expiresAt)}.</p>
<p><a href="/app">All payments</a></p>`;
    }
    return html`<p class="state state-${payment.state.toLowerCase()} big" role="status">${stateLabels[payment.state]}</p>
${
  payment.state === 'AUTHORIZED'
    ? html`<dl class="facts">
<dt>Reserved</dt><dd>${money(aggregate.authorized)}</dd>
<dt>Captured</dt><dd>${money(aggregate.captured)}</dd>
<dt>Refunded</dt><dd>${money(aggregate.refunded)}</dd>
<dt>Released</dt><dd>${money(aggregate.cancelled)}</dd>
${card ? html`<dt>Card</dt><dd>${cardLabel(card)}</dd>` : ''}
${shippingDetails?.shippingOptionName ? html`<dt>Delivery</dt><dd>${shippingDetails.shippingOptionName} (${money(shippingDetails.shippingCost?.value ?? 0)})</dd>` : ''}
</dl>`
    : ''
}
${receiptSection(payment)}
${eventsTable(events, payment.currency)}
${typeof returnUrl === 'string' && (loaded.source === 'app-switch' || loaded.source === 'native') ? html`<p><a class="button" href="${returnUrl}">Back to ${loaded.merchantName}</a></p>` : ''}
<p><a href="/app">All payments</a></p>`;
  }

  function screenVersion(loaded: Loaded): string {
    const { payment, events } = loaded;
    return versionOf([payment.state, payment.aggregate, events.length]);
  }

  app.get('/app/payments/:id', async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { payment } = loaded;
    const answering = payment.state === 'CREATED' && !awaitingIssuer(payment, now(payment));
    const content = answering
      ? await paymentForm(loaded, field(request.query, 'error'), field(request.query, 'refreshShipping') === '1', choicesIn(request.query))
      : receiptScreen(loaded);
    const body = html`<section id="payment" data-poll="/app/payments/${payment.pspReference}/status.json" data-version="${screenVersion(loaded)}">
${header(loaded)}
${content}
</section>`;
    return sendPage(reply, 200, appFrame(`${loaded.merchantName}`, body, { scripts: ['app.js'], user: loaded.user }));
  });

  app.get('/app/payments/:id/status.json', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const user = await appUser(ctx.db, request);
    const { id } = request.params as { id: string };
    const key = user ? await findPaymentKey(ctx.db, id) : null;
    if (!user || !key) return reply.code(404).send({ version: null });
    const { payment, events } = await currentPayment(deps, key.msn, key.reference);
    if (payment.customerPhone !== user.phone && !(await findPaymentRequest(ctx.db, payment.id, user.phone))) {
      return reply.code(404).send({ version: null });
    }
    return reply.send({ version: versionOf([payment.state, payment.aggregate, events.length]), state: payment.state });
  });

  app.post('/app/payments/:id/approve', async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { payment, user } = loaded;
    // Back to the screen with the reason, and with the user's choices kept: a declined card is no reason to tick it all again.
    const kept = Object.entries(choicesIn(request.body)).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const back = (error: string) =>
      seeOther(reply, `/app/payments/${payment.pspReference}?${new URLSearchParams([['error', error], ...kept])}#result`);
    if (payment.state !== 'CREATED' || awaitingIssuer(payment, now(payment))) return back('state');
    if ((await consentNeeded(payment, user)).length > 0 && field(request.body, 'consent') !== 'yes') return back('consent');
    const legal = payment.request.merchantLegalLinks as object | undefined;
    if (legal && field(request.body, 'terms') !== 'yes') return back('terms');
    let shipping: ReturnType<typeof shippingApproval> | undefined;
    if (payment.request.shipping) {
      const options = await shippingFor(loaded, false);
      const choice = options?.choices.find((c) => c.key === field(request.body, 'shipping'));
      if (!choice) return back('shipping');
      shipping = shippingApproval(payment, user, choice);
    }
    const cardId = field(request.body, 'card');
    const outcome = await approveInApp(deps, payment, user, { ...(cardId ? { cardId } : {}), ...(shipping ? { shipping } : {}) });
    if (!outcome.ok) return back('failed');
    if (outcome.redirectTo) return seeOther(reply, outcome.redirectTo);
    return seeOther(reply, afterAnswer(loaded));
  });

  app.post('/app/payments/:id/reject', async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    // Approved, the bank yet to answer: the rejection would be refused (6250), so say so rather than act as if it went through.
    if (loaded.payment.state !== 'CREATED' || awaitingIssuer(loaded.payment, now(loaded.payment))) {
      return seeOther(reply, `/app/payments/${loaded.payment.pspReference}?error=state#result`);
    }
    await rejectPayment(deps, loaded.payment);
    return seeOther(reply, afterAnswer(loaded));
  });
}
