/**
 * GET payment and GET events. A payment whose time has come (expiry, capture deadline) is moved
 * first, so a read never shows a state the sweeper has merely not reached yet.
 */
import { DomainError } from '../errors.ts';
import { transitionDueAt } from '../payments/stateMachine.ts';
import type { Payment, PaymentEvent } from '../payments/types.ts';
import type { Database } from '../store/database.ts';
import { findPayment, findPaymentWithEvents, listEvents } from '../store/paymentsStore.ts';
import { withLockedPayment } from './lockedPayment.ts';

export async function readPayment(
  db: Database,
  msn: string,
  reference: string,
  now: () => Date,
  withEvents: boolean,
): Promise<{ payment: Payment; events: PaymentEvent[]; moved: boolean }> {
  const found = withEvents
    ? await findPaymentWithEvents(db, msn, reference)
    : await findPayment(db, msn, reference).then((p) => p && { payment: p, events: [] });
  if (!found) throw new DomainError('referenceNotFound', `No payment with reference "${reference}" for this sales unit.`);
  if (transitionDueAt(found.payment, now())) {
    const moved = await withLockedPayment(db, msn, reference, now, async (tx, current) => ({
      payment: current,
      events: withEvents ? await listEvents(tx, current.id) : [],
    }));
    return { ...moved, moved: true };
  }
  return { ...found, moved: false };
}
