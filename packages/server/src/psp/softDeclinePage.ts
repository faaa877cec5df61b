/**
 * `softDeclineCompletedRedirectUrl` (epayment-api §17.3): where the PSP's 3-D Secure page sends the
 * browser when the user is done. Kassa then makes the second card callback of the attempt and sends
 * the browser on as the app would after an approval: to `returnUrl` when the payment reached the app by
 * app-switch or deeplink, otherwise to the app's payment screen (the receipt, or the card choice again
 * after a retryable FAIL). Attempts started by force approve have no app to go back to; they get a
 * page that says what happened. GET and POST both work: a 3-D Secure page may come back with a form.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api/apiDeps.ts';
import { appFrame } from '../customer/appSession.ts';
import { html, seeOther, sendPage } from '../customer/html.ts';
import { DomainError } from '../errors.ts';
import { findPaymentRequest } from '../store/customerStore.ts';
import { findPayment } from '../store/paymentsStore.ts';
import { type CardOutcome, completeSoftDecline } from './cardAuthorization.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const outcomeTexts: Record<CardOutcome['kind'], string> = {
  authorized: 'The card was verified and the payment is approved.',
  retry: 'The card was not accepted. Another card may be tried.',
  'soft-decline': 'The card still needs to be verified.',
  aborted: 'The payment could not be completed.',
  'too-late': 'This card verification is no longer valid.',
};

export function registerSoftDeclinePage(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;

  function endPage(reply: FastifyReply, status: number, title: string, text: string) {
    return sendPage(
      reply,
      status,
      appFrame(title, html`<h1>${title}</h1><p role="status">${text}</p><p><a href="/app">Open the app</a></p>`),
    );
  }

  async function completed(request: FastifyRequest, reply: FastifyReply) {
    const { attemptId } = request.params as { attemptId: string };
    if (!GUID.test(attemptId)) return endPage(reply, 404, 'Card verification not found', 'This link is not a card verification of Kassa.');
    let done: Awaited<ReturnType<typeof completeSoftDecline>>;
    try {
      done = await completeSoftDecline(deps, attemptId.toLowerCase());
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return endPage(reply, 409, 'Card verification not completed', error.detail);
    }
    if (!done) return endPage(reply, 404, 'Card verification not found', 'This link is not a card verification of Kassa.');
    const { attempt, outcome } = done;
    const payment = await findPayment(ctx.db, done.payment.msn, done.payment.reference);
    if (attempt.origin === 'force-approve' || !payment) {
      const detail = 'message' in outcome ? ` ${outcome.message}` : '';
      return endPage(reply, 200, 'Card verification', `${outcomeTexts[outcome.kind]}${detail} The payment is ${payment?.state ?? 'gone'}.`);
    }
    const screen = `/app/payments/${payment.pspReference}`;
    if (outcome.kind === 'retry') return seeOther(reply, `${screen}?error=failed#result`);
    if (outcome.kind === 'soft-decline') return seeOther(reply, outcome.softDeclineUrl);
    const source = await findPaymentRequest(ctx.db, payment.id, attempt.phone);
    const returnUrl = payment.request.returnUrl;
    // As the app does after an answer (customer/paymentScreen.ts): back to the shop after an app-switch.
    if ((source === 'app-switch' || source === 'native') && typeof returnUrl === 'string') return seeOther(reply, returnUrl);
    return seeOther(reply, screen);
  }

  app.get('/app/soft-decline/:attemptId/completed', completed);
  app.post('/app/soft-decline/:attemptId/completed', completed);
}
