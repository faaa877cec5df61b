/**
 * The card callback endpoint (epayment-api §17.3): the platform POSTs the card when the user confirms
 * in the app and waits at most 20 seconds for the answer.
 *
 * 1. Verify the signature over the raw bytes against `cardCallbackUrl` as registered, keyed with our
 *    client secret — a bad one gets 401 and no card data is looked at.
 * 2. Find our payment by `pspReference`; the amount and the merchant must be the ones we created it with.
 * 3. Read the card: a network token as is, or the PAN decrypted with our private key. The card data
 *    is used for the acquirer call only — never logged, never stored.
 * 4. Ask the acquirer: approved → RESERVE; declined → FAIL (retryable if another card may work); strong
 *    customer authentication needed → SOFT_DECLINE with our 3-D Secure page. The second callback of the
 *    attempt (after that page) is answered RESERVE or FAIL only.
 */
import type { KeyObject } from 'node:crypto';
import { type CardCallbackResponse, decryptPan, type Logger, verifyCardCallback, type WebhookHeaders } from '@kassa/sdk';
import type { SimulatedAcquirer } from './acquirer.ts';
import type { PspPayments } from './pspPayments.ts';

export interface CardCallbackContext {
  payments: PspPayments;
  acquirer: SimulatedAcquirer;
  clientSecret: string;
  /** Our `cardCallbackUrl` exactly as sent in create requests. */
  callbackUrl: string;
  /** Where our 3-D Secure pages live. */
  publicUrl: string;
  privateKey: KeyObject | null;
  log: Logger;
}

const invalid = (errorMessage: string): CardCallbackResponse => ({ status: 'FAIL', errorCode: 71, errorMessage, retryable: false });

export function handleCardCallback(
  context: CardCallbackContext,
  headers: WebhookHeaders,
  rawBody: Buffer,
): { status: number; body: CardCallbackResponse | { error: string } } {
  const { payments, acquirer, log } = context;
  const verified = verifyCardCallback('POST', context.callbackUrl, headers, rawBody, context.clientSecret);
  if (!verified.ok) {
    log({ level: 'warn', event: 'card_callback.rejected', message: verified.message, reason: verified.reason });
    return { status: 401, body: { error: verified.reason } };
  }
  const request = verified.request;
  const payment = payments.byPspReference(request.pspReference);
  const answer = (body: CardCallbackResponse, detail: string) => {
    log({
      level: 'info',
      event: 'card_callback.answered',
      message: `${request.pspReference}: ${body.status} (${detail})`,
      pspReference: request.pspReference,
      authorizationAttemptId: request.authorizationAttemptId,
      status: body.status,
    });
    if (payment)
      payments.note(payment, `card_callback.${body.status.toLowerCase()}`, `attempt ${request.authorizationAttemptId}: ${detail}`);
    return { status: 200, body };
  };
  if (!payment) return answer(invalid('Unknown payment'), 'no payment with this pspReference');
  if (request.merchantSerialNumber !== payment.merchantSerialNumber) return answer(invalid('Wrong merchant'), 'merchant differs');
  if (request.amount.currency !== payment.amount.currency || request.amount.value !== payment.amount.value) {
    return answer(invalid('Wrong amount'), `amount ${request.amount.value} ${request.amount.currency} differs`);
  }

  const card = request.cardInfo;
  let last4 = card.maskedCardNumber.slice(-4);
  if (card.cardDataType === 'PAN') {
    if (!context.privateKey) return answer(invalid('No key for card numbers'), 'a PAN came but we registered no key');
    let pan: string;
    try {
      pan = decryptPan(card.encryptedPan as string, context.privateKey);
    } catch {
      return answer(invalid('Unreadable card number'), 'the PAN did not decrypt');
    }
    if (!/^\d{12,19}$/.test(pan) || !pan.endsWith(last4) || !pan.startsWith(card.maskedCardNumber.slice(0, 8))) {
      return answer(
        { status: 'FAIL', errorCode: 87, errorMessage: 'Invalid card number', retryable: true },
        'PAN and masked number differ',
      );
    }
    last4 = pan.slice(-4);
  }

  const challenge = payment.challenges.get(request.authorizationAttemptId);
  if (challenge && challenge.result !== 'approved') {
    // The second callback after our 3-D Secure page: only RESERVE or FAIL are valid answers (§17.3).
    return answer(
      { status: 'FAIL', errorCode: 94, errorMessage: '3-D Secure was not completed', retryable: true },
      `3-D Secure ${challenge.result}`,
    );
  }
  const decision = acquirer.authorize({
    last4,
    cardType: card.cardType,
    amount: request.amount,
    authenticated: challenge?.result === 'approved',
  });
  switch (decision.kind) {
    case 'approved':
      payment.authorizationId = decision.authorizationId;
      return answer(
        { status: 'RESERVE', networkTransactionReference: decision.networkTransactionReference },
        `authorization ${decision.authorizationId}`,
      );
    case 'declined':
      return answer(
        { status: 'FAIL', errorCode: decision.errorCode, errorMessage: decision.errorMessage, retryable: decision.retryable },
        decision.errorMessage,
      );
    case 'challenge': {
      if (challenge)
        return answer({ status: 'FAIL', errorCode: 94, errorMessage: 'Unhandled soft decline', retryable: false }, 'challenge again');
      const created = payments.addChallenge(payment, request.authorizationAttemptId, request.softDeclineCompletedRedirectUrl);
      created.card = { maskedCardNumber: card.maskedCardNumber, cardType: card.cardType };
      return answer({ status: 'SOFT_DECLINE', softDeclineUrl: `${context.publicUrl}/3ds/${created.id}` }, '3-D Secure required');
    }
  }
}
