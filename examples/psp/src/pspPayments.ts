/**
 * The PSP's own record of each payment, kept in memory (a real PSP keeps it in its database): what the
 * merchant asked for, what the acquirer authorized, captured and refunded, what the platform reported
 * (webhooks), the card callback attempts and their 3-D Secure challenges, and a history for support.
 */
import { randomUUID } from 'node:crypto';
import type { Amount } from '@kassa/sdk';

export type PlatformState = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED';

export interface Challenge {
  id: string;
  attemptId: string;
  /** Where the browser goes when the cardholder is done (the callback's softDeclineCompletedRedirectUrl). */
  completedRedirectUrl: string;
  result: 'pending' | 'approved' | 'denied';
  /** What the page shows of the card: the masked number and type only. */
  card?: { maskedCardNumber: string; cardType: string };
}

export interface PspPayment {
  /** The PSP's own id, sent as `cardPassthrough.pspReference` and echoed in every card callback. */
  pspReference: string;
  /** The ePayment `reference` (the merchant's order reference). */
  reference: string;
  merchantSerialNumber: string;
  amount: Amount;
  returnUrl: string;
  redirectUrl: string | null;
  /** The platform's state, as its webhooks and our callbacks tell it. */
  state: PlatformState;
  authorizationId: string | null;
  /** What the merchant captured and refunded, as reported to the platform. */
  captured: number;
  refunded: number;
  cancelled: boolean;
  /** Challenges by card callback attempt id. */
  challenges: Map<string, Challenge>;
  /** Platform webhooks received (deduplicated by event key): name, success, amount. */
  webhooks: { name: string; success: boolean; amount: number; pspReference: string }[];
  history: { at: string; event: string; detail: string }[];
  /** Reports to the platform that failed for good, to send again with the same key. */
  pendingReports: { operation: 'capture' | 'refund' | 'cancel'; value: number; idempotencyKey: string }[];
  operations: number;
}

export class PspPayments {
  readonly #byPspReference = new Map<string, PspPayment>();
  readonly #byReference = new Map<string, PspPayment>();
  readonly #challenges = new Map<string, { payment: PspPayment; challenge: Challenge }>();

  add(fields: Pick<PspPayment, 'reference' | 'merchantSerialNumber' | 'amount' | 'returnUrl'>): PspPayment {
    const payment: PspPayment = {
      ...fields,
      pspReference: `psp-${randomUUID()}`,
      redirectUrl: null,
      state: 'CREATED',
      authorizationId: null,
      captured: 0,
      refunded: 0,
      cancelled: false,
      challenges: new Map(),
      webhooks: [],
      history: [],
      pendingReports: [],
      operations: 0,
    };
    this.#byPspReference.set(payment.pspReference, payment);
    this.#byReference.set(key(payment.merchantSerialNumber, payment.reference), payment);
    return payment;
  }

  forget(payment: PspPayment): void {
    this.#byPspReference.delete(payment.pspReference);
    this.#byReference.delete(key(payment.merchantSerialNumber, payment.reference));
  }

  byPspReference(pspReference: string): PspPayment | undefined {
    return this.#byPspReference.get(pspReference);
  }

  byReference(merchantSerialNumber: string, reference: string): PspPayment | undefined {
    return this.#byReference.get(key(merchantSerialNumber, reference));
  }

  addChallenge(payment: PspPayment, attemptId: string, completedRedirectUrl: string): Challenge {
    const challenge: Challenge = { id: randomUUID(), attemptId, completedRedirectUrl, result: 'pending' };
    payment.challenges.set(attemptId, challenge);
    this.#challenges.set(challenge.id, { payment, challenge });
    return challenge;
  }

  challenge(id: string): { payment: PspPayment; challenge: Challenge } | undefined {
    return this.#challenges.get(id);
  }

  note(payment: PspPayment, event: string, detail: string): void {
    payment.history.push({ at: new Date().toISOString(), event, detail });
  }
}

const key = (msn: string, reference: string) => `${msn}|${reference}`;

/** The JSON a merchant sees of a payment (GET /api/payments/{reference}). */
export function paymentView(payment: PspPayment, authorization: unknown) {
  return {
    pspReference: payment.pspReference,
    reference: payment.reference,
    merchantSerialNumber: payment.merchantSerialNumber,
    amount: payment.amount,
    redirectUrl: payment.redirectUrl,
    state: payment.state,
    captured: payment.captured,
    refunded: payment.refunded,
    cancelled: payment.cancelled,
    authorization,
    webhooks: payment.webhooks,
    pendingReports: payment.pendingReports,
    history: payment.history,
  };
}
