/**
 * A loopback proxy in front of Kassa that answers 503 on chosen attempts, either without forwarding
 * (the request never reached Kassa) or after forwarding (Kassa acted, the answer was lost on the way
 * back — the case that shows whether a client repeats the same Idempotency-Key). Kassa's own fault
 * injection comes later; this is enough to compare clients.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus the ones fetch sets. */
const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
]);

export type Fault = 'none' | '503-before' | '503-after';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** 1-based count of requests with this method and path so far. */
  n: number;
  idempotencyKey: string | undefined;
  body: string;
  fault: Fault;
  /** What Kassa answered, when forwarded. */
  kassaStatus?: number;
  /** What the client got. */
  status: number;
}

export interface FaultProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startFaultProxy(
  target: string,
  plan: (request: { method: string; path: string; n: number }) => Fault,
): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const key = `${method} ${path.split('?')[0]}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const fault = plan({ method, path: path.split('?')[0] as string, n });
      const body = Buffer.concat(chunks);
      const record: ProxiedRequest = {
        method,
        path,
        n,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        body: body.toString('utf8'),
        fault,
        status: 0,
      };
      requests.push(record);
      const unavailable = () => {
        record.status = 503;
        res.writeHead(503, { 'Content-Type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'https://httpstatuses.io/503', title: 'Service Unavailable', status: 503, traceId: 'proxy' }));
      };
      if (fault === '503-before') return unavailable();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      let forwarded: Response;
      let text: string;
      try {
        forwarded = await fetch(target + path, { method, headers, ...(body.length > 0 ? { body } : {}) });
        text = await forwarded.text();
      } catch (error) {
        record.status = 502;
        res.writeHead(502).end(String(error));
        return;
      }
      record.kassaStatus = forwarded.status;
      if (fault === '503-after') return unavailable();
      record.status = forwarded.status;
      const type = forwarded.headers.get('content-type');
      res.writeHead(forwarded.status, type ? { 'Content-Type': type } : {});
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
