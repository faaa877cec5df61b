/**
 * A webhook endpoint for the SDK's tests, on a loopback port: keeps every delivery exactly as received
 * (raw bytes and headers) and hands each to a handler — usually `verifyWebhook` — whose verdict decides
 * the answer (2xx accepted, 401 refused, so the sender retries).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  status: number;
}

export interface WebhookSink {
  /** The URL to register (path and query included). */
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

export async function startWebhookSink(
  path: string,
  handle: (delivery: Omit<Delivery, 'status'>, url: string) => number,
): Promise<WebhookSink> {
  const deliveries: Delivery[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks) };
      const status = handle(received, url);
      deliveries.push({ ...received, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return {
    url,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
