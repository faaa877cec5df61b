/**
 * `kassa start --workers N`: N server processes on one PostgreSQL, sharing the port through
 * node:cluster. Processes hold no state that correctness depends on (work queues are claimed with
 * SKIP LOCKED, idempotency and locks live in the database), so any process may answer any request;
 * the rate limits are counted by the primary for all of them (http/sharedRateLimits.ts).
 * A worker that dies is replaced. The embedded PGlite store belongs to one process and cannot be shared.
 */
import cluster from 'node:cluster';
import type { Config } from './config.ts';
import { serveRateLimits } from './http/sharedRateLimits.ts';

export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}

/** In the primary: forks the workers and resolves with their address once all listen. */
export function forkWorkers(config: Config, count: number, log: (line: string) => void): Promise<string> {
  if (!config.databaseUrl) {
    throw new Error('--workers needs PostgreSQL (DATABASE_URL): the embedded store serves one process only');
  }
  let stopping = false;
  serveRateLimits();
  const fork = () => cluster.fork({ KASSA_WORKERS: '1' });
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log(`worker ${worker.process.pid} exited (${signal ?? code}); starting a new one`);
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise((resolve) => {
    let listening = 0;
    cluster.on('listening', (_worker, address) => {
      listening += 1;
      if (listening === count) resolve(`http://${address.address ?? config.host}:${address.port}`);
    });
  });
}
