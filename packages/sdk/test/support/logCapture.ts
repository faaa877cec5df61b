/** Collects the SDK's log entries and lets a test wait for, or subscribe to, entries of a kind. */
import type { LogEntry, Logger } from '../../src/logging.ts';

export interface LogCapture {
  logger: Logger;
  entries: LogEntry[];
  of(event: string): LogEntry[];
  /** The next entry of `event` logged from now on. */
  next(event: string): Promise<LogEntry>;
  /** Calls `listener` for each later entry of `event` until the returned function is called. */
  subscribe(event: string, listener: (entry: LogEntry) => void): () => void;
}

export function captureLogs(): LogCapture {
  const entries: LogEntry[] = [];
  const listeners = new Set<{ event: string; listener: (entry: LogEntry) => void }>();
  const capture: LogCapture = {
    entries,
    logger(entry) {
      entries.push(entry);
      for (const l of [...listeners]) if (l.event === entry.event) l.listener(entry);
    },
    of: (event) => entries.filter((entry) => entry.event === event),
    subscribe(event, listener) {
      const l = { event, listener };
      listeners.add(l);
      return () => listeners.delete(l);
    },
    next(event) {
      return new Promise((resolve) => {
        const unsubscribe = capture.subscribe(event, (entry) => {
          unsubscribe();
          resolve(entry);
        });
      });
    },
  };
  return capture;
}
