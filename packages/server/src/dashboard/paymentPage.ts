/** One payment: its facts, its timeline (timeline.ts) and the webhook deliveries that can be sent again. */
import { html, type SafeHtml } from '../customer/html.ts';
import type { Payment } from '../payments/types.ts';
import { money, paymentHref, stateBadge, when } from './layout.ts';
import type { TimelineEntry } from './timeline.ts';

const SOURCE_LABEL: Record<TimelineEntry['source'], string> = {
  event: 'Event',
  webhook: 'Webhook',
  request: 'API call',
  'card-callback': 'Card callback',
  app: 'App',
};

/** Who pays: the phone number the payment was sent to or approved with, or how the create named the customer. */
function customerOf(payment: Payment): string {
  if (payment.customerPhone) return payment.customerPhone;
  const customer = payment.request.customer as { personalQr?: string; customerToken?: string } | undefined;
  if (customer?.personalQr) return `personal QR ${customer.personalQr}`;
  if (customer?.customerToken) return 'a check-in customer token';
  return '—';
}

export function paymentBody(payment: Payment, timeline: TimelineEntry[], message?: { text: string; kind: 'notice' | 'error' }): SafeHtml {
  const { aggregate: a, currency } = payment;
  const back = paymentHref(payment.msn, payment.reference);
  const replayable = new Map<number, string>();
  for (const entry of timeline)
    if (entry.deliveryId !== undefined && entry.source === 'webhook') replayable.set(entry.deliveryId, entry.title.split(' ')[0] as string);
  return html`${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>` : ''}
<p><a href="/dashboard?msn=${payment.msn}">← Payments of sales unit ${payment.msn}</a></p>
<dl class="facts">
<dt>State</dt><dd data-state="${payment.state}">${stateBadge(payment.state)}</dd>
<dt>Sales unit</dt><dd>${payment.msn}</dd>
<dt>pspReference</dt><dd><code>${payment.pspReference}</code></dd>
<dt>Amount</dt><dd>${money(payment.amount, currency)}</dd>
<dt>Authorized / captured / refunded / cancelled</dt><dd>${money(a.authorized, currency)} / ${money(a.captured, currency)} / ${money(a.refunded, currency)} / ${money(a.cancelled, currency)}</dd>
<dt>Flow</dt><dd>${payment.userFlow}, ${payment.paymentMethodType}</dd>
<dt>Description</dt><dd>${String(payment.request.paymentDescription ?? '—')}</dd>
<dt>returnUrl</dt><dd>${payment.request.returnUrl ? html`<code>${String(payment.request.returnUrl)}</code>` : '—'}</dd>
<dt>Created</dt><dd>${when(payment.createdAt)}</dd>
<dt>Expires</dt><dd>${when(payment.expiresAt)}</dd>
${payment.state === 'CREATED' && payment.processingUntil ? html`<dt>Being authorized until</dt><dd>${when(payment.processingUntil)} (a card callback, 3-D Secure or a bank yet to answer; cancel answers 6250 meanwhile)</dd>` : ''}
<dt>Customer</dt><dd>${customerOf(payment)}</dd>
<dt>Authorized</dt><dd>${when(payment.authorizedAt)}</dd>
<dt>Capture deadline</dt><dd>${when(payment.captureDeadline)}</dd>
</dl>
<h2>Timeline</h2>
<p class="hint">Server clock, UTC. Sources: events, webhook attempts, API calls, card callbacks, failed authorizations in the app.</p>
<ol class="timeline">
${timeline.map(
  (entry) => html`<li class="entry ${entry.source} ${entry.outcome}" data-source="${entry.source}">
<span class="at">${when(entry.at)}</span> <span class="source">${SOURCE_LABEL[entry.source]}</span>
<span class="title">${entry.href ? html`<a href="${entry.href}">${entry.title}</a>` : entry.title}</span>
<span class="detail">${entry.detail}</span>
</li>`,
)}
</ol>
${
  replayable.size > 0
    ? html`<h2>Send a webhook again</h2>
<p class="hint">Kassa's addition (the platform has no manual re-send, platform-guidelines §4.5): a delivered or dropped notification is queued again behind the payment's newer events.</p>
<ul class="replays">${[...replayable].map(
        ([id, eventType]) => html`<li><form method="post" action="/dashboard/webhooks/deliveries/${id}/replay">
<input type="hidden" name="back" value="${back}">
<button type="submit" class="secondary">Replay delivery ${id} (${eventType})</button>
</form></li>`,
      )}</ul>`
    : ''
}`;
}
