/**
 * One HTTP POST of a webhook to a receiver (platform-guidelines §4.5): an answer with a 2xx status
 * within the deadline (10 s) is success; any other status (3xx included: redirects are not followed,
 * open question 5), a timeout, a refused or reset connection and a TLS failure are failures. Never
 * throws; every outcome is a result to record.
 */
import { type LookupAddress, lookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { isPrivateAddress } from './webhookUrl.ts';

export const RECEIVER_DEADLINE_MS = 10_000;

export type AttemptOutcome =
  | 'delivered'
  | 'http_error'
  | 'redirect'
  | 'timeout'
  | 'connect_error'
  | 'tls_error'
  | 'refused_address'
  /** Given up because the server is shutting down: not an attempt, the delivery goes back to the queue. */
  | 'aborted';

export interface AttemptResult {
  outcome: AttemptOutcome;
  httpStatus: number | null;
  error: string | null;
  /** From the start of the request to the response status line (or the failure). */
  durationMs: number;
}

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** Production mode: never connect to loopback or private addresses, whatever a name resolves to. */
  refusePrivateAddresses?: boolean;
  signal?: AbortSignal;
}

class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

/** DNS lookup that fails for names resolving to a private address (a public name can point anywhere). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((address) => isPrivateAddress(address.address));
    if (refused) return callback(new RefusedAddressError(`${hostname} resolves to ${refused.address}, a private address`), '', 0);
    const first = addresses[0] as LookupAddress;
    if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    else callback(null, first.address, first.family);
  });
};

function classify(error: Error & { code?: string }): AttemptOutcome {
  const code = error.code ?? '';
  if (error instanceof RefusedAddressError) return 'refused_address';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code) || /SSL|TLS/.test(error.message)) {
    return 'tls_error';
  }
  return 'connect_error';
}

/**
 * Connections to receivers are kept alive between attempts: under load a fresh TCP connection per
 * webhook costs more than the webhook. Production mode's sockets (checked against private addresses
 * when they connected) never serve test mode's calls, and the other way round.
 */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, refusePrivateAddresses: boolean): http.Agent {
  const name = `${protocol}${refusePrivateAddresses}`;
  let agent = agents.get(name);
  if (!agent) {
    // An idle connection is closed after 4 s: before Node's own servers drop theirs (5 s), so a receiver's
    // close rarely meets a new attempt, and receivers no longer written to do not keep sockets open.
    const options = { keepAlive: true, maxFreeSockets: 64, timeout: 4000 };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(name, agent);
  }
  return agent;
}

export async function postWebhook(request: WebhookRequest): Promise<AttemptResult> {
  const { staleConnection, ...result } = await attempt(request, true);
  if (!staleConnection) return result;
  // A kept-alive connection the receiver closed while it was idle fails before the request reached
  // anyone (Node's `reusedSocket`); that is not the receiver's failure, so it goes again on a new one.
  const { staleConnection: _, ...again } = await attempt(request, false);
  return again;
}

function attempt(request: WebhookRequest, reuse: boolean): Promise<AttemptResult & { staleConnection?: boolean }> {
  const timeoutMs = request.timeoutMs ?? RECEIVER_DEADLINE_MS;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'durationMs'> & { staleConnection?: boolean }) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, durationMs: elapsed() });
    };
    const target = new URL(request.url);
    if (request.refusePrivateAddresses && isIP(target.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(target.hostname)) {
      finish({ outcome: 'refused_address', httpStatus: null, error: `${target.hostname} is a private address` });
      return;
    }
    const body = Buffer.from(request.body, 'utf8');
    const options: https.RequestOptions = {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(body.length) },
      agent: reuse ? agentFor(target.protocol, request.refusePrivateAddresses === true) : false,
      minVersion: 'TLSv1.2',
      ...(request.refusePrivateAddresses ? { lookup: publicOnlyLookup } : {}),
    };
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(target, options, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) finish({ outcome: 'delivered', httpStatus: status, error: null });
      else if (status >= 300 && status < 400)
        finish({ outcome: 'redirect', httpStatus: status, error: `HTTP ${status}: redirects are not followed` });
      else finish({ outcome: 'http_error', httpStatus: status, error: `HTTP ${status}` });
      // The answer is the status; drain the body until the deadline, then let the socket go.
      res.resume();
      res.on('end', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      finish({ outcome: 'timeout', httpStatus: null, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
      done();
    }, timeoutMs);
    const onAbort = () => {
      finish({ outcome: 'aborted', httpStatus: null, error: 'the server is shutting down' });
      req.destroy();
    };
    function done() {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: Error & { code?: string }) => {
      const staleConnection = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      finish({
        outcome: classify(error),
        httpStatus: null,
        error: error.code ? `${error.code}: ${error.message}` : error.message,
        staleConnection,
      });
      done();
    });
    req.on('close', () => {
      if (settled) done();
    });
    req.end(body);
  });
}
