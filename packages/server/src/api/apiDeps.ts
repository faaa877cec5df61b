import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import type { CaptureFaultKind } from '../control/types.ts';
import type { Caller } from '../http/authenticate.ts';

/** What the API route modules are given by app.ts. */
export interface ApiDeps {
  ctx: ServerContext;
  authenticate(request: FastifyRequest): Promise<Caller>;
  /** Counts the call against the platform's per-reference limit, on the clock of sales unit `msn`; rejects with 429 (no-op when limits are off). */
  rateLimit(key: string, kind: 'read' | 'write', msn: string): Promise<void>;
  /** The raw text of a JSON body (for checks JSON.parse cannot make, e.g. duplicate metadata keys). */
  rawBody(request: FastifyRequest): string;
  /** A capture fault (test mode) fired for this call: the acquirer fails the capture once accepted. */
  captureFault(request: FastifyRequest): CaptureFaultKind | undefined;
  /** Events were committed: wake whatever delivers them (webhooks) without waiting for a poll. */
  onEvents(): void;
}
