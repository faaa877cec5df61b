/**
 * What a card callback's exchange means for the payment (epayment-api §17.3, platform-guidelines §18).
 * Pure: from the transport result to a verdict.
 *
 * - `RESERVE` → authorize.
 * - `FAIL` marked retryable → the user may try again (a new authorizationAttemptId).
 * - `SOFT_DECLINE` (first callback only) → 3-D Secure at the PSP's `softDeclineUrl`.
 * - Everything else is non-retryable and the payment fails: a FAIL not marked retryable, "HTTP 500 or
 *   timeout" (§17.3) — and so any status other than 2xx, a refused or broken connection, and an
 *   answer that is not one of the three documented ones. Open question 22: the payment becomes ABORTED.
 */
import type { CallbackOutcome } from '../store/pspStore.ts';
import { type CardCallbackAnswer, failMessage, parseCardCallbackAnswer } from './cardCallbackMessages.ts';
import type { CallbackExchange } from './postCardCallback.ts';

export type Verdict =
  | { kind: 'reserve'; answer: Extract<CardCallbackAnswer, { status: 'RESERVE' }> }
  | { kind: 'retry'; message: string }
  | { kind: 'soft-decline'; softDeclineUrl: string }
  | { kind: 'abort'; message: string };

export interface ExchangeReading {
  verdict: Verdict;
  outcome: Exclude<CallbackOutcome, 'pending'>;
  retryable: boolean | null;
  /** Why the exchange failed, for the record (never card data). */
  error: string | null;
}

/** The spec's words to the user after a 5xx or timeout: check the status with the merchant (§17.3). */
export const CHECK_WITH_MERCHANT =
  'The payment could not be completed by the card processor. Check the status of your order with the store before you try again.';

export function readExchange(exchange: CallbackExchange, sequence: 1 | 2, testMode: boolean): ExchangeReading {
  const abort = (outcome: ExchangeReading['outcome'], error: string): ExchangeReading => ({
    verdict: { kind: 'abort', message: CHECK_WITH_MERCHANT },
    outcome,
    retryable: null,
    error,
  });
  if (exchange.outcome !== 'answered') return abort(exchange.outcome, exchange.error ?? exchange.outcome);
  const status = exchange.httpStatus ?? 0;
  if (status < 200 || status > 299) return abort('http_error', `HTTP ${status}`);
  if (exchange.truncated) return abort('invalid_response', 'the answer is longer than 64 KiB');
  const parsed = parseCardCallbackAnswer(exchange.body ?? '', sequence, testMode);
  if (!parsed.ok) return abort('invalid_response', parsed.reason);
  const { answer } = parsed;
  switch (answer.status) {
    case 'RESERVE':
      return { verdict: { kind: 'reserve', answer }, outcome: 'RESERVE', retryable: null, error: null };
    case 'SOFT_DECLINE':
      return {
        verdict: { kind: 'soft-decline', softDeclineUrl: answer.softDeclineUrl },
        outcome: 'SOFT_DECLINE',
        retryable: null,
        error: null,
      };
    case 'FAIL': {
      const message = failMessage(answer);
      return {
        verdict: answer.retryable ? { kind: 'retry', message } : { kind: 'abort', message },
        outcome: 'FAIL',
        retryable: answer.retryable,
        error: null,
      };
    }
  }
}
