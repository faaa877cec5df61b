/**
 * The PSP's 3-D Secure page (`softDeclineUrl`, epayment-api §17.3): the app opens it after a
 * SOFT_DECLINE; the cardholder confirms or cancels; the page then sends the browser to the platform's
 * `softDeclineCompletedRedirectUrl`, and the platform makes the second card callback of the attempt.
 * A real PSP puts its 3-D Secure server's challenge (the issuer's ACS) here.
 */
import type { Challenge, PspPayment } from './pspPayments.ts';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function money(value: number, currency: string): string {
  return `${currency} ${(value / 100).toFixed(2)}`;
}

export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
};

export function challengePage(payment: PspPayment, challenge: Challenge): string {
  const card = challenge.card ? `${challenge.card.cardType} ${challenge.card.maskedCardNumber.replace(/X/g, '•')}` : 'your card';
  const done = challenge.result !== 'pending';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>3-D Secure – Kassa Reference PSP</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
.box{border:1px solid #bbb;border-radius:.5rem;padding:1rem}button{font-size:1rem;padding:.6rem 1rem;margin:.25rem .5rem 0 0}
.muted{color:#555}</style></head>
<body><main>
<p class="muted">Kassa Reference PSP · simulated issuer</p>
<h1>Verify your payment</h1>
<div class="box">
<p>Pay <strong>${escapeHtml(money(payment.amount.value, payment.amount.currency))}</strong> to merchant ${escapeHtml(payment.merchantSerialNumber)}
with ${escapeHtml(card)}.</p>
${
  done
    ? `<p role="status">This verification is already ${escapeHtml(challenge.result)}.</p>`
    : `<form method="post" action="/3ds/${escapeHtml(challenge.id)}">
<p>Your bank asks you to confirm this payment (test: any choice is accepted).</p>
<button type="submit" name="action" value="approve">Confirm payment</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form>`
}
</div>
</main></body></html>
`;
}
