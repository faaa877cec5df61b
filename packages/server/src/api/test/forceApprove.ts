/**
 * POST /epayment/v1/test/payments/{reference}/approve (spec §10): approves a CREATED payment without
 * the app, through the same domain operation as the wallet-app simulator. Refused in production mode
 * (404, as if the route did not exist). Rules, in order: a token must be the payment's own (10010);
 * Express payments are not supported (10060) whoever approves; only a CREATED, unexpired payment can
 * be approved (10010 naming the state — also for AUTHORIZED, as §10 says "otherwise 10010"); the
 * platform's "approve one payment by hand first" precondition (10030) applies only to sales units that
 * enable `requireManualApprovalFirst`; then the user's cards and the magic amounts of §16 decide
 * (10050, 10040, 10010), and a failed authorization leaves the payment CREATED for another attempt.
 * Amount 201 answers 200 — the user approved — while the issuer's answer stays unknown for an hour
 * (spec §16): the payment stays CREATED, refuses approvals (10010) and cancels (6250), then expires.
 *
 * §10 recommends requiring `token` or `customer`; an empty body is accepted here and approves as the
 * payment's own customer, or a test user of the sales unit's market, which is what tests want.
 */
import type { FastifyInstance } from 'fastify';
import { DomainError, HttpProblem } from '../../errors.ts';
import { approvePayment, createKeyOf } from '../../operations/approvePayment.ts';
import { withLockedPayment } from '../../operations/lockedPayment.ts';
import { resolveCustomer } from '../../operations/resolveCustomer.ts';
import { checkCustomer } from '../../payments/createPaymentRules.ts';
import type { Market, Payment } from '../../payments/types.ts';
import { forceApproveWithPsp } from '../../psp/pspApprovals.ts';
import type { Queryable } from '../../store/database.ts';
import { findUser, listUsers, type StoredUser } from '../../store/usersStore.ts';
import type { ApiDeps } from '../apiDeps.ts';
import { referenceOf, validatedEpaymentBody } from '../epayment/requestParts.ts';
import { type ForceApproveRequest, ForceApproveRequestSchema } from '../epayment/schemas.ts';

async function approvingUser(tx: Queryable, payment: Payment, body: ForceApproveRequest, market: Market, now: Date): Promise<StoredUser> {
  if (body.customer) return resolveCustomer(tx, body.customer, payment.msn, now, null);
  const known = payment.customerPhone ? await findUser(tx, payment.customerPhone) : null;
  if (known) return known;
  // With only the token, a test user of the sales unit's market approves (every seeded user may).
  const users = await listUsers(tx);
  const user = users.find((u) => u.market === market && u.cards.some((c) => c.outcome === 'approve')) ?? users[0];
  if (!user) throw new DomainError('approveFailed', 'There are no test users.');
  return user;
}

export function registerForceApprove(app: FastifyInstance, deps: ApiDeps): void {
  const { ctx } = deps;
  app.post('/epayment/v1/test/payments/:reference/approve', async (request, reply) => {
    if (ctx.config.mode !== 'test') {
      throw new HttpProblem(404, 'Not Found', 'Force approve exists only in the test environment.');
    }
    const caller = await deps.authenticate(request);
    const reference = referenceOf(request);
    const body = validatedEpaymentBody(request, ForceApproveRequestSchema, {});
    if (body.customer) checkCustomer(body.customer);
    const now = () => ctx.clock.now(caller.salesUnit.msn);
    const passthroughUser = await withLockedPayment(ctx.db, caller.salesUnit.msn, reference, now, async (tx, payment) => {
      if (body.token && body.token !== payment.redirectToken) {
        throw new DomainError('approveFailed', 'The token does not belong to this payment.');
      }
      if (payment.request.shipping) throw new DomainError('operationNotSupported', 'Force approve is not supported for Express payments.');
      if (payment.state === 'AUTHORIZED') throw new DomainError('approveFailed', 'The payment is already reserved (state AUTHORIZED).');
      if (payment.state !== 'CREATED')
        throw new DomainError('approveFailed', `Only CREATED payments can be approved; this one is ${payment.state}.`);
      // Both reads leave in one round trip (the connection pipelines).
      const [user, createKey] = await Promise.all([
        approvingUser(tx, payment, body, caller.salesUnit.market, now()),
        createKeyOf(tx, payment),
      ]);
      if (caller.salesUnit.settings.requireManualApprovalFirst && user.manualApprovals === 0) {
        throw new DomainError('identificationRequired', `Test user ${user.phone} must approve one payment in the app first.`);
      }
      // PSP card passthrough: the card callback runs after this transaction, never under the row lock.
      if (payment.paymentMethodType === 'CARD_PASSTHROUGH') return user;
      await approvePayment(tx, payment, caller.salesUnit, { user, manual: false, testMode: true, createKey }, now(), { commit: true });
      return null;
    });
    if (passthroughUser) await forceApproveWithPsp(deps, caller.salesUnit.msn, reference, passthroughUser);
    deps.onEvents();
    return reply.code(200).send();
  });
}
