/**
 * What a customer does to a payment from the pages: open it, approve it, reject it. Approval is the
 * same domain operation as force approve (approvePayment), each action one locked transaction, and
 * every committed event wakes webhook delivery.
 */
import type { ApiDeps } from '../api/apiDeps.ts';
import { DomainError } from '../errors.ts';
import { applyTransition } from '../operations/applyTransition.ts';
import { type Approval, approvePayment, awaitingIssuer } from '../operations/approvePayment.ts';
import { withLockedPayment } from '../operations/lockedPayment.ts';
import { readPayment } from '../operations/readPayment.ts';
import { abortPayment } from '../payments/stateMachine.ts';
import type { Payment, PaymentEvent } from '../payments/types.ts';
import { approveInAppWithPsp } from '../psp/pspApprovals.ts';
import { recordAuthorizationAttempt } from '../store/customerStore.ts';
import { findSalesUnit } from '../store/merchantsStore.ts';
import { findPaymentByToken } from '../store/paymentsStore.ts';
import type { StoredUser } from '../store/usersStore.ts';

/** A payment as it is now, with what time has done to it applied (expiry, spec §11.3). */
export async function currentPayment(deps: ApiDeps, msn: string, reference: string): Promise<{ payment: Payment; events: PaymentEvent[] }> {
  const { payment, events, moved } = await readPayment(deps.ctx.db, msn, reference, () => deps.ctx.clock.now(msn), true);
  if (moved) deps.onEvents();
  return { payment, events };
}

/** The payment behind a landing-page / QR / deeplink token, or null for an unknown token. */
export async function paymentByToken(deps: ApiDeps, token: string | undefined): Promise<Payment | null> {
  if (!token || !/^[\w-]{8,128}$/.test(token)) return null;
  const found = await findPaymentByToken(deps.ctx.db, token);
  if (!found) return null;
  return (await currentPayment(deps, found.msn, found.reference)).payment;
}

/** `redirectTo`: where the browser goes next instead (a PSP's 3-D Secure page, psp/pspApprovals.ts). */
export type ActionOutcome = { ok: true; redirectTo?: string } | { ok: false; message: string };

/**
 * The user approves in the app. A failed authorization (card declined, magic amount, too young) leaves
 * the payment CREATED so the user may try again until expiry (spec §16); it is recorded for the app.
 */
export async function approveInApp(
  deps: ApiDeps,
  payment: Payment,
  user: StoredUser,
  choice: { cardId?: string; shipping?: Approval['shipping'] },
): Promise<ActionOutcome> {
  // PSP card passthrough: the PSP authorizes the card through the card callback (epayment-api §17.3).
  if (payment.paymentMethodType === 'CARD_PASSTHROUGH') return approveInAppWithPsp(deps, payment, user, choice);
  const { ctx } = deps;
  const now = () => ctx.clock.now(payment.msn);
  try {
    await withLockedPayment(ctx.db, payment.msn, payment.reference, now, async (tx, locked) => {
      const unit = await findSalesUnit(tx, locked.msn);
      if (!unit) throw new DomainError('approveFailed', `Sales unit ${locked.msn} no longer exists.`);
      return approvePayment(
        tx,
        locked,
        unit,
        {
          user,
          manual: true,
          testMode: ctx.config.mode === 'test',
          ...(choice.cardId ? { cardId: choice.cardId } : {}),
          ...(choice.shipping ? { shipping: choice.shipping } : {}),
        },
        now(),
      );
    });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await recordAuthorizationAttempt(ctx.db, payment.id, user.phone, choice.cardId ?? null, error.detail, now());
    return { ok: false, message: error.detail };
  }
  deps.onEvents();
  return { ok: true };
}

/** The user rejects in the app, declines consent, or cancels on the landing page (spec §11.2: ABORTED). */
export async function rejectPayment(deps: ApiDeps, payment: Payment): Promise<ActionOutcome> {
  const { ctx } = deps;
  const now = () => ctx.clock.now(payment.msn);
  try {
    await withLockedPayment(ctx.db, payment.msn, payment.reference, now, async (tx, locked) => {
      if (locked.state !== 'CREATED') return [];
      if (awaitingIssuer(locked, now()))
        throw new DomainError('approveFailed', 'You approved; the payment waits for your bank and cannot be rejected.');
      return applyTransition(tx, abortPayment(locked, now()), now());
    });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ok: false, message: error.detail };
  }
  deps.onEvents();
  return { ok: true };
}
