/**
 * Properties of the pure state machine (spec §8, §9, §11) over many random histories: approvals,
 * rejections, captures, refunds, cancels, time passing beyond expiry, capture deadline and refund
 * window. After every step: each aggregate figure is the sum of its events, nothing exceeds what was
 * authorized, a final state never changes, a refusal changes nothing, and whatever the spec allows
 * actually succeeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { capturable, refundable } from '../src/payments/stateMachine.ts';
import type { Market, Payment } from '../src/payments/types.ts';
import {
  type Command,
  commandArbitrary,
  DAY,
  MINUTE,
  type Model,
  newModel,
  salesUnit,
  step,
  totalsOfEvents,
} from './support/paymentModel.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);
const T0 = new Date('2026-09-01T08:00:00Z');

function assertInvariants(model: Model): void {
  const { payment, events } = model;
  const { aggregate } = payment;
  assert.deepEqual(aggregate, totalsOfEvents(events), 'aggregate = sum of the event log');
  assert.ok(
    events.every((e) => e.success && e.amount > 0),
    'only successful, positive events',
  );
  for (const figure of Object.values(aggregate)) assert.ok(figure >= 0 && Number.isInteger(figure));
  switch (payment.state) {
    case 'AUTHORIZED':
      assert.ok(aggregate.captured + aggregate.cancelled <= aggregate.authorized, 'never more than authorized');
      assert.ok(aggregate.refunded <= aggregate.captured, 'never refund more than captured');
      assert.equal(aggregate.authorized, payment.amount);
      break;
    case 'TERMINATED':
      assert.deepEqual(aggregate, { authorized: 0, captured: 0, cancelled: payment.amount, refunded: 0 });
      break;
    default:
      // CREATED, ABORTED, EXPIRED: nothing reserved (open question 11).
      assert.deepEqual(aggregate, { authorized: 0, captured: 0, cancelled: 0, refunded: 0 });
  }
  const kinds = events.map((e) => e.name);
  assert.equal(kinds[0], 'CREATED');
  assert.ok(kinds.filter((n) => ['AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'].includes(n)).length <= 1, 'one final event');
}

const beforeDeadline = (p: Payment, now: Date) => p.captureDeadline === null || now < p.captureDeadline;
const withinRefundWindow = (p: Payment, now: Date) => p.authorizedAt !== null && now.getTime() < p.authorizedAt.getTime() + 365 * DAY;

/** What the spec says must happen to `before` under `command`, given the outcome the machine chose. */
function assertStep(model: Model, before: Payment, eventsBefore: number, command: Command, outcome: number | null): void {
  const { payment: after, events, now, unit } = model;
  const fresh = events.slice(eventsBefore);
  const delta = (figure: keyof Payment['aggregate']) => after.aggregate[figure] - before.aggregate[figure];
  // A final state never changes; CREATED only leaves for a final state.
  if (before.state !== 'CREATED') assert.equal(after.state, before.state, `${before.state} is final`);
  // A refusal is not an event (§11.5); only what time did before the command may have moved.
  if (outcome !== null) {
    assert.ok(
      fresh.every((e) => e.idempotencyKey === null && ['EXPIRED', 'CANCELLED'].includes(e.name)),
      JSON.stringify(fresh),
    );
  }
  if (command.kind === 'capture' && outcome === null) {
    assert.equal(delta('captured'), command.value);
    assert.deepEqual(fresh.at(-1), { name: 'CAPTURED', amount: command.value, idempotencyKey: 'k', success: true });
  }
  if (command.kind === 'refund' && outcome === null) {
    assert.equal(delta('refunded'), command.value);
    assert.notEqual(command.value, 123);
    assert.notEqual(command.value, 124);
  }
  if (command.kind === 'cancel' && outcome === null) {
    assert.ok(after.state === 'TERMINATED' || after.state === 'AUTHORIZED');
    assert.equal(capturable(after), 0, 'a cancel always releases the whole remainder');
  }
  if (outcome === 6090) assert.ok(command.kind === 'capture' && command.value > capturable(after));
  if (outcome === 6150) assert.ok(command.kind === 'refund' && command.value > refundable(after));
  // Once a command met the payment after its deadline, nothing can be captured any more: the
  // remainder was cancelled automatically (time alone moves nothing until someone looks).
  if (command.kind !== 'advance' && after.state === 'AUTHORIZED' && !beforeDeadline(after, now)) assert.equal(capturable(after), 0);

  // Liveness: what the spec allows is not refused (the state is read after time did its part).
  const p = after;
  if (command.kind === 'capture' && p.state === 'AUTHORIZED' && beforeDeadline(p, now) && p.aggregate.cancelled === 0) {
    if (command.value <= capturable(p) + (outcome === null ? command.value : 0) && !unit.settings.fullCaptureOnly) {
      assert.equal(outcome, null, `capture ${command.value} of ${JSON.stringify(before.aggregate)} refused with ${outcome}`);
    }
  }
  if (command.kind === 'refund' && p.state === 'AUTHORIZED' && unit.settings.refundAllowed && withinRefundWindow(p, now)) {
    const couldRefund = command.value <= refundable(p) + (outcome === null ? command.value : 0);
    if (couldRefund && command.value !== 123 && command.value !== 124) assert.equal(outcome, null, `refund refused with ${outcome}`);
  }
  if (command.kind === 'cancel' && before.state === 'CREATED' && after.state === 'CREATED' && outcome !== null) {
    // Only a user inside authorization, or expiry (handled above), stops a cancel of a CREATED payment.
    assert.equal(outcome, 6250);
    assert.ok(p.processingUntil && p.processingUntil > now);
  }
  if (command.kind === 'approve' && before.state === 'CREATED' && now < before.expiresAt) assert.equal(outcome, null);
}

const markets: Market[] = ['NO', 'DK', 'FI'];
const unitArbitrary = fc.record({
  market: fc.constantFrom(...markets),
  lateCapture: fc.boolean(),
  fullCaptureOnly: fc.boolean(),
  refundAllowed: fc.boolean(),
});
const anyAdvance = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(MINUTE, 10 * MINUTE, 14 * DAY, 180 * DAY, 365 * DAY) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 * DAY }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 * DAY }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 * MINUTE }) },
);

/** How often each command met each outcome, to show the runs exercise every rule (printed with PROPERTY_STATS=1). */
const seen = new Map<string, number>();

test(`random histories keep the aggregate equal to the events and within the authorization (${RUNS} runs)`, () => {
  const scenario = fc
    .record({
      unit: unitArbitrary,
      amount: fc.oneof(fc.integer({ min: 1, max: 65_000_000 }), fc.integer({ min: 100, max: 2000 })),
    })
    .chain(({ unit, amount }) =>
      fc.record({
        unit: fc.constant(unit),
        amount: fc.constant(amount),
        // Most histories start with the user's approval, so the long tail after it gets explored.
        commands: fc
          .tuple(
            fc.oneof({ weight: 4, arbitrary: fc.constant<Command[]>([{ kind: 'approve' }]) }, { weight: 1, arbitrary: fc.constant([]) }),
            fc.array(
              fc.oneof(
                { weight: 12, arbitrary: commandArbitrary(amount, anyAdvance) },
                { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 * MINUTE }).map((ms): Command => ({ kind: 'processing', ms })) },
              ),
              { maxLength: 40 },
            ),
          )
          .map(([start, rest]) => [...start, ...rest]),
      }),
    );
  fc.assert(
    fc.property(scenario, ({ unit, amount, commands }) => {
      const { market, ...settings } = unit;
      const model = newModel(salesUnit(market, settings), amount, T0);
      assertInvariants(model);
      for (const command of commands) {
        const before = structuredClone(model.payment);
        const eventsBefore = model.events.length;
        const frozen = structuredClone(model.payment);
        const outcome = step(model, command, 'k');
        const label = `${command.kind} → ${outcome ?? 'ok'}`;
        seen.set(label, (seen.get(label) ?? 0) + 1);
        assertInvariants(model);
        assertStep(model, before, eventsBefore, command, outcome);
        assert.deepEqual(before, frozen, 'the state machine never mutates its input');
      }
    }),
    { numRuns: RUNS },
  );
  if (process.env.PROPERTY_STATS) console.log([...seen].sort());
  if (RUNS < 1000) return;
  // Every rule of §8/§9 was met at least once, and so was success of every operation.
  for (const label of ['capture → ok', 'refund → ok', 'cancel → ok', 'approve → ok', 'reject → ok', 'capture → 6080', 'capture → 6070']) {
    assert.ok(seen.has(label), `never saw ${label}`);
  }
  for (const code of [6090, 6100, 6140, 6170, 6200]) assert.ok(seen.has(`capture → ${code}`), `never saw capture → ${code}`);
  for (const code of [5100, 6020, 6150, 6180, 6210, 6220]) assert.ok(seen.has(`refund → ${code}`), `never saw refund → ${code}`);
  for (const code of [6030, 6040, 6050, 6060, 6190, 6250]) assert.ok(seen.has(`cancel → ${code}`), `never saw cancel → ${code}`);
});

test('capture deadline and refund window by market (spec §11.6), from random authorization times', () => {
  fc.assert(
    fc.property(unitArbitrary, fc.integer({ min: 0, max: 9 * MINUTE }), ({ market, lateCapture }, delay) => {
      const model = newModel(salesUnit(market, { lateCapture }), 10000, T0);
      step(model, { kind: 'advance', ms: delay }, 'k');
      assert.equal(step(model, { kind: 'approve' }, 'k'), null);
      const days = market === 'NO' || lateCapture ? 180 : 14;
      assert.equal(model.payment.captureDeadline?.getTime(), T0.getTime() + delay + days * DAY);
      step(model, { kind: 'advance', ms: days * DAY - 1 }, 'k');
      assert.equal(step(model, { kind: 'capture', value: 4000 }, 'cap'), null);
      step(model, { kind: 'advance', ms: 1 }, 'k');
      assert.equal(step(model, { kind: 'capture', value: 1 }, 'late'), 6100);
      assert.equal(step(model, { kind: 'cancel', cancelTransactionOnly: false }, 'late'), 6030);
      assert.deepEqual(model.events.at(-1), { name: 'CANCELLED', amount: 6000, idempotencyKey: null, success: true });
      step(model, { kind: 'advance', ms: (365 - days) * DAY - 1 }, 'k');
      assert.equal(step(model, { kind: 'refund', value: 1000 }, 'ref'), null);
      step(model, { kind: 'advance', ms: 1 }, 'k');
      assert.equal(step(model, { kind: 'refund', value: 1000 }, 'ref'), 6220);
      assertInvariants(model);
    }),
    { numRuns: 200 },
  );
});
