/**
 * Time for the SDK: the clock and the timers behind token expiry, request timeouts, retry back-off,
 * polling and deadlines. Injected everywhere, so tests (the SDK's and the merchant's) move time with a
 * ManualScheduler instead of sleeping.
 */

export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on the scheduler's clock. */
export function sleep(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => {
    scheduler.setTimeout(resolve, Math.max(0, ms));
  });
}

interface PendingTimer {
  id: number;
  due: number;
  callback: () => void;
}

/**
 * A scheduler whose time only moves when told to. `advance(ms)` fires the due timers in time order and
 * lets the promise chains they start run before firing the next one.
 */
export class ManualScheduler implements Scheduler {
  #now: number;
  #timers: PendingTimer[] = [];
  #nextId = 1;

  constructor(startMs = Date.parse('2026-01-05T09:00:00.000Z')) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Timers not yet fired, e.g. to assert that a poll or a retry is waiting. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Delays (from now) of the pending timers, soonest first. */
  pendingDelays(): number[] {
    return this.#timers.map((timer) => timer.due - this.#now).sort((a, b) => a - b);
  }

  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#timers.filter((timer) => timer.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#now = next.due;
      next.callback();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets queued promise callbacks (and anything they chain synchronously) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
