/**
 * One HTTP exchange, on Node's own `node:http`/`node:https` (no dependency). Node's `fetch` cannot time
 * the connect phase on its own, and the guidelines ask for two limits (platform-guidelines §6.2,
 * open question 27): connect 5 s — TCP and TLS handshake — and total 30 s for the whole exchange.
 * Timers run on the injected scheduler, so tests decide when a timeout fires.
 *
 * The transport sends exactly the bytes it is given; building a fresh body per attempt is the caller's
 * job (requestExecutor.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { NetworkError, TimeoutError } from './errors.ts';
import type { Scheduler } from './scheduler.ts';

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  scheduler: Scheduler;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
}

/** Anything that performs one exchange; rejects with NetworkError (or TimeoutError) when there is no answer. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export const nodeHttpTransport: Transport = (request) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const { url, scheduler } = request;
    const lib = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const headers = { ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(request.body));

    let settled = false;
    const timers: unknown[] = [];
    const finish = (error: Error | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) scheduler.clearTimeout(timer);
      if (error) reject(error);
      else resolve(response as HttpResponse);
    };

    const req = lib.request(url, { method: request.method, headers, agent });
    timers.push(scheduler.setTimeout(() => abort(new TimeoutError('total', request.totalTimeoutMs)), request.totalTimeoutMs));
    const abort = (error: NetworkError) => {
      finish(error);
      req.destroy(error);
    };

    req.on('socket', (socket) => {
      // A kept-alive socket is already connected; only a new one has a connect phase to time.
      const tls = url.protocol === 'https:';
      const connected = !socket.connecting && (!tls || (socket as import('node:tls').TLSSocket).encrypted);
      if (connected) return;
      const timer = scheduler.setTimeout(() => abort(new TimeoutError('connect', request.connectTimeoutMs)), request.connectTimeoutMs);
      timers.push(timer);
      socket.once(tls ? 'secureConnect' : 'connect', () => scheduler.clearTimeout(timer));
    });

    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        finish(undefined, { status: res.statusCode ?? 0, headers: responseHeaders, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => finish(networkError(error)));
      res.on('close', () => {
        if (!res.complete) finish(new NetworkError('The connection closed before the whole response arrived', 'ECONNRESET'));
      });
    });
    req.on('error', (error) => finish(error instanceof NetworkError ? error : networkError(error)));
    req.end(request.body);
  });

function networkError(error: Error): NetworkError {
  const code = (error as NodeJS.ErrnoException).code ?? 'NETWORK_ERROR';
  return new NetworkError(error.message, code, undefined, { cause: error });
}
