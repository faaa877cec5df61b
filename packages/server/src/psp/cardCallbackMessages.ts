/**
 * The card callback's request and response bodies (epayment-api §17.3, platform-guidelines §18): the
 * request Kassa sends, the same request without card data for the record, and the PSP's answer read
 * strictly — anything that is not one of the three documented answers is garbage, and garbage is
 * treated like a 5xx: non-retryable.
 */
import { isValidHttpsUrl } from '../payments/urlRules.ts';
import { storableCopy } from '../store/storableText.ts';
import type { CardInfo } from './cardData.ts';

export interface CardCallbackRequest {
  pspReference: string;
  authorizationAttemptId: string;
  merchantSerialNumber: string;
  amount: { currency: string; value: number };
  /** Required in the request since June 2026 (spec §0.2). */
  softDeclineCompletedRedirectUrl: string;
  cardInfo: CardInfo;
}

/** What may be stored and shown: the request with the network token and the encrypted PAN removed. */
export function withoutCardData(request: CardCallbackRequest): Record<string, unknown> {
  const { networkToken: _token, encryptedPan: _pan, ...cardInfo } = request.cardInfo;
  return { ...request, cardInfo };
}

export type CardCallbackAnswer =
  | { status: 'RESERVE'; networkTransactionReference: string | null }
  | { status: 'FAIL'; errorCode: string | null; errorMessage: string | null; retryable: boolean }
  | { status: 'SOFT_DECLINE'; softDeclineUrl: string };

export type ParsedAnswer = { ok: true; answer: CardCallbackAnswer } | { ok: false; reason: string };

const optionalText = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : null;

/**
 * Reads the body of a 2xx answer. `sequence` 2 is the callback after 3-D Secure, which "must be
 * answered RESERVE or FAIL" (§17.3). A FAIL is retryable only when the PSP says so (`retryable: true`;
 * the spec says errors "can be marked retryable" without naming the field — Kassa's name, docs/psp.md).
 */
export function parseCardCallbackAnswer(text: string, sequence: 1 | 2, testMode: boolean): ParsedAnswer {
  let body: unknown;
  try {
    // Its texts end up in events and the app; a `\u0000` escape must not fail those writes.
    body = storableCopy(JSON.parse(text));
  } catch {
    return { ok: false, reason: 'the answer is not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'the answer is not a JSON object' };
  const answer = body as Record<string, unknown>;
  switch (answer.status) {
    case 'RESERVE':
      return { ok: true, answer: { status: 'RESERVE', networkTransactionReference: optionalText(answer.networkTransactionReference) } };
    case 'FAIL':
      if (answer.retryable !== undefined && typeof answer.retryable !== 'boolean') {
        return { ok: false, reason: 'retryable must be true or false' };
      }
      return {
        ok: true,
        answer: {
          status: 'FAIL',
          errorCode: optionalText(answer.errorCode),
          errorMessage: optionalText(answer.errorMessage),
          retryable: answer.retryable === true,
        },
      };
    case 'SOFT_DECLINE': {
      if (sequence === 2) return { ok: false, reason: 'the callback after 3-D Secure must be answered RESERVE or FAIL, not SOFT_DECLINE' };
      const url = answer.softDeclineUrl;
      if (typeof url !== 'string' || !isValidHttpsUrl(url, testMode)) {
        return { ok: false, reason: 'SOFT_DECLINE needs softDeclineUrl, an https:// URL of the PSP' };
      }
      return { ok: true, answer: { status: 'SOFT_DECLINE', softDeclineUrl: url } };
    }
    default:
      return { ok: false, reason: 'status must be RESERVE, FAIL or SOFT_DECLINE' };
  }
}

/** What the user is told about a FAIL (the app's "Payment failed: …"). */
export function failMessage(answer: Extract<CardCallbackAnswer, { status: 'FAIL' }>): string {
  const code = answer.errorCode ? ` (${answer.errorCode})` : '';
  return `The card was not accepted: ${answer.errorMessage ?? 'declined'}${code}.`;
}
