/**
 * Time control (test mode): moves the global clock or one sales unit's clock, forward only, and keeps
 * every server process's Clock in step with the offsets in the database.
 *
 * A change commits under one lock and notifies CLOCK_CHANNEL with the new offsets; every process
 * applies the notification as it arrives, without a query, and records the version it has applied
 * (clock_listeners). The changing call answers once every live process has applied the change, so a
 * request that follows it meets the new time in whichever process it reaches. A process that does not
 * confirm within ECHO_WAIT_MS (it hangs or died without cleaning up) does not hold the change longer.
 * Every few seconds each process reloads the offsets, which repairs a notification lost with a
 * dropped connection, and confirms it is alive.
 *
 * Offsets are layered: a unit's time = global time + its own offset. Advancing global time moves every
 * unit by the same amount. Setting global time to T brings every unit that is behind T to T and leaves
 * the ones already past T where they are, so no unit's time ever goes back.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, SharedOffsets } from '../clock.ts';
import { HttpProblem, ValidationError } from '../errors.ts';
import {
  CLOCK_CHANNEL,
  changeClockOffsets,
  clockListenersBehind,
  loadClockOffsets,
  noteClockListener,
  removeClockListener,
} from '../store/controlStore.ts';
import type { Database } from '../store/database.ts';

/** Far enough for any deadline of the platform (365-day refunds), near enough for dates to stay sane. */
export const MAX_OFFSET_MS = 100 * 365 * 86_400_000;
const RELOAD_MS = 5000;
/** A process that has not confirmed within three reloads counts as gone. */
const ALIVE_MS = 3 * RELOAD_MS;
/** The longest a change waits for the other processes to confirm it. */
const ECHO_WAIT_MS = 2000;
const ECHO_POLL_MS = 5;

/** The listener id of each clock kept in step by startClockSync (a clock not synced waits for nobody). */
const listenerOf = new WeakMap<Clock, string>();

export type ClockChange = { msn?: string; advanceMs: number } | { msn?: string; setTo: Date };

/** The offsets after `change`, with `baseMs` this process's time before shared offsets (real time + advance()). */
export function offsetsAfter(
  current: SharedOffsets,
  change: ClockChange,
  baseMs: number,
): { globalMs: number; units: Map<string, number> } {
  const units = new Map(current.units);
  let globalMs = current.globalMs;
  const unitMs = change.msn === undefined ? 0 : (units.get(change.msn) ?? 0);
  if ('advanceMs' in change) {
    if (change.msn === undefined) globalMs += change.advanceMs;
    else units.set(change.msn, unitMs + change.advanceMs);
  } else {
    const nowMs = baseMs + globalMs + unitMs;
    const targetMs = change.setTo.getTime();
    if (targetMs < nowMs) {
      const whose = change.msn === undefined ? 'Global time' : `The time of sales unit ${change.msn}`;
      throw new HttpProblem(
        409,
        'Conflict',
        `The clock only moves forward: ${whose} is already ${new Date(nowMs).toISOString()}, after ${change.setTo.toISOString()}.`,
      );
    }
    if (change.msn !== undefined) units.set(change.msn, targetMs - baseMs - globalMs);
    else {
      const newGlobalMs = targetMs - baseMs;
      // Units already past the new global time stay where they are; the rest arrive at it.
      for (const [msn, ms] of units) units.set(msn, Math.max(0, globalMs + ms - newGlobalMs));
      globalMs = newGlobalMs;
    }
  }
  for (const [msn, ms] of units) if (ms === 0) units.delete(msn);
  const largest = globalMs + Math.max(0, ...units.values());
  if (largest > MAX_OFFSET_MS) {
    const field = 'advanceMs' in change ? 'advanceSeconds' : 'set';
    throw new ValidationError([{ name: field, reason: 'The clock can run at most 100 years ahead of real time.' }]);
  }
  return { globalMs, units };
}

/**
 * Applies a change in the database and in this process's clock, and returns the new offsets once
 * every live process has applied them too (or ECHO_WAIT_MS has passed).
 */
export async function changeClock(db: Database, clock: Clock, change: ClockChange, changedBy: string): Promise<SharedOffsets> {
  // Real time plus the process's own advance(): what the shared offsets are added to.
  const baseMs = clock.wallNowMs() + clock.offsetMs - clock.sharedOffsets.globalMs;
  const offsets = await changeClockOffsets(db, (current) => offsetsAfter(current, change, baseMs), changedBy);
  clock.applyShared(offsets);
  const listener = listenerOf.get(clock);
  if (listener) {
    await noteClockListener(db, listener, offsets.version);
    const until = clock.wallNowMs() + ECHO_WAIT_MS;
    while ((await clockListenersBehind(db, offsets.version, ALIVE_MS)) > 0 && clock.wallNowMs() < until) {
      await new Promise((resolve) => setTimeout(resolve, ECHO_POLL_MS));
    }
  }
  return offsets;
}

function parsePayload(payload: string): SharedOffsets | { version: number } | null {
  try {
    const parsed = JSON.parse(payload) as { version?: unknown; globalMs?: unknown; units?: Record<string, number> };
    if (typeof parsed.version !== 'number') return null;
    if (typeof parsed.globalMs !== 'number' || !parsed.units) return { version: parsed.version };
    return { version: parsed.version, globalMs: parsed.globalMs, units: new Map(Object.entries(parsed.units)) };
  } catch {
    return null;
  }
}

/** Loads the shared offsets into `clock` and keeps them current until the returned stop() is called. */
export async function startClockSync(db: Database, clock: Clock, onError: (error: unknown) => void): Promise<() => Promise<void>> {
  const listener = `${process.pid}-${randomUUID()}`;
  let stopped = false;
  const confirm = () => noteClockListener(db, listener, clock.sharedOffsets.version);
  const reload = () =>
    loadClockOffsets(db)
      .then((offsets) => {
        clock.applyShared(offsets);
        return confirm();
      })
      .catch((error) => {
        if (!stopped) onError(error);
      });
  await reload();
  listenerOf.set(clock, listener);
  const unlisten = await db.listen(CLOCK_CHANNEL, (payload) => {
    const announced = parsePayload(payload);
    if (announced && 'globalMs' in announced) {
      clock.applyShared(announced);
      confirm().catch((error) => {
        if (!stopped) onError(error);
      });
    } else if (!announced || announced.version > clock.sharedOffsets.version) void reload();
  });
  const timer = setInterval(() => void reload(), RELOAD_MS);
  timer.unref();
  return async () => {
    stopped = true;
    listenerOf.delete(clock);
    clearInterval(timer);
    await unlisten().catch(() => {});
    await removeClockListener(db, listener).catch(() => {});
  };
}

export interface ClockView {
  /** Real time. */
  wallClock: string;
  global: { now: string; offsetMs: number };
  salesUnits: { msn: string; now: string; offsetMs: number; aheadOfGlobalMs: number }[];
}

/** The clock as GET /kassa/v1/clock shows it: global time, and the time of each of `msns` (default: every unit that runs ahead). */
export function clockView(clock: Clock, msns?: readonly string[]): ClockView {
  const wallMs = clock.wallNowMs();
  const globalMs = clock.offsetMs;
  const units = msns ?? [...clock.unitOffsets().keys()].sort();
  return {
    wallClock: new Date(wallMs).toISOString(),
    global: { now: new Date(wallMs + globalMs).toISOString(), offsetMs: globalMs },
    salesUnits: units.map((msn) => {
      const aheadMs = clock.unitOffsets().get(msn) ?? 0;
      return { msn, now: new Date(wallMs + globalMs + aheadMs).toISOString(), offsetMs: globalMs + aheadMs, aheadOfGlobalMs: aheadMs };
    }),
  };
}
