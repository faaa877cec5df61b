/**
 * The running server agrees with the pure state machine (spec §8, §9, §11, §12.1): random histories of
 * approve, reject, capture, refund, cancel, sweeps and time passing are sent over HTTP, and after every
 * step the server's answer (200 or the refusal code), GET payment and GET events must match the model
 * driven by stateMachine.ts; the aggregate must equal the event log, and a final state must stay final.
 * Every modification is sent twice with the same key: the second answer is the stored first one.
 * Fewer runs than the pure property test, since each step is several real requests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../src/errors.ts';
import { type Command, coarseSteps, commandArbitrary, newModel, salesUnit, step } from './support/paymentModel.ts';
import { cancel, capture, errorCodeOf, money, readConsistent, refund, rejectByUser } from './support/payments.ts';
import type { Reply } from './support/testServer.ts';
import { DK, FI, NO, startTestServer, type TestServer } from './support/testServer.ts';

const RUNS = Number(process.env.HTTP_PROPERTY_RUNS ?? 15);
const MAGIC_AUTHORIZATION_AMOUNTS = new Set([151, 182, 183, 184, 186, 187, 197, 201, 202]);

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const outcomeOf = (reply: Reply): number | null => {
  assert.ok(reply.status < 500, reply.text);
  return reply.status === 200 ? null : (errorCodeOf(reply) ?? -reply.status);
};

test(`random histories over HTTP match the state machine, GET matches the event log (${RUNS} runs)`, async () => {
  const scenario = fc
    .record({
      unit: fc.constantFrom(NO, DK, FI),
      amount: fc.integer({ min: 100, max: 200_000 }).filter((a) => !MAGIC_AUTHORIZATION_AMOUNTS.has(a)),
    })
    .chain(({ unit, amount }) =>
      fc.record({
        unit: fc.constant(unit),
        amount: fc.constant(amount),
        commands: fc
          .tuple(fc.boolean(), fc.array(commandArbitrary(amount, fc.constantFrom(...coarseSteps)), { maxLength: 12 }))
          .map(([approveFirst, rest]): Command[] => (approveFirst ? [{ kind: 'approve' }, ...rest] : rest)),
      }),
    );

  await fc.assert(
    fc.asyncProperty(scenario, async ({ unit, amount, commands }) => {
      const created = await server.createPayment({ amount: money(unit, amount) }, { unit });
      assert.equal(created.status, 201, created.text);
      const reference = created.reference;
      const model = newModel(salesUnit(unit.market), amount, server.clock.now());
      let finalState: string | null = null;

      for (const [i, command] of commands.entries()) {
        const key = `${reference}-${i}`;
        const expected = step(model, command, key);
        let actual: number | null = null;
        let sent: (() => Promise<Reply>) | null = null;
        switch (command.kind) {
          case 'advance':
            server.clock.advance(command.ms);
            break;
          case 'sweep':
            await server.sweep();
            break;
          case 'approve':
            actual = outcomeOf(await server.approve(reference, unit));
            break;
          case 'reject':
            actual = await rejectByUser(server, reference, unit).then(
              () => null,
              (error: unknown) => (error instanceof DomainError ? error.code : Promise.reject(error)),
            );
            break;
          case 'capture':
            sent = () => capture(server, reference, command.value, { unit, key });
            break;
          case 'refund':
            sent = () => refund(server, reference, command.value, { unit, key });
            break;
          case 'cancel':
            sent = () => cancel(server, reference, { unit, key, body: { cancelTransactionOnly: command.cancelTransactionOnly } });
            break;
          case 'processing':
            break;
        }
        if (sent) {
          const first = await sent();
          actual = outcomeOf(first);
          const again = await sent();
          assert.deepEqual([again.status, again.body], [first.status, first.body], 'a retry with the same key gets the stored answer');
        }
        assert.equal(actual, expected, `step ${i} ${JSON.stringify(command)}`);

        // A read applies what time did, as GET does on the server.
        step(model, { kind: 'sweep' }, key);
        const { payment, events } = await readConsistent(server, reference, unit);
        assert.equal(payment.state, model.payment.state, `state after step ${i}`);
        assert.deepEqual(
          {
            authorized: payment.aggregate.authorizedAmount.value,
            captured: payment.aggregate.capturedAmount.value,
            cancelled: payment.aggregate.cancelledAmount.value,
            refunded: payment.aggregate.refundedAmount.value,
          },
          model.payment.aggregate,
        );
        const describe = (name: string, value: number, idempotencyKey: string | null) =>
          `${name} ${value}${['CAPTURED', 'REFUNDED', 'CANCELLED', 'TERMINATED'].includes(name) ? ` ${idempotencyKey}` : ''}`;
        assert.deepEqual(
          events.map((e) => describe(e.name, e.amount.value, e.idempotencyKey)),
          model.events.map((e) => describe(e.name, e.amount, e.idempotencyKey)),
        );
        if (finalState) assert.equal(payment.state, finalState, 'a final state never changes');
        else if (payment.state !== 'CREATED') finalState = payment.state;
      }
    }),
    { numRuns: RUNS },
  );
});
