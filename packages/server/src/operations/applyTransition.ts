/** Writes a state change: the payment row and its events, inside the caller's transaction. */

import type { PaymentEvent, Transition } from '../payments/types.ts';
import type { Queryable } from '../store/database.ts';
import { insertEvents, updatePayment } from '../store/paymentsStore.ts';

export async function applyTransition(tx: Queryable, transition: Transition, now: Date): Promise<PaymentEvent[]> {
  await updatePayment(tx, transition.payment);
  return insertEvents(tx, transition.payment, transition.events, now);
}
