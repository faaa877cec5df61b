/**
 * Runs a call to its end on a ManualScheduler: whenever the SDK logs that it will retry, moves the clock
 * by exactly the wait it announced, so back-off and Retry-After are observed without sleeping.
 */
import type { ManualScheduler } from '../../src/scheduler.ts';
import type { LogCapture } from './logCapture.ts';

export async function driveRetries<T>(
  call: Promise<T>,
  scheduler: ManualScheduler,
  logs: LogCapture,
): Promise<{ result: T; waits: number[] }> {
  const waits: number[] = [];
  let advancing = Promise.resolve();
  const unsubscribe = logs.subscribe('http.attempt_failed', (entry) => {
    const wait = entry.retryInMs as number;
    waits.push(wait);
    // The SDK registers its sleep right after logging; advance once that has happened.
    advancing = advancing.then(() => new Promise((resolve) => setImmediate(resolve))).then(() => scheduler.advance(wait));
  });
  try {
    const result = await call;
    return { result, waits };
  } catch (error) {
    throw Object.assign(error as Error, { waits });
  } finally {
    unsubscribe();
  }
}
