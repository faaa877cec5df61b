/**
 * The two ways a CARD_PASSTHROUGH payment is approved — in the wallet-app simulator and by force
 * approve (spec §10) — mapped onto the card callback (cardAuthorization.ts).
 */
import type { ApiDeps } from '../api/apiDeps.ts';
import type { ActionOutcome } from '../customer/customerActions.ts';
import { DomainError } from '../errors.ts';
import type { Payment } from '../payments/types.ts';
import { recordAuthorizationAttempt } from '../store/customerStore.ts';
import type { StoredUser } from '../store/usersStore.ts';
import { authorizeWithCardCallback } from './cardAuthorization.ts';

/**
 * The user approved in the app. A retryable FAIL, or a card the store does not accept, leaves the
 * payment for another card (the app shows why); SOFT_DECLINE sends the app's browser to the PSP's
 * 3-D Secure page; a non-retryable outcome ends the payment (ABORTED), which the app then shows.
 */
export async function approveInAppWithPsp(
  deps: ApiDeps,
  payment: Payment,
  user: StoredUser,
  choice: { cardId?: string; shipping?: { details: Record<string, unknown>; cost: number } },
): Promise<ActionOutcome> {
  try {
    const outcome = await authorizeWithCardCallback(deps, {
      msn: payment.msn,
      reference: payment.reference,
      user,
      origin: 'app',
      ...(choice.cardId ? { cardId: choice.cardId } : {}),
      ...(choice.shipping ? { shipping: choice.shipping } : {}),
    });
    switch (outcome.kind) {
      case 'soft-decline':
        return { ok: true, redirectTo: outcome.softDeclineUrl };
      case 'retry':
        return { ok: false, message: outcome.message };
      default:
        return { ok: true };
    }
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await recordAuthorizationAttempt(
      deps.ctx.db,
      payment.id,
      user.phone,
      choice.cardId ?? null,
      error.detail,
      deps.ctx.clock.now(payment.msn),
    );
    return { ok: false, message: error.detail };
  }
}

/**
 * Force approve of a CARD_PASSTHROUGH payment: the test user's first card the store accepts goes to
 * the PSP like an approval in the app. Only RESERVE is a success; every other answer is 10010 with
 * what happened — after SOFT_DECLINE the attempt waits for the PSP's 3-D Secure page, which a test (or
 * a person) can complete at the URL given.
 */
export async function forceApproveWithPsp(deps: ApiDeps, msn: string, reference: string, user: StoredUser): Promise<void> {
  const outcome = await authorizeWithCardCallback(deps, { msn, reference, user, origin: 'force-approve' });
  switch (outcome.kind) {
    case 'authorized':
      return;
    case 'soft-decline':
      throw new DomainError(
        'approveFailed',
        `The PSP answered SOFT_DECLINE: complete 3-D Secure at ${outcome.softDeclineUrl}; the payment is authorized when the PSP then answers RESERVE.`,
      );
    case 'retry':
      throw new DomainError('approveFailed', `${outcome.message} The payment stays CREATED; another card may be tried.`);
    default:
      throw new DomainError('approveFailed', `${outcome.message} (${outcome.kind === 'aborted' ? 'the payment is ABORTED' : 'too late'})`);
  }
}
