/**
 * Create payment (spec §5) in one transaction: the idempotency key first (§12.1), then the rules of
 * §5.2 in their order — 1–12 (pure), 13 reference uniqueness, 14 customer resolution, 15–16
 * availability — then the payment row and its CREATED event. A plain create (no customer to resolve, no
 * card passthrough) does all of it in one statement, since its rules need no database read before the
 * insert (plainCreate).
 *
 * Like capture/refund/cancel, a refusal (a 4xx, coded or a validation error) is stored against the key,
 * so the same key and request get the same 4xx again and a corrected request needs a new key
 * (platform-guidelines §3.3); retryable outcomes are not stored (open question 4). A body that fails
 * its schema never gets here: the route refuses it under the key (operations/refuseUnderKey.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CreatePaymentRequest } from '../api/epayment/schemas.ts';
import { DomainError, isDeterministicRefusal, type ValidationError } from '../errors.ts';
import { acceptCreate, type CreateContext, checkAvailability, customerToIdentify } from '../payments/createPaymentRules.ts';
import type { Payment } from '../payments/types.ts';
import type { CardPassthroughSetup } from '../psp/cardPassthroughSetup.ts';
import { type Database, PgError, pgErrorCode, type Queryable } from '../store/database.ts';
import { GroupCommit } from '../store/groupCommit.ts';
import {
  type ClaimedCreate,
  claimIdempotencyKey,
  findPayment,
  insertPayment,
  insertPaymentsClaimingKeys,
  type NewPayment,
  storeIdempotentResponse,
} from '../store/paymentsStore.ts';
import type { StoredOutcome } from './idempotency.ts';
import { resolveCustomer } from './resolveCustomer.ts';

export interface CreateCall extends CreateContext {
  /** The body, valid against CreatePaymentRequestSchema. */
  body: CreatePaymentRequest;
  idempotencyKey: string;
  /** Fingerprint of the request (method, path, canonical body) stored with the key. */
  fingerprint: string;
  /** The 201 body for a new payment, as it will be stored and replayed. */
  respond: (payment: Payment) => unknown;
  /** The Problem body of a refusal, as it will be stored and replayed. */
  problem: (error: DomainError | ValidationError) => unknown;
  /** PSP callers: the CARD_PASSTHROUGH setup checked with rule 16 and recorded with the payment (psp/cardPassthroughSetup.ts). */
  passthrough?: CardPassthroughSetup | undefined;
}

export interface CreateResult extends StoredOutcome {
  /** The payment this call created; null for a replay or a refusal (nothing new happened). */
  created: Payment | null;
}

const OPERATION = 'create';

/** Plain creates go to the database together (a group commit): the payment written, or null. */
const batches = new WeakMap<Database, GroupCommit<ClaimedCreate, Payment | null>>();
function batchOf(db: Database): GroupCommit<ClaimedCreate, Payment | null> {
  let batch = batches.get(db);
  if (!batch) {
    batch = new GroupCommit(async (creates) => {
      const written = new Map((await insertPaymentsClaimingKeys(db, creates)).map((p) => [p.pspReference, p]));
      return creates.map((c) => written.get(c.payment.pspReference) ?? null);
    });
    batches.set(db, batch);
  }
  return batch;
}

export async function createPayment(db: Database, call: CreateCall): Promise<CreateResult> {
  const msn = call.salesUnit.msn;
  const plain = plainCreate(call);
  if (plain) {
    // One statement, atomic without a transaction around it (shared with the creates that arrive in the
    // same turn, store/groupCommit.ts): claims the key (with the 201 to replay), inserts the payment and its
    // CREATED event. Nothing written means the key was used before or the reference exists; the general
    // path below tells which, in the spec's order.
    const body = call.respond({ id: 0, ...plain });
    const claim = { operation: OPERATION, key: call.idempotencyKey, fingerprint: call.fingerprint, status: 201, body };
    try {
      const payment = await batchOf(db).submit({ payment: plain, claim });
      if (payment) return { status: 201, body, created: payment };
    } catch (error) {
      // A concurrent request claimed the same key first; the general path waits for it and replays.
      if (pgErrorCode(error) !== PgError.uniqueViolation) throw error;
    }
  }
  const outcome = await db.transaction(async (tx): Promise<CreateResult | { refusal: DomainError }> => {
    // A concurrent identical request waits here on the key's unique index until this one commits.
    const existing = await claimIdempotencyKey(tx, msn, OPERATION, call.idempotencyKey, call.fingerprint, call.now);
    if (existing) {
      if (existing.fingerprint !== call.fingerprint) {
        return {
          refusal: new DomainError('idempotencyError', `The Idempotency-Key "${call.idempotencyKey}" already exists for another request.`),
        };
      }
      return { status: existing.status ?? 201, body: existing.body, created: null };
    }
    try {
      const payment = await insertNewPayment(tx, call);
      const body = call.respond(payment);
      await storeIdempotentResponse(tx, msn, OPERATION, call.idempotencyKey, 201, body);
      return { status: 201, body, created: payment };
    } catch (error) {
      if (!isDeterministicRefusal(error)) throw error;
      return refuse(tx, call, error);
    }
  });
  if ('refusal' in outcome) throw outcome.refusal;
  return outcome;
}

/** A refusal, stored against the key so that the same request gets it again. */
async function refuse(tx: Queryable, call: CreateCall, error: DomainError | ValidationError): Promise<CreateResult> {
  const body = call.problem(error);
  await storeIdempotentResponse(tx, call.salesUnit.msn, OPERATION, call.idempotencyKey, error.status, body);
  return { status: error.status, body, created: null };
}

/**
 * The payment of a create that passes rules 1–12 and 15–16 without reading the database (no customer
 * to resolve, no card passthrough to check); rule 13 is then the insert's own uniqueness. Null for
 * anything else, which takes the general path with its rules in the spec's order.
 */
function plainCreate(call: CreateCall): NewPayment | null {
  let accepted: ReturnType<typeof acceptCreate>;
  try {
    accepted = acceptCreate(call.body, call);
    if (customerToIdentify(accepted.request) || accepted.request.paymentMethod.type === 'CARD_PASSTHROUGH') return null;
    checkAvailability(accepted, call);
  } catch {
    return null;
  }
  return newPayment(call, accepted, null);
}

function referenceExists(reference: string): DomainError {
  return new DomainError('referenceExists', `A payment with reference "${reference}" already exists for this sales unit.`);
}

const createdEvent = (call: CreateCall, payment: NewPayment) =>
  ({ name: 'CREATED', amount: payment.amount, idempotencyKey: call.idempotencyKey, success: true }) as const;

async function insertNewPayment(tx: Queryable, call: CreateCall): Promise<Payment> {
  const { salesUnit, now } = call;
  const accepted = acceptCreate(call.body, call);
  const { request } = accepted;
  // 13. The reference is unique per MSN for ever, whatever became of the earlier payment (§12.2).
  if (await findPayment(tx, salesUnit.msn, request.reference)) throw referenceExists(request.reference);
  // 14. A customer named up-front must be a user who may pay this merchant.
  const identify = customerToIdentify(request);
  const user = identify ? await resolveCustomer(tx, identify, salesUnit.msn, now, request.minimumUserAge) : null;
  // 15–16.
  checkAvailability(accepted, call);
  const passthrough = request.paymentMethod.type === 'CARD_PASSTHROUGH' ? call.passthrough : undefined;
  await passthrough?.check(tx, request);
  const fields = newPayment(call, accepted, user);
  const payment = await insertPayment(tx, fields, createdEvent(call, fields));
  // Another request with the same reference (and another key) committed first.
  if (!payment) throw referenceExists(request.reference);
  await passthrough?.record(tx, payment);
  return payment;
}

function newPayment(call: CreateCall, accepted: ReturnType<typeof acceptCreate>, user: { phone: string } | null): NewPayment {
  const { request } = accepted;
  return {
    msn: call.salesUnit.msn,
    reference: request.reference,
    pspReference: randomUUID(),
    state: 'CREATED',
    currency: accepted.currency,
    amount: accepted.amount,
    aggregate: { authorized: 0, captured: 0, cancelled: 0, refunded: 0 },
    userFlow: request.userFlow,
    paymentMethodType: request.paymentMethod.type,
    cardBin: null,
    // PUSH_MESSAGE has no redirectUrl, hence no token (§5.4).
    redirectToken: request.userFlow === 'PUSH_MESSAGE' ? null : randomBytes(24).toString('base64url'),
    request: request as Record<string, unknown>,
    customerPhone: user?.phone ?? request.customer?.phoneNumber ?? null,
    createdAt: call.now,
    expiresAt: accepted.expiresAt,
    authorizedAt: null,
    captureDeadline: null,
    captureGuaranteedUntil: null,
    profileSub: null,
    userDetails: null,
    shippingDetails: null,
    processingUntil: null,
  };
}
