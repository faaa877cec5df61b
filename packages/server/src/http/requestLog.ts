/**
 * Records every call to the platform's APIs (not the pages, the dashboard or /health) in the request
 * log: sales unit, endpoint, headers with secrets redacted, body, status, latency, idempotency key,
 * the Problem of a refusal. Entries are buffered and written in batches off the request path, so the
 * log costs the API one array push, not a database round trip.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import { insertRequestLog, type RequestLogEntry } from '../store/requestLogStore.ts';

const LOGGED_PREFIXES = ['/accesstoken/', '/epayment/', '/webhooks/', '/qr/', '/vipps-userinfo-api/', '/miami/', '/merchant-management/'];
const SECRET_HEADERS = new Set(['authorization', 'ocp-apim-subscription-key', 'client_secret', 'cookie']);
const FLUSH_MS = 200;
const MAX_BUFFER = 1000;

/** Header values safe to store: secrets become "[redacted]" (keeping the `Bearer` word, which the checklist looks at). */
export function redactHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (!SECRET_HEADERS.has(name)) out[name] = text;
    else out[name] = name === 'authorization' && text.startsWith('Bearer ') ? 'Bearer [redacted]' : '[redacted]';
  }
  return out;
}

/** What the handlers learned about a request that the log wants (set by authentication and fault injection). */
export interface RequestFacts {
  msn?: string;
  pspId?: string | null;
  clientId?: string;
  fault?: string;
  problem?: unknown;
}

const facts = new WeakMap<FastifyRequest, RequestFacts>();

export function noteRequestFacts(request: FastifyRequest, more: RequestFacts): void {
  facts.set(request, { ...facts.get(request), ...more });
}

export class RequestLogWriter {
  readonly #db: Database;
  readonly #onError: (error: unknown) => void;
  #buffer: RequestLogEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Database, onError: (error: unknown) => void) {
    this.#db = db;
    this.#onError = onError;
  }

  add(entry: RequestLogEntry): void {
    this.#buffer.push(entry);
    if (this.#buffer.length >= MAX_BUFFER) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when everything added so far is in the database. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#flushing = this.#flushing.then(() => this.#write(batch));
    return this.#flushing;
  }

  async #write(batch: RequestLogEntry[]): Promise<void> {
    try {
      await insertRequestLog(this.#db, batch);
    } catch (error) {
      // An entry the database refuses must not take the rest of its batch with it.
      let lost = false;
      for (const entry of batch) await insertRequestLog(this.#db, [entry]).catch(() => (lost = true));
      if (lost) this.#onError(error);
    }
  }
}

const CLIENT_CLOSED_REQUEST = 499;
const logged = new WeakSet<FastifyRequest>();

/** `now(msn)`: the time of the call's sales unit (time control moves it per unit in test mode). */
export function recordRequests(app: FastifyInstance, writer: RequestLogWriter, now: (msn?: string) => Date): void {
  // A client that gives up before the answer (a timeout, e.g. one injected by a fault) closes the
  // connection, and no onResponse follows: its call is logged with nginx's 499 "client closed request".
  app.addHook('onRequest', (request, reply, done) => {
    if (isLogged(request)) {
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) log(request, CLIENT_CLOSED_REQUEST, reply.elapsedTime);
      });
    }
    done();
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode >= 400 && typeof payload === 'string' && isLogged(request)) {
      try {
        noteRequestFacts(request, { problem: JSON.parse(payload) });
      } catch {}
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => log(request, reply.statusCode, reply.elapsedTime));

  function log(request: FastifyRequest, status: number, latencyMs: number): void {
    if (!isLogged(request) || logged.has(request)) return;
    logged.add(request);
    const known = facts.get(request) ?? {};
    const params = request.params as { reference?: string } | undefined;
    const problem = known.problem as { extraDetails?: { name: string; reason: string }[] } | undefined;
    const code = problem?.extraDetails?.find((d) => d.name === 'ErrorCode')?.reason;
    const idempotencyKey = request.headers['idempotency-key'];
    const body = request.body as Record<string, unknown> | undefined;
    writer.add({
      at: now(known.msn),
      msn: known.msn ?? null,
      pspId: known.pspId ?? null,
      clientId: known.clientId ?? null,
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
      path: request.url.split('?')[0] ?? '',
      reference: params?.reference ?? (typeof body?.reference === 'string' ? body.reference : null),
      status,
      latencyMs,
      idempotencyKey: typeof idempotencyKey === 'string' && idempotencyKey !== '' ? idempotencyKey : null,
      headers: redactHeaders(request.headers),
      body: body !== null && typeof body === 'object' ? body : undefined,
      problem: known.problem,
      errorCode: code ? Number(code) : null,
      fault: known.fault ?? null,
      traceId: request.id,
    });
  }
}

function isLogged(request: FastifyRequest): boolean {
  return LOGGED_PREFIXES.some((prefix) => request.url.startsWith(prefix));
}
