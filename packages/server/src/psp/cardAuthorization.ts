/**
 * Authorizing a CARD_PASSTHROUGH payment through the PSP's synchronous card callback (epayment-api
 * §17.3, platform-guidelines §18). The callback may take 20 seconds, so no row lock is ever held
 * during it; each attempt is three steps:
 *
 * 1. begin — one transaction under the payment's row lock: the payment is CREATED and no other
 *    callback of it is in flight; the card is one the store accepts; the attempt, the pending callback
 *    record and `processing_until` (cancel answers 6250 meanwhile, §9.2) are written.
 * 2. the signed POST to `cardCallbackUrl`, outside any transaction.
 * 3. finish — a second transaction under the row lock applies the verdict (callbackVerdict.ts):
 *    RESERVE → AUTHORIZED; retryable FAIL → an AUTHORIZED event with `success: false` (open question
 *    12: PSP callback failures are recorded as such), the payment stays CREATED for another card;
 *    SOFT_DECLINE → the attempt waits for the PSP's 3-D Secure page; anything non-retryable → the
 *    failed AUTHORIZED event and ABORTED (open question 22).
 *
 * If the payment expired (or was otherwise answered) while the callback was in flight, the answer is
 * too late and changes nothing: the PSP learns the final state from its webhooks and voids what it
 * reserved (like the legacy API's error 85, "response received too late"). If the process stops
 * between 2 and 3, `processing_until` lapses; the next approval finds the attempt unanswered and treats
 * it as a timeout (non-retryable), and an unanswered payment expires as usual — nothing is lost.
 *
 * After SOFT_DECLINE the PSP sends the browser to `softDeclineCompletedRedirectUrl`, a Kassa URL naming
 * the attempt; `completeSoftDecline` then makes the second callback with the same attempt id and a
 * fresh cryptogram, which may only be answered RESERVE or FAIL.
 */
import { randomUUID } from 'node:crypto';
import type { CardPassthrough } from '../api/epayment/schemas.ts';
import type { ServerContext } from '../context.ts';
import type { TestCard } from '../customer/testUsers.ts';
import { ageOn } from '../customer/testUsers.ts';
import { DomainError } from '../errors.ts';
import { applyTransition } from '../operations/applyTransition.ts';
import { chooseCard, createKeyOf, scopesOf, userDetailsFor } from '../operations/approvePayment.ts';
import { withLockedPayment } from '../operations/lockedPayment.ts';
import { abortPayment, authorizePayment } from '../payments/stateMachine.ts';
import type { NewEvent, Payment, Transition } from '../payments/types.ts';
import { recordAuthorizationAttempt } from '../store/customerStore.ts';
import type { Queryable } from '../store/database.ts';
import { findSalesUnit } from '../store/merchantsStore.ts';
import { updatePayment } from '../store/paymentsStore.ts';
import {
  type CardAttempt,
  completeCardCallback,
  failPendingCallbacks,
  findAttempt,
  findEncryptionKey,
  findPaymentPsp,
  findPspKeySet,
  insertAttempt,
  insertCardCallback,
  openAttempts,
  paymentKeyOf,
  setAttemptStage,
} from '../store/pspStore.ts';
import { findUser, recordManualApproval, type StoredUser, subFor } from '../store/usersStore.ts';
import { signRequest } from '../webhooks/signWebhook.ts';
import { CHECK_WITH_MERCHANT, readExchange, type Verdict } from './callbackVerdict.ts';
import { type CardCallbackRequest, withoutCardData } from './cardCallbackMessages.ts';
import { cardBinOf, cardInfoFor, maskedNumberOf, routeFor } from './cardData.ts';
import { encryptPan } from './panEncryption.ts';
import { postCardCallback } from './postCardCallback.ts';
import { openPspSecret, pspSecretKey } from './pspSecrets.ts';

/** `processing_until` outlives the callback's deadline by this much, for the second transaction. */
const PROCESSING_MARGIN_MS = 10_000;
/** How long the user may spend on the PSP's 3-D Secure page before a merchant may cancel again. */
export const SOFT_DECLINE_WINDOW_MS = 5 * 60 * 1000;

export interface CardAuthorizationDeps {
  ctx: ServerContext;
  /** Events were committed: wake webhook delivery. */
  onEvents(): void;
}

export type CardOutcome =
  | { kind: 'authorized' }
  | { kind: 'retry'; message: string }
  | { kind: 'soft-decline'; softDeclineUrl: string }
  | { kind: 'aborted'; message: string }
  | { kind: 'too-late'; message: string };

export interface CardApproval {
  msn: string;
  reference: string;
  user: StoredUser;
  /** The card to pay with; the first one the store accepts when absent. */
  cardId?: string;
  /** Express: the shipping option chosen in the app, added to the amount. */
  shipping?: { details: Record<string, unknown>; cost: number };
  origin: CardAttempt['origin'];
}

interface PreparedCall {
  attemptId: string;
  callbackId: number;
  sequence: 1 | 2;
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** What the first transaction of an attempt ends with: a call to make, or an outcome without one. */
type Begun = { outcome: CardOutcome } | { call: PreparedCall };

/** The user (app) or a test (force approve) confirmed a CARD_PASSTHROUGH payment with a card. */
export async function authorizeWithCardCallback(deps: CardAuthorizationDeps, approval: CardApproval): Promise<CardOutcome> {
  const { ctx } = deps;
  const now = () => ctx.clock.now(approval.msn);
  const begun = await withLockedPayment(ctx.db, approval.msn, approval.reference, now, async (tx, payment): Promise<Begun> => {
    if (payment.paymentMethodType !== 'CARD_PASSTHROUGH') throw new Error(`payment ${payment.reference} is not CARD_PASSTHROUGH`);
    if (payment.state !== 'CREATED') throw new DomainError('approveFailed', `The payment cannot be approved in state ${payment.state}.`);
    const stale = await settleOpenAttempts(tx, payment, now());
    if (stale) return { outcome: stale };
    const { user } = approval;
    const minimumUserAge = payment.request.minimumUserAge as number | null | undefined;
    if (minimumUserAge && ageOn(user.birthDate, now()) < minimumUserAge) {
      throw new DomainError('approveFailed', `The user is younger than the minimum age of ${minimumUserAge}.`);
    }
    if (!user.canPayBusinesses) throw new DomainError('approveNotAllowed', 'This user cannot pay businesses.');
    const psp = await pspOf(tx, payment);
    const passthrough = payment.request.cardPassthrough as CardPassthrough;
    const key = passthrough.publicEncryptionKeyId
      ? await findEncryptionKey(tx, psp.pspId, passthrough.publicEncryptionKeyId.toLowerCase())
      : null;
    const card = cardToUse(user, approval.cardId, passthrough, key !== null);
    const attempt: CardAttempt = {
      id: randomUUID(),
      paymentId: payment.id,
      phone: user.phone,
      cardId: card.id,
      origin: approval.origin,
      amount: payment.amount + (approval.shipping?.cost ?? 0),
      shipping: approval.shipping ?? null,
      stage: 'calling',
      softDeclineUrl: null,
      createdAt: now(),
      updatedAt: now(),
    };
    await insertAttempt(tx, attempt);
    return { call: await prepareCall(deps, tx, payment, attempt, card, psp, key?.publicKeyPem ?? null, 1, now()) };
  });
  if ('outcome' in begun) {
    deps.onEvents();
    return begun.outcome;
  }
  return callAndFinish(deps, approval.msn, approval.reference, begun.call);
}

/**
 * The PSP's 3-D Secure page sent the browser back (`softDeclineCompletedRedirectUrl`): the second
 * callback with the same attempt id. Returns the attempt (for where the browser goes next) and the
 * outcome; a repeated visit makes no second call and reports what the first one decided.
 */
export async function completeSoftDecline(
  deps: CardAuthorizationDeps,
  attemptId: string,
): Promise<{ attempt: CardAttempt; payment: { msn: string; reference: string }; outcome: CardOutcome } | null> {
  const { ctx } = deps;
  const found = await findAttempt(ctx.db, attemptId);
  const key = found ? await paymentKeyOf(ctx.db, found.paymentId) : null;
  if (!found || !key) return null;
  const now = () => ctx.clock.now(key.msn);
  const begun = await withLockedPayment(ctx.db, key.msn, key.reference, now, async (tx, payment): Promise<Begun> => {
    const attempt = (await findAttempt(tx, attemptId)) as CardAttempt;
    if (attempt.stage !== 'soft-declined') return { outcome: outcomeOfStage(attempt) };
    if (payment.state !== 'CREATED') {
      await setAttemptStage(tx, attempt.id, 'too-late', now());
      return { outcome: tooLate(payment) };
    }
    const user = await findUser(tx, attempt.phone);
    const card = user?.cards.find((c) => c.id === attempt.cardId);
    if (!card) throw new DomainError('invalidPaymentSource', `The card of attempt ${attempt.id} no longer exists.`);
    const psp = await pspOf(tx, payment);
    const passthrough = payment.request.cardPassthrough as CardPassthrough;
    const encryptionKey = passthrough.publicEncryptionKeyId
      ? await findEncryptionKey(tx, psp.pspId, passthrough.publicEncryptionKeyId.toLowerCase())
      : null;
    await setAttemptStage(tx, attempt.id, 'completing', now());
    return { call: await prepareCall(deps, tx, payment, attempt, card, psp, encryptionKey?.publicKeyPem ?? null, 2, now()) };
  });
  const attempt = (await findAttempt(ctx.db, attemptId)) as CardAttempt;
  if ('outcome' in begun) return { attempt, payment: key, outcome: begun.outcome };
  const outcome = await callAndFinish(deps, key.msn, key.reference, begun.call);
  return { attempt: (await findAttempt(ctx.db, attemptId)) as CardAttempt, payment: key, outcome };
}

/** What an attempt already decided, for a repeated visit of its completion URL. */
function outcomeOfStage(attempt: CardAttempt): CardOutcome {
  switch (attempt.stage) {
    case 'reserved':
      return { kind: 'authorized' };
    case 'failed':
      return { kind: 'retry', message: 'The card was not accepted; choose another card or try again.' };
    case 'aborted':
      return { kind: 'aborted', message: CHECK_WITH_MERCHANT };
    case 'soft-declined':
      return { kind: 'soft-decline', softDeclineUrl: attempt.softDeclineUrl ?? '' };
    default:
      return { kind: 'too-late', message: 'This card verification is no longer valid.' };
  }
}

function tooLate(payment: Payment): CardOutcome {
  return { kind: 'too-late', message: `The payment is ${payment.state} and can no longer be approved.` };
}

/**
 * Attempts left open before this one: a 3-D Secure step the user walked away from is abandoned; a
 * callback whose process stopped before recording the answer (its `processing_until` lapsed) counts
 * as a timeout — non-retryable, so the payment is aborted and that is the outcome of this approval.
 * A callback still in flight refuses this approval.
 */
async function settleOpenAttempts(tx: Queryable, payment: Payment, now: Date): Promise<CardOutcome | null> {
  const inFlight = payment.processingUntil !== null && payment.processingUntil.getTime() > now.getTime();
  for (const open of await openAttempts(tx, payment.id)) {
    if (open.stage === 'soft-declined') {
      await setAttemptStage(tx, open.id, 'abandoned', now);
      continue;
    }
    if (inFlight) throw new DomainError('approveFailed', 'The card processor is still answering an earlier attempt; wait a moment.');
    await failPendingCallbacks(tx, open.id, 'no answer was recorded: the server stopped during the callback');
    await setAttemptStage(tx, open.id, 'aborted', now);
    await applyTransition(tx, abortAfterFailure(payment, open.amount, now), now);
    return { kind: 'aborted', message: CHECK_WITH_MERCHANT };
  }
  return null;
}

async function pspOf(tx: Queryable, payment: Payment): Promise<{ pspId: string; clientId: string; secret: string }> {
  const pspId = await findPaymentPsp(tx, payment.id);
  const keySet = pspId ? await findPspKeySet(tx, pspId) : null;
  // Never an unsigned callback: PSP key sets made outside `kassa psps create` and the seed (tests that
  // insert key sets directly) keep no secret, so their payments cannot be approved.
  if (!pspId || !keySet?.secretSealed) {
    throw new DomainError(
      'approveFailed',
      "The card callback cannot be signed: Kassa keeps no client secret for the keys of this payment's PSP (create PSPs with `kassa psps create`).",
    );
  }
  return { pspId, clientId: keySet.clientId, secret: openPspSecret(await pspSecretKey(tx), keySet.clientId, keySet.secretSealed) };
}

/** The card chosen, or the first the store accepts (cards that approve first); refused cards make no callback. */
function cardToUse(user: StoredUser, cardId: string | undefined, passthrough: CardPassthrough, hasKey: boolean): TestCard {
  if (cardId) {
    const card = chooseCard(user, cardId);
    const route = routeFor(card, passthrough, hasKey);
    if ('refused' in route) throw new DomainError('invalidPaymentSource', route.refused);
    return card;
  }
  const ordered = [...user.cards].sort((a, b) => Number(b.outcome === 'approve') - Number(a.outcome === 'approve'));
  const usable = ordered.find((card) => !('refused' in routeFor(card, passthrough, hasKey)));
  if (usable) return usable;
  const first = chooseCard(user);
  throw new DomainError('invalidPaymentSource', (routeFor(first, passthrough, hasKey) as { refused: string }).refused);
}

async function prepareCall(
  deps: CardAuthorizationDeps,
  tx: Queryable,
  payment: Payment,
  attempt: CardAttempt,
  card: TestCard,
  psp: { pspId: string; secret: string },
  publicKeyPem: string | null,
  sequence: 1 | 2,
  now: Date,
): Promise<PreparedCall> {
  const { ctx } = deps;
  const passthrough = payment.request.cardPassthrough as CardPassthrough;
  const route = routeFor(card, passthrough, publicKeyPem !== null);
  if ('refused' in route) throw new DomainError('invalidPaymentSource', route.refused);
  const request: CardCallbackRequest = {
    pspReference: passthrough.pspReference,
    authorizationAttemptId: attempt.id,
    merchantSerialNumber: payment.msn,
    amount: { currency: payment.currency, value: attempt.amount },
    softDeclineCompletedRedirectUrl: softDeclineCompletedUrl(ctx.config.publicUrl, attempt.id),
    cardInfo: cardInfoFor(card, route, (pan) => encryptPan(pan, publicKeyPem as string)),
  };
  const body = JSON.stringify(request);
  const signed = signRequest({ url: passthrough.cardCallbackUrl, body, secret: psp.secret, date: now });
  const callbackId = await insertCardCallback(tx, {
    attemptId: attempt.id,
    paymentId: payment.id,
    msn: payment.msn,
    reference: payment.reference,
    pspId: psp.pspId,
    sequence,
    url: passthrough.cardCallbackUrl,
    request: withoutCardData(request),
    xMsDate: signed['x-ms-date'],
    sentAt: now,
  });
  await updatePayment(tx, {
    ...payment,
    processingUntil: new Date(now.getTime() + ctx.config.cardCallbackTimeoutMs + PROCESSING_MARGIN_MS),
  });
  const { host: _host, ...headers } = signed;
  return {
    attemptId: attempt.id,
    callbackId,
    sequence,
    url: passthrough.cardCallbackUrl,
    body,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  };
}

/** Where the PSP sends the browser after its 3-D Secure page (§17.3 `softDeclineCompletedRedirectUrl`). */
export function softDeclineCompletedUrl(publicUrl: string, attemptId: string): string {
  return `${publicUrl}/app/soft-decline/${attemptId}/completed`;
}

async function callAndFinish(deps: CardAuthorizationDeps, msn: string, reference: string, call: PreparedCall): Promise<CardOutcome> {
  const { ctx } = deps;
  const exchange = await postCardCallback({
    url: call.url,
    body: call.body,
    headers: call.headers,
    timeoutMs: ctx.config.cardCallbackTimeoutMs,
    refusePrivateAddresses: ctx.config.mode === 'production',
  });
  const reading = readExchange(exchange, call.sequence, ctx.config.mode === 'test');
  ctx.log.info(
    {
      msn,
      reference,
      authorizationAttemptId: call.attemptId,
      sequence: call.sequence,
      outcome: reading.outcome,
      durationMs: exchange.durationMs,
    },
    'card callback answered',
  );
  const now = () => ctx.clock.now(msn);
  const { outcome, events } = await finishUnderLock(ctx, msn, reference, async (tx, payment) => {
    const attempt = (await findAttempt(tx, call.attemptId)) as CardAttempt;
    const record = (result: Parameters<typeof completeCardCallback>[2]['result']) =>
      completeCardCallback(tx, call.callbackId, {
        durationMs: exchange.durationMs,
        httpStatus: exchange.httpStatus,
        responseBody: exchange.body === null ? null : exchange.body.slice(0, 2000),
        outcome: reading.outcome,
        retryable: reading.retryable,
        error: reading.error,
        result,
      });
    if (payment.state !== 'CREATED' || (attempt.stage !== 'calling' && attempt.stage !== 'completing')) {
      await record('too-late');
      await setAttemptStage(tx, attempt.id, 'too-late', now());
      return { outcome: tooLate(payment), events: 0 };
    }
    return applyVerdict(tx, payment, attempt, reading.verdict, record, now());
  });
  if (events > 0) deps.onEvents();
  return outcome;
}

/**
 * The second transaction. Waiting for the row lock can time out (6160) when a merchant call holds it;
 * the answer is already here and must not be lost, so it tries again a few times.
 */
async function finishUnderLock<T>(
  ctx: ServerContext,
  msn: string,
  reference: string,
  work: (tx: Queryable, payment: Payment) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withLockedPayment(ctx.db, msn, reference, () => ctx.clock.now(msn), work);
    } catch (error) {
      if (!(error instanceof DomainError && error.errorName === 'orderProcessing') || attempt >= 5) throw error;
    }
  }
}

async function applyVerdict(
  tx: Queryable,
  payment: Payment,
  attempt: CardAttempt,
  verdict: Verdict,
  record: (result: 'authorized' | 'retry' | 'soft-decline' | 'aborted') => Promise<void>,
  now: Date,
): Promise<{ outcome: CardOutcome; events: number }> {
  switch (verdict.kind) {
    case 'reserve': {
      const written = await applyTransition(tx, await reservation(tx, payment, attempt, now), now);
      if (attempt.origin === 'app') await recordManualApproval(tx, attempt.phone);
      await setAttemptStage(tx, attempt.id, 'reserved', now);
      await record('authorized');
      return { outcome: { kind: 'authorized' }, events: written.length };
    }
    case 'soft-decline': {
      const until = Math.min(now.getTime() + SOFT_DECLINE_WINDOW_MS, payment.expiresAt.getTime());
      await updatePayment(tx, { ...payment, processingUntil: new Date(until) });
      await setAttemptStage(tx, attempt.id, 'soft-declined', now, verdict.softDeclineUrl);
      await record('soft-decline');
      return { outcome: { kind: 'soft-decline', softDeclineUrl: verdict.softDeclineUrl }, events: 0 };
    }
    case 'retry': {
      const written = await applyTransition(
        tx,
        { payment: { ...payment, processingUntil: null }, events: [failedAuthorization(attempt.amount)] },
        now,
      );
      await recordAuthorizationAttempt(tx, payment.id, attempt.phone, attempt.cardId, verdict.message, now);
      await setAttemptStage(tx, attempt.id, 'failed', now);
      await record('retry');
      return { outcome: { kind: 'retry', message: verdict.message }, events: written.length };
    }
    case 'abort': {
      const written = await applyTransition(tx, abortAfterFailure(payment, attempt.amount, now), now);
      await recordAuthorizationAttempt(tx, payment.id, attempt.phone, attempt.cardId, verdict.message, now);
      await setAttemptStage(tx, attempt.id, 'aborted', now);
      await record('aborted');
      return { outcome: { kind: 'aborted', message: verdict.message }, events: written.length };
    }
  }
}

/** A PSP callback failure is recorded as the AUTHORIZED event with `success: false` (open question 12). */
function failedAuthorization(amount: number): NewEvent {
  return { name: 'AUTHORIZED', amount, idempotencyKey: null, success: false };
}

/** Non-retryable: the failed authorization, then ABORTED (open question 22). */
function abortAfterFailure(payment: Payment, amount: number, now: Date): Transition {
  const aborted = abortPayment(payment, now);
  return { payment: aborted.payment, events: [failedAuthorization(amount), ...aborted.events] };
}

/** RESERVE: the state machine's authorization, as an approval in the app would make it (approvePayment.ts). */
async function reservation(tx: Queryable, payment: Payment, attempt: CardAttempt, now: Date): Promise<Transition> {
  const unit = await findSalesUnit(tx, payment.msn);
  if (!unit) throw new DomainError('approveFailed', `Sales unit ${payment.msn} no longer exists.`);
  const user = await findUser(tx, attempt.phone);
  const card = user?.cards.find((c) => c.id === attempt.cardId);
  const scopes = scopesOf(payment);
  const createKey = await createKeyOf(tx, payment);
  return authorizePayment(
    payment,
    unit,
    {
      amount: attempt.amount,
      idempotencyKey: createKey,
      // From the masked card number the callback carried (first 8 digits), 6 by default (open question 19).
      cardBin: card ? cardBinOf(maskedNumberOf(card)) : null,
      captureGuaranteedDays: card?.guaranteeDays ?? 7,
      profileSub: scopes.length > 0 && user ? await subFor(tx, payment.msn, user.phone) : null,
      userDetails: user ? userDetailsFor(user, scopes) : null,
      shippingDetails: attempt.shipping?.details ?? null,
      customerPhone: attempt.phone,
    },
    now,
  );
}
