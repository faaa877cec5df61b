/** The simulated acquirer's documented test rules and its ledger (README.md "Test cards"). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCA_THRESHOLD, SimulatedAcquirer } from '../src/acquirer.ts';

const nok = (value: number) => ({ currency: 'NOK', value });

test('the test rules: declines by card, fraud by amount, 3-D Secure above the threshold or for 202', () => {
  const acquirer = new SimulatedAcquirer();
  const authorize = (last4: string, value: number, authenticated = false) =>
    acquirer.authorize({ last4, cardType: 'VISA-DEBIT', amount: nok(value), authenticated });
  assert.deepEqual(authorize('0002', 1000), { kind: 'declined', errorCode: 82, errorMessage: 'Refused by issuer', retryable: true });
  assert.deepEqual(authorize('0003', 1000), { kind: 'declined', errorCode: 89, errorMessage: 'Insufficient funds', retryable: true });
  assert.deepEqual(authorize('0004', 1000), { kind: 'declined', errorCode: 86, errorMessage: 'Expired card', retryable: true });
  assert.deepEqual(authorize('1234', 183), { kind: 'declined', errorCode: 83, errorMessage: 'Suspected fraud', retryable: false });
  assert.deepEqual(authorize('1234', SCA_THRESHOLD), { kind: 'challenge' });
  assert.deepEqual(authorize('1234', 202), { kind: 'challenge' });
  assert.equal(authorize('1234', SCA_THRESHOLD, true).kind, 'approved');
  assert.equal(authorize('1234', SCA_THRESHOLD - 1).kind, 'approved');
});

test('the ledger: captures up to the authorization, refunds up to the captures, nothing after a void', () => {
  const acquirer = new SimulatedAcquirer();
  const decision = acquirer.authorize({ last4: '1234', cardType: 'VISA-DEBIT', amount: nok(10_000), authenticated: false });
  assert.equal(decision.kind, 'approved');
  const id = decision.kind === 'approved' ? decision.authorizationId : '';
  assert.equal(acquirer.capture(id, 6000).ok, true);
  assert.deepEqual(acquirer.capture(id, 5000), { ok: false, reason: 'only 4000 can still be captured' });
  assert.equal(acquirer.refund(id, 6000).ok, true);
  assert.deepEqual(acquirer.refund(id, 1), { ok: false, reason: 'only 0 can be refunded' });
  assert.equal(acquirer.void(id).ok, true);
  assert.deepEqual(acquirer.capture(id, 1), { ok: false, reason: 'the authorization is voided' });
  assert.deepEqual(acquirer.get(id), { id, amount: nok(10_000), captured: 6000, refunded: 6000, voided: true });
  assert.deepEqual(acquirer.capture('nope', 1), { ok: false, reason: 'no such authorization' });
});
