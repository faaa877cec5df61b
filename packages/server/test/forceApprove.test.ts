/**
 * Force approve, the test environment's stand-in for the user (spec §10, §16): it authorizes exactly
 * as the app does, and every refusal leaves the payment CREATED with no new event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { approvePayment } from '../src/operations/approvePayment.ts';
import { withLockedPayment } from '../src/operations/lockedPayment.ts';
import type { SalesUnit } from '../src/payments/salesUnits.ts';
import type { DemoSalesUnit } from '../src/seed.ts';
import { findSalesUnit } from '../src/store/merchantsStore.ts';
import { findUser } from '../src/store/usersStore.ts';
import { assertMatchesOpenApi } from './support/openapi.ts';
import {
  addSalesUnit,
  assertProblem,
  cancel,
  type EventBody,
  errorCodeOf,
  MINUTE,
  readConsistent,
  rejectByUser,
} from './support/payments.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const approvePath = (reference: string) => `/epayment/v1/test/payments/${reference}/approve`;

function tokenOf(redirectUrl: string): string {
  return new URL(redirectUrl).searchParams.get('token') ?? '';
}

/** The payment is still CREATED, with no event beyond CREATED. */
async function assertUntouched(reference: string, unit: DemoSalesUnit = NO): Promise<void> {
  const { payment, events } = await readConsistent(server, reference, unit);
  assert.equal(payment.state, 'CREATED');
  assert.deepEqual(
    events.map((e) => e.name),
    ['CREATED'],
  );
}

/** The wallet-app simulator's approval: the same operation force approve uses, with a chosen card. */
async function approveInApp(reference: string, phone: string, cardId: string | undefined, unit: DemoSalesUnit = NO) {
  const salesUnit = (await findSalesUnit(server.ctx.db, unit.msn)) as SalesUnit;
  const user = await findUser(server.ctx.db, phone);
  assert.ok(user);
  const now = () => server.clock.now();
  return withLockedPayment(server.ctx.db, unit.msn, reference, now, (tx, payment) =>
    approvePayment(tx, payment, salesUnit, { user, cardId, manual: true, testMode: true }, now()),
  );
}

describe('force approve succeeds (spec §10)', () => {
  test('with an empty body: 200, no body, and the payment AUTHORIZED as if approved in the app', async () => {
    const created = await server.createPayment({ amount: { currency: 'NOK', value: 25000 } });
    const reply = await server.approve(created.reference);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '');
    assertMatchesOpenApi('POST', approvePath(created.reference), 200, undefined);
    const { payment, events } = await readConsistent(server, created.reference);
    assert.equal(payment.state, 'AUTHORIZED');
    assert.equal(payment.aggregate.authorizedAmount.value, 25000);
    assert.equal(payment.paymentMethod.cardBin, '479694');
    assert.match(payment.captureGuaranteedUntil, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      events.map((e: EventBody) => [e.name, e.amount.value, e.success]),
      [
        ['CREATED', 25000, true],
        ['AUTHORIZED', 25000, true],
      ],
    );
    assert.equal(events[1]?.idempotencyKey, events[0]?.idempotencyKey, 'AUTHORIZED carries the create key (§7 example)');
    assert.notEqual(events[1]?.pspReference, payment.pspReference);
  });

  test('with the token of the redirectUrl, and profile data for the requested scopes', async () => {
    const created = await server.createPayment({ profile: { scope: 'name phoneNumber' } });
    const reply = await server.approve(created.reference, NO, { token: tokenOf(created.body.redirectUrl) });
    assert.equal(reply.status, 200, reply.text);
    const { payment } = await readConsistent(server, created.reference);
    assert.equal(payment.state, 'AUTHORIZED');
    assert.equal(typeof payment.profile.sub, 'string');
    assert.deepEqual(payment.userDetails, { firstName: 'Ola', lastName: 'Nordmann', mobileNumber: '4791234567' });
  });

  test('as a given customer, cross-border too', async () => {
    const created = await server.createPayment();
    const reply = await server.approve(created.reference, NO, { customer: { phoneNumber: '4511223344' } });
    assert.equal(reply.status, 200, reply.text);
    const { payment } = await readConsistent(server, created.reference);
    assert.equal(payment.paymentMethod.cardBin, '571200', 'the Danish user paid with the Dankort');
  });
});

describe('force approve refusals leave the payment CREATED (spec §10, §16)', () => {
  test('a token of another payment → 10010', async () => {
    const mine = await server.createPayment();
    const other = await server.createPayment();
    const reply = await server.approve(mine.reference, NO, { token: tokenOf(other.body.redirectUrl) });
    assertProblem(reply, 'POST', approvePath(mine.reference), 400, 10010);
    await assertUntouched(mine.reference);
  });

  for (const [amount, reason] of [
    [151, 'insufficient funds'],
    [182, 'refused by issuer'],
    [183, 'suspected fraud'],
    [184, 'withdrawal limit exceeded'],
    [186, 'expired card'],
    [187, 'invalid card'],
    [197, '3-D Secure denied'],
    [202, 'strong customer authentication required'],
  ] as const) {
    test(`magic amount ${amount} (${reason}) → 10010 with the reason; the user may retry until expiry`, async () => {
      const created = await server.createPayment({ amount: { currency: 'NOK', value: amount } });
      for (let attempt = 0; attempt < 2; attempt++) {
        const reply = await server.approve(created.reference);
        assertProblem(reply, 'POST', approvePath(created.reference), 400, 10010);
        assert.match(reply.body.detail, new RegExp(reason));
      }
      await assertUntouched(created.reference);
    });
  }

  test('magic amounts apply in every market (DKK 151)', async () => {
    const created = await server.createPayment({ amount: { currency: 'DKK', value: 151 } }, { unit: DK });
    assertProblem(await server.approve(created.reference, DK), 'POST', approvePath(created.reference), 400, 10010);
    await assertUntouched(created.reference, DK);
  });

  test('failing cards → 10010 and the payment stays CREATED; the working card then approves', async () => {
    const created = await server.createPayment();
    for (const [cardId, reason] of [
      ['no-mc-declined', 'declined'],
      ['no-visa-funds', 'insufficient funds'],
      ['no-mc-expired', 'expired'],
    ] as const) {
      await assert.rejects(approveInApp(created.reference, '4791234567', cardId), (error: { code?: number; detail?: string }) => {
        assert.equal(error.code, 10010);
        assert.match(error.detail ?? '', new RegExp(reason));
        return true;
      });
    }
    await assert.rejects(approveInApp(created.reference, '4791234567', 'no-such-card'), { code: 10040 });
    await assertUntouched(created.reference);
    await approveInApp(created.reference, '4791234567', 'no-visa');
    const { payment } = await readConsistent(server, created.reference);
    assert.equal(payment.state, 'AUTHORIZED');
  });

  test('a customer named badly is refused as on create: 4070 for a malformed phone number', async () => {
    const created = await server.createPayment();
    for (const phoneNumber of ['+47', '47 91 23 45 67']) {
      const reply = await server.approve(created.reference, NO, { customer: { phoneNumber } });
      assertProblem(reply, 'POST', approvePath(created.reference), 400, 4070);
    }
    await assertUntouched(created.reference);
  });

  test('a user without cards → 10050', async () => {
    const created = await server.createPayment();
    const reply = await server.approve(created.reference, NO, { customer: { phoneNumber: '4790000000' } });
    assertProblem(reply, 'POST', approvePath(created.reference), 400, 10050);
    await assertUntouched(created.reference);
  });

  test('a user below minimumUserAge → 10010', async () => {
    const created = await server.createPayment({ minimumUserAge: 18 });
    assert.equal(created.status, 201, created.text);
    const reply = await server.approve(created.reference, NO, { customer: { phoneNumber: '4798765432' } });
    assertProblem(reply, 'POST', approvePath(created.reference), 400, 10010);
    await assertUntouched(created.reference);
  });

  test('Express payments → 10060, by token or by customer', async () => {
    const created = await server.createPayment({
      profile: { scope: 'name address email phoneNumber' },
      shipping: {
        fixedOptions: [
          {
            brand: 'POSTEN',
            type: 'PICKUP_POINT',
            options: [{ id: 'pickup', name: 'Pick-up point', amount: { currency: 'NOK', value: 4900 } }],
          },
        ],
      },
    });
    assert.equal(created.status, 201, created.text);
    for (const body of [{}, { token: tokenOf(created.body.redirectUrl) }, { customer: { phoneNumber: '4791234567' } }]) {
      assertProblem(await server.approve(created.reference, NO, body), 'POST', approvePath(created.reference), 400, 10060);
    }
    await assertUntouched(created.reference);
  });

  test('10030 only where the sales unit requires one manual approval first', async () => {
    const unit = await addSalesUnit(server, 'DK', { requireManualApprovalFirst: true });
    const first = await server.createPayment({}, { unit });
    const reply = await server.approve(first.reference, unit, { customer: { phoneNumber: '4511223344' } });
    assertProblem(reply, 'POST', approvePath(first.reference), 400, 10030);
    await assertUntouched(first.reference, unit);
    // The user approves one payment by hand in the app; from then on force approve works.
    await approveInApp(first.reference, '4511223344', undefined, unit);
    const second = await server.createPayment({}, { unit });
    assert.equal((await server.approve(second.reference, unit, { customer: { phoneNumber: '4511223344' } })).status, 200);
    // The demo units do not require it: any test user may be force-approved straight away.
    const plain = await server.createPayment({}, { unit: DK });
    assert.equal((await server.approve(plain.reference, DK, { customer: { phoneNumber: '4511223344' } })).status, 200);
  });
});

describe('test amount 201: the result stays unknown for an hour (spec §16)', () => {
  test('200 — the user approved — then CREATED with no event, refusing answers (10010) and cancels (6250), until it expires an hour later', async () => {
    const created = await server.createPayment({ amount: { currency: 'NOK', value: 201 } });
    const reply = await server.approve(created.reference);
    assert.equal(reply.status, 200);
    await assertUntouched(created.reference);
    const again = await server.approve(created.reference);
    assertProblem(again, 'POST', approvePath(created.reference), 400, 10010);
    assert.match(again.body.detail, /not known yet/);
    await assert.rejects(approveInApp(created.reference, '4791234567', undefined), /not known yet/);
    assertProblem(await cancel(server, created.reference), 'POST', `/epayment/v1/payments/${created.reference}/cancel`, 409, 6250);
    // Long past the usual expiry of a payment request, it is still waiting for the issuer.
    server.clock.advance(59 * MINUTE);
    await server.sweep();
    await assertUntouched(created.reference);
    server.clock.advance(2 * MINUTE);
    await server.sweep();
    const { payment, events } = await readConsistent(server, created.reference);
    assert.equal(payment.state, 'EXPIRED');
    assert.deepEqual(
      events.map((e) => e.name),
      ['CREATED', 'EXPIRED'],
    );
  });
});

describe('force approve outside CREATED → 10010 naming the state', () => {
  test('AUTHORIZED, ABORTED, EXPIRED, TERMINATED', async () => {
    const authorized = await server.createPayment();
    assert.equal((await server.approve(authorized.reference)).status, 200);
    const aborted = await server.createPayment();
    await rejectByUser(server, aborted.reference);
    const terminated = await server.createPayment();
    assert.equal((await cancel(server, terminated.reference)).status, 200);
    const expired = await server.createPayment();
    server.clock.advance(10 * MINUTE);
    for (const [reference, state] of [
      [authorized.reference, 'AUTHORIZED'],
      [aborted.reference, 'ABORTED'],
      [expired.reference, 'EXPIRED'],
      [terminated.reference, 'TERMINATED'],
    ] as const) {
      const reply = await server.approve(reference);
      assertProblem(reply, 'POST', approvePath(reference), 400, 10010);
      assert.match(reply.body.detail, new RegExp(state));
      const { payment, events } = await readConsistent(server, reference);
      assert.equal(payment.state, state);
      assert.equal(events.filter((e) => e.name === 'AUTHORIZED').length, state === 'AUTHORIZED' ? 1 : 0);
    }
  });

  test('an unknown reference → 404/5090; a body that is not a ForceApprove request → 400', async () => {
    const unknown = 'no-such-payment-1';
    assertProblem(await server.approve(unknown), 'POST', approvePath(unknown), 404, 5090);
    const created = await server.createPayment();
    const bad = await server.approve(created.reference, NO, { token: 42 });
    assert.equal(bad.status, 400);
    assert.equal(errorCodeOf(bad), null);
    assertMatchesOpenApi('POST', approvePath(created.reference), 400, bad.body);
    await assertUntouched(created.reference);
  });
});
