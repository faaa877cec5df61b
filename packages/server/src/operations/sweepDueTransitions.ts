/**
 * The background job of spec Appendix B.3: expires CREATED payments at `expiresAt` and cancels the
 * uncaptured remainder at the capture deadline. Claims rows with SKIP LOCKED, so several processes
 * share the work without doing anything twice.
 */
import type { Clock } from '../clock.ts';
import { transitionDueAt } from '../payments/stateMachine.ts';
import type { Database } from '../store/database.ts';
import { lockPaymentsDue } from '../store/paymentsStore.ts';
import { applyTransition } from './applyTransition.ts';

const BATCH = 100;

/** The clock as the sweeper reads it: each payment is due by the time of its own sales unit. */
export type SweepClock = Pick<Clock, 'now' | 'unitOffsets'>;

/**
 * One pass; returns how many payments moved. Each batch is one transaction. A payment a request holds
 * is skipped: that request applies the same transition itself under the lock (lockedPayment.ts), and
 * the transition is computed from the locked row, so it is never applied twice.
 */
export async function sweepDueTransitions(db: Database, clock: SweepClock): Promise<number> {
  let moved = 0;
  for (;;) {
    const { claimed, applied } = await db.transaction(async (tx) => {
      const due = await lockPaymentsDue(tx, clock.now(), BATCH, clock.unitOffsets());
      let applied = 0;
      for (const payment of due) {
        const at = clock.now(payment.msn);
        const transition = transitionDueAt(payment, at);
        if (!transition) continue;
        await applyTransition(tx, transition, at);
        applied += 1;
      }
      return { claimed: due.length, applied };
    });
    moved += applied;
    // A full batch of which nothing moved would be selected again: stop rather than spin.
    if (claimed < BATCH || applied === 0) return moved;
  }
}

/** Runs the sweep every `intervalMs` until stopped. */
export function startSweeper(db: Database, clock: SweepClock, onMoved: () => void, onError: (error: unknown) => void, intervalMs = 1000) {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      if ((await sweepDueTransitions(db, clock)) > 0) onMoved();
    } catch (error) {
      if (running) onError(error);
    }
    if (running) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return () => {
    running = false;
    clearTimeout(timer);
  };
}
