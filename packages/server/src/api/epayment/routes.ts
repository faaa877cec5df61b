/**
 * The ePayment API v1 (spec §3): create, get, events, capture, refund, cancel. Each handler turns a
 * request into one domain operation and its result into the platform's response.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CaptureFaultKind } from '../../control/types.ts';
import { DomainError, ValidationError } from '../../errors.ts';
import type { Caller } from '../../http/authenticate.ts';
import { duplicateKeysUnder } from '../../http/jsonBody.ts';
import { problemFor } from '../../http/problem.ts';
import { createPayment } from '../../operations/createPayment.ts';
import { fingerprint } from '../../operations/idempotency.ts';
import { type Modification, modifyPayment } from '../../operations/modifyPayment.ts';
import { readPayment } from '../../operations/readPayment.ts';
import { type Refusal, refuseUnderKey } from '../../operations/refuseUnderKey.ts';
import { cancelPayment, capturePayment, refundPayment } from '../../payments/stateMachine.ts';
import { cardPassthroughSetup } from '../../psp/cardPassthroughSetup.ts';
import type { ApiDeps } from '../apiDeps.ts';
import {
  idempotencyKeyOf,
  isSystemHeader,
  jsonBodyOf,
  pathOf,
  readReferenceOf,
  referenceOf,
  usableIdempotencyKeyOf,
  validatedEpaymentBody,
} from './requestParts.ts';
import { createPaymentResponse, eventResponse, getPaymentResponse, modificationResponse } from './responses.ts';
import { CancelRequestSchema, CreatePaymentRequestSchema, ModificationRequestSchema } from './schemas.ts';

export function registerEpaymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  // Each operation runs on the clock of the sales unit it acts for (time control, test mode).
  const clockOf = (caller: Caller) => () => ctx.clock.now(caller.salesUnit.msn);
  const links = () => ({ publicUrl: ctx.config.publicUrl, appScheme: ctx.config.appScheme });

  function sendOutcome(reply: FastifyReply, status: number, body: unknown) {
    return reply
      .code(status)
      .type(status >= 400 ? 'application/problem+json' : 'application/json')
      .send(body);
  }

  /**
   * The body against its schema. A body that fails it, sent with a usable Idempotency-Key, is refused
   * under that key (operations/refuseUnderKey.ts), unless only headers are wrong: the key's fingerprint
   * covers method, path and body, not headers.
   */
  async function validBody<S extends TSchema>(
    request: FastifyRequest,
    caller: Caller,
    schema: S,
    under: Pick<Refusal, 'operation' | 'conflict'>,
    whenEmpty?: unknown,
  ): Promise<Static<S>> {
    try {
      return validatedEpaymentBody(request, schema, whenEmpty);
    } catch (error) {
      const key = usableIdempotencyKeyOf(request);
      if (error instanceof ValidationError && key && !error.fields.every((field) => isSystemHeader(field.name))) {
        await refuseUnderKey(ctx.db, {
          ...under,
          msn: caller.salesUnit.msn,
          key,
          fingerprint: fingerprint('POST', pathOf(request), jsonBodyOf(request) ?? whenEmpty ?? null),
          now: clockOf(caller)(),
          problem: problemFor(error, request).problem,
        });
      }
      throw error;
    }
  }

  app.post('/epayment/v1/payments', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = await validBody(request, caller, CreatePaymentRequestSchema, { operation: 'create', conflict: 'idempotencyError' });
    const key = idempotencyKeyOf(request, true) as string;
    await deps.rateLimit(`w:create:${caller.salesUnit.msn}:${body.reference}`, 'write', caller.salesUnit.msn);
    const result = await createPayment(ctx.db, {
      salesUnit: caller.salesUnit,
      now: clockOf(caller)(),
      testMode: ctx.config.mode === 'test',
      isPsp: caller.keySet.kind === 'psp',
      duplicateMetadataKeys: duplicateKeysUnder(deps.rawBody(request), 'metadata'),
      body,
      idempotencyKey: key,
      fingerprint: fingerprint('POST', '/epayment/v1/payments', body),
      respond: (payment) => createPaymentResponse(payment, links()),
      problem: (error) => problemFor(error, request).problem,
      passthrough: cardPassthroughSetup(caller.keySet),
    });
    if (result.created) deps.onEvents();
    return sendOutcome(reply, result.status, result.body);
  });

  app.get('/epayment/v1/payments/:reference', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const reference = readReferenceOf(request);
    await deps.rateLimit(`r:get:${caller.subscriptionKey}:${reference}`, 'read', caller.salesUnit.msn);
    const { payment, moved } = await readPayment(ctx.db, caller.salesUnit.msn, reference, clockOf(caller), false);
    if (moved) deps.onEvents();
    return sendOutcome(reply, 200, getPaymentResponse(payment, links()));
  });

  app.get('/epayment/v1/payments/:reference/events', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const reference = readReferenceOf(request);
    await deps.rateLimit(`r:events:${caller.subscriptionKey}:${reference}`, 'read', caller.salesUnit.msn);
    const { events, moved } = await readPayment(ctx.db, caller.salesUnit.msn, reference, clockOf(caller), true);
    if (moved) deps.onEvents();
    return sendOutcome(reply, 200, events.map(eventResponse));
  });

  async function modify(
    request: FastifyRequest,
    reply: FastifyReply,
    caller: Caller,
    m: Omit<Modification, 'msn' | 'reference' | 'now' | 'respond' | 'problem' | 'fingerprint'> & { body: unknown },
  ) {
    const reference = referenceOf(request);
    await deps.rateLimit(`w:${m.operation}:${caller.salesUnit.msn}:${reference}`, 'write', caller.salesUnit.msn);
    const result = await modifyPayment(ctx.db, {
      ...m,
      msn: caller.salesUnit.msn,
      reference,
      now: clockOf(caller),
      fingerprint: fingerprint('POST', pathOf(request), m.body ?? null),
      respond: modificationResponse,
      problem: (error) => problemFor(error, request).problem,
    });
    if (result.events.length > 0) deps.onEvents();
    return sendOutcome(reply, result.status, result.body);
  }

  /** The modification amount must be in the payment currency and ≥ 1 (open question 18); decimals get 4040. */
  function checkedAmount(value: number, currency: string, paymentCurrency: string): number {
    if (currency !== paymentCurrency) {
      throw new ValidationError([
        { name: 'modificationAmount.currency', reason: `The currency must be the payment currency ${paymentCurrency}.` },
      ]);
    }
    if (value < 1) throw new ValidationError([{ name: 'modificationAmount.value', reason: 'The field Value must be >= 1.' }]);
    if (!Number.isInteger(value)) throw new DomainError('invalidAmount', 'Amounts are integers in minor units (øre/cents).');
    return value;
  }

  app.post('/epayment/v1/payments/:reference/capture', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = await validBody(request, caller, ModificationRequestSchema, {
      operation: 'capture',
      conflict: 'captureIdempotencyConflict',
    });
    const key = idempotencyKeyOf(request, true) as string;
    const { currency, value } = body.modificationAmount;
    return modify(request, reply, caller, {
      operation: 'capture',
      idempotencyKey: key,
      conflict: 'captureIdempotencyConflict',
      body,
      decide: (payment, at) => capturePayment(payment, caller.salesUnit, checkedAmount(value, currency, payment.currency), key, at),
      downstreamFailure: captureFailure(deps.captureFault(request)),
    });
  });

  app.post('/epayment/v1/payments/:reference/refund', async (request, reply) => {
    const caller = await deps.authenticate(request);
    const body = await validBody(request, caller, ModificationRequestSchema, {
      operation: 'refund',
      conflict: 'refundIdempotencyConflict',
    });
    const key = idempotencyKeyOf(request, true) as string;
    const { currency, value } = body.modificationAmount;
    return modify(request, reply, caller, {
      operation: 'refund',
      idempotencyKey: key,
      conflict: 'refundIdempotencyConflict',
      body,
      decide: (payment, at) =>
        refundPayment(payment, caller.salesUnit, checkedAmount(value, currency, payment.currency), key, at, ctx.config.mode === 'test'),
    });
  });

  app.post('/epayment/v1/payments/:reference/cancel', async (request, reply) => {
    const caller = await deps.authenticate(request);
    // An empty body, {}, null or no body at all are all accepted (spec §9.2).
    const body = await validBody(request, caller, CancelRequestSchema, { operation: 'cancel', conflict: 'idempotencyError' }, {});
    const key = idempotencyKeyOf(request, false);
    const cancelTransactionOnly = body.cancelTransactionOnly === true;
    return modify(request, reply, caller, {
      operation: 'cancel',
      idempotencyKey: key,
      conflict: 'idempotencyError',
      body: { cancelTransactionOnly },
      decide: (payment, at) => cancelPayment(payment, cancelTransactionOnly, key, at),
    });
  });
}

/** The acquirer's answer to a capture a fault makes fail (retryable with the same key: spec §8.3, §13.3). */
function captureFailure(kind: CaptureFaultKind | undefined): DomainError | undefined {
  if (kind === 'fundsUnavailable') {
    return new DomainError(
      'fundsUnavailable',
      'The reservation was released early and charging again failed. Retry later with the same Idempotency-Key.',
    );
  }
  if (kind === 'captureFailed') {
    return new DomainError('captureFailedTryLater', 'The capture failed at the acquirer. Retry with the same Idempotency-Key.');
  }
  return undefined;
}
