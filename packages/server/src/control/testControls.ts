/**
 * Starts test mode's time control and fault injection for one server process: the clock follows the
 * shared offsets, and the fault rules are loaded and kept current (docs/time-and-faults.md).
 * Production mode starts neither: its clock is real time and nothing is ever faulted.
 */
import type { ServerContext } from '../context.ts';
import type { ClaimedDelivery } from '../webhooks/types.ts';
import { startClockSync } from './clockOffsets.ts';
import { FaultRules } from './faultRules.ts';
import { webhookFaults } from './injectFaults.ts';

export interface TestControls {
  /** The webhook dispatcher's hook before an attempt (webhook faults). */
  beforeAttempt: (delivery: ClaimedDelivery, worker: string) => Promise<boolean>;
  stop(): Promise<void>;
}

/** Sets `ctx.faults` and keeps `ctx.clock` in step with the database until stop(). */
export async function startTestControls(ctx: ServerContext): Promise<TestControls> {
  const onError = (what: string) => (error: unknown) => ctx.log.error({ err: error }, what);
  const stopClockSync = await startClockSync(ctx.db, ctx.clock, onError('clock offsets could not be read'));
  const faults = new FaultRules(ctx.db, onError('fault rules could not be read'));
  await faults.start();
  ctx.faults = faults;
  return {
    beforeAttempt: webhookFaults(faults, ctx.db, ctx.clock),
    async stop() {
      await faults.stop();
      await stopClockSync();
    },
  };
}
