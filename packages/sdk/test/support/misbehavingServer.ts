/**
 * A small real HTTP server for the SDK's tests that misbehaves on purpose: per route, a script of answers
 * (503s, 429 with Retry-After, connection resets, answers that never come), used in order, the last one
 * repeating. It records every request as it arrived, so tests can check what each attempt sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void;

export interface MisbehavingServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests to `method path` only (the token endpoint excluded unless asked for). */
  requestsTo(method: string, path: string): RecordedRequest[];
  script(method: string, path: string, ...handlers: Handler[]): void;
  /** Resolves when `count` requests (token calls excluded) have arrived. */
  waitForRequests(count: number): Promise<void>;
  tokenCalls(): number;
  /** Answer of the token endpoint (default a token living `expires_in` 3600 s). */
  tokenAnswer: Handler;
  close(): Promise<void>;
}

let tokenCounter = 0;

export const respond =
  (status: number, body?: unknown, headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const type = status >= 400 && body && typeof body === 'object' && 'title' in body ? 'application/problem+json' : 'application/json';
    response.writeHead(status, { ...(text ? { 'Content-Type': type } : {}), ...headers });
    response.end(text);
  };

/** An RFC 7807 Problem as the platform sends it (epayment-api §13). */
export const problem = (status: number, title: string, code?: number, headers: Record<string, string> = {}): Handler =>
  respond(
    status,
    {
      type: `https://httpstatuses.io/${status}`,
      title,
      status,
      detail: `${title} (test)`,
      instance: '/v1/payments/x',
      traceId: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      ...(code ? { extraDetails: [{ name: 'ErrorCode', reason: String(code) }] } : {}),
    },
    headers,
  );

/** Drops the connection without an answer (the client sees ECONNRESET / socket hang up). */
export const reset: Handler = (_request, response) => {
  response.socket?.destroy();
};

/** Never answers (until the server closes): for timeouts. */
export const hang: Handler = () => {};

export function tokenResponse(expiresIn: string | number = '3600'): Handler {
  return (_request, response) => {
    tokenCounter += 1;
    respond(200, {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: '0',
      expires_on: '1767603600',
      not_before: '1767600000',
      resource: '00000002-0000-0000-c000-000000000000',
      access_token: `token-${tokenCounter}`,
    })(_request, response);
  };
}

export async function startMisbehavingServer(): Promise<MisbehavingServer> {
  const scripts = new Map<string, Handler[]>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let tokens = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const apiRequests = () => requests.filter((r) => r.path !== '/accesstoken/get');

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      if (recorded.path === '/accesstoken/get') {
        tokens += 1;
        handle.tokenAnswer(recorded, res);
        return;
      }
      const key = `${recorded.method} ${recorded.path.split('?')[0]}`;
      const script = scripts.get(key);
      const handler = script && script.length > 1 ? (script.shift() as Handler) : script?.[0];
      if (handler) handler(recorded, res);
      else respond(404, { type: 'about:blank', title: 'Not Found', status: 404, traceId: 'none' })(recorded, res);
      const count = apiRequests().length;
      for (const waiter of waiters.filter((w) => w.count <= count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const handle: MisbehavingServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (method, path) => requests.filter((r) => r.method === method && r.path.split('?')[0] === path),
    script(method, path, ...handlers) {
      scripts.set(`${method} ${path}`, handlers);
    },
    waitForRequests(count) {
      if (apiRequests().length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    tokenCalls: () => tokens,
    tokenAnswer: tokenResponse(),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}
