/**
 * A simulated acquirer: where a real PSP would send the network token (or PAN) to its acquiring bank.
 * It decides by documented test rules, keeps a ledger of authorizations, and refuses captures, refunds
 * and voids the money does not allow. Replace this module with your acquirer's client.
 *
 * Test rules, first match wins (README.md):
 * | card number ends in / amount        | outcome                                                        |
 * | ----------------------------------- | -------------------------------------------------------------- |
 * | amount 183 (minor units)            | FAIL 83 "Suspected fraud", not retryable                        |
 * | card …0002                          | FAIL 82 "Refused by issuer", retryable (another card may work)  |
 * | card …0003                          | FAIL 89 "Insufficient funds", retryable                         |
 * | card …0004                          | FAIL 86 "Expired card", retryable                               |
 * | amount 202, or ≥ 100000 (1 000.00)  | strong customer authentication: 3-D Secure first (SOFT_DECLINE) |
 * | anything else                       | approved                                                        |
 * The error ids are the legacy Vipps PSP API's (platform-guidelines §19).
 */
import { randomUUID } from 'node:crypto';

export const SCA_THRESHOLD = 100_000;

export interface AuthorizationRequest {
  /** Last four digits of the card (from the masked number, or the decrypted PAN). */
  last4: string;
  cardType: string;
  amount: { currency: string; value: number };
  /** The cardholder passed 3-D Secure for this attempt. */
  authenticated: boolean;
}

export type AcquirerDecision =
  | { kind: 'approved'; authorizationId: string; networkTransactionReference: string }
  | { kind: 'declined'; errorCode: number; errorMessage: string; retryable: boolean }
  | { kind: 'challenge' };

export interface Authorization {
  id: string;
  amount: { currency: string; value: number };
  captured: number;
  refunded: number;
  voided: boolean;
}

export type LedgerResult = { ok: true; authorization: Authorization } | { ok: false; reason: string };

const declines: Record<string, { errorCode: number; errorMessage: string }> = {
  '0002': { errorCode: 82, errorMessage: 'Refused by issuer' },
  '0003': { errorCode: 89, errorMessage: 'Insufficient funds' },
  '0004': { errorCode: 86, errorMessage: 'Expired card' },
};

export class SimulatedAcquirer {
  readonly #authorizations = new Map<string, Authorization>();

  authorize(request: AuthorizationRequest): AcquirerDecision {
    if (request.amount.value === 183) return { kind: 'declined', errorCode: 83, errorMessage: 'Suspected fraud', retryable: false };
    const decline = declines[request.last4];
    if (decline) return { kind: 'declined', ...decline, retryable: true };
    const scaRequired = request.amount.value === 202 || request.amount.value >= SCA_THRESHOLD;
    if (scaRequired && !request.authenticated) return { kind: 'challenge' };
    const authorization: Authorization = { id: randomUUID(), amount: { ...request.amount }, captured: 0, refunded: 0, voided: false };
    this.#authorizations.set(authorization.id, authorization);
    return { kind: 'approved', authorizationId: authorization.id, networkTransactionReference: `ntr-${authorization.id.slice(0, 18)}` };
  }

  get(id: string): Authorization | undefined {
    const found = this.#authorizations.get(id);
    return found ? { ...found, amount: { ...found.amount } } : undefined;
  }

  capture(id: string, value: number): LedgerResult {
    return this.#change(id, (a) => {
      if (a.voided) return 'the authorization is voided';
      if (a.captured + value > a.amount.value) return `only ${a.amount.value - a.captured} can still be captured`;
      a.captured += value;
      return null;
    });
  }

  refund(id: string, value: number): LedgerResult {
    return this.#change(id, (a) => {
      if (a.refunded + value > a.captured) return `only ${a.captured - a.refunded} can be refunded`;
      a.refunded += value;
      return null;
    });
  }

  /** Releases what is not captured (a cancel, or a reservation the platform no longer knows). */
  void(id: string): LedgerResult {
    return this.#change(id, (a) => {
      if (a.voided) return null;
      a.voided = true;
      return null;
    });
  }

  #change(id: string, apply: (authorization: Authorization) => string | null): LedgerResult {
    const authorization = this.#authorizations.get(id);
    if (!authorization) return { ok: false, reason: 'no such authorization' };
    const refusal = apply(authorization);
    return refusal ? { ok: false, reason: refusal } : { ok: true, authorization: { ...authorization } };
  }
}
