/**
 * "Redirect handling" (platform-guidelines §10.2): the app opens returnUrl in the default browser, not
 * necessarily the one that started the payment, or not at all. So the return page must find the order
 * from the URL itself — it carries the reference, or the order id the reference is built from — and
 * never from a cookie or session.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import type { Offender } from '../types.ts';

/** Whether the URL identifies the payment: the reference, or a path segment / query value (≥ 4 characters, with a digit) the reference contains. */
export function returnUrlIdentifiesPayment(returnUrl: string, reference: string): boolean {
  let decoded = returnUrl;
  try {
    decoded = decodeURIComponent(returnUrl);
  } catch {}
  if (decoded.includes(reference)) return true;
  let url: URL;
  try {
    url = new URL(returnUrl);
  } catch {
    return false;
  }
  // A path segment counts with or without a file extension (`/orders/1004.html`).
  const segments = url.pathname.split('/').flatMap((segment) => [segment, segment.replace(/\.[a-z0-9]{1,5}$/i, '')]);
  const parts = [...segments, ...url.searchParams.values(), url.hash.replace(/^#/, '')];
  return parts.some((part) => part.length >= 4 && /\d/.test(part) && reference.includes(part));
}

export const returnUrlItem: ChecklistItem = {
  id: 'return-url',
  title: 'returnUrl independent of the browser session',
  guideline: 'platform-guidelines §10.2',
  rule:
    'The returnUrl of every WEB_REDIRECT/NATIVE_REDIRECT payment carries the reference (or the order id it contains), ' +
    'so the return page works in another browser.',
  judge({ payments }) {
    const redirected = payments.filter((p) => typeof p.request.returnUrl === 'string' && p.request.returnUrl !== '');
    if (redirected.length === 0) return notExercised('No payments with a returnUrl in the period.');
    const offenders: Offender[] = redirected
      .filter((p) => !returnUrlIdentifiesPayment(p.request.returnUrl as string, p.reference))
      .map((p) => ({ reference: p.reference, msn: p.msn, reason: `returnUrl ${p.request.returnUrl} does not identify the payment` }));
    const counts = { withReturnUrl: redirected.length, sessionDependent: offenders.length };
    if (offenders.length > 0) {
      return judgement('not_met', `${offenders.length} returnUrl(s) depend on the browser session.`, { counts, offenders });
    }
    return judgement('met', `All ${redirected.length} returnUrl(s) identify the payment (e.g. ${redirected[0]?.request.returnUrl}).`, {
      counts,
    });
  },
};
