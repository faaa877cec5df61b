/**
 * A real webhook receiver on a loopback port for the webhook tests. Every request is recorded with its
 * raw body; `answer` decides per request what the receiver does: a status, a delay, hang (never
 * answer), or reset the connection. `waitFor` resolves as soon as the recorded requests satisfy a
 * condition (no sleeping), or fails after a bound.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  /** Path and query as the receiver saw them. */
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed webhook payload, checked field by field in the tests
  body: any;
  /** What the receiver did; `status` of 2xx means accepted. */
  answer: Answer;
  /** performance.now() when the request had been read. */
  at: number;
}

export type Answer = { status: number; delayMs?: number } | { hang: true } | { reset: true };

export type AnswerPolicy = (request: Omit<ReceivedWebhook, 'answer'>, index: number) => Answer;

export const accept: AnswerPolicy = () => ({ status: 200 });

export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  answer: AnswerPolicy;
  readonly #server: http.Server;
  readonly #waiters = new Set<() => void>();
  #open = 0;
  #path: string;
  #port = 0;

  private constructor(answer: AnswerPolicy, path: string) {
    this.answer = answer;
    this.#path = path;
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
        const seen = { path: req.url ?? '', headers: req.headers, rawBody, body, at: performance.now() };
        const answer = this.answer(seen, this.requests.length);
        this.requests.push({ ...seen, answer });
        if ('reset' in answer) {
          req.socket.resetAndDestroy();
          this.#notify();
          return;
        }
        if ('hang' in answer) {
          this.#open += 1;
          res.on('close', () => {
            this.#open -= 1;
          });
          this.#notify();
          return;
        }
        this.#notify();
        const send = () => {
          res.writeHead(answer.status, { 'content-type': 'text/plain' });
          res.end(answer.status < 300 ? 'ok' : 'no');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  static async start(options: { answer?: AnswerPolicy; path?: string; port?: number } = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options.answer ?? accept, options.path ?? '/webhooks/kassa');
    await receiver.listen(options.port ?? 0);
    return receiver;
  }

  /** Listens (again) on `port` (0 = any free port). */
  async listen(port = this.#port): Promise<void> {
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection (a receiver that went down). */
  async stop(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  close(): Promise<void> {
    return this.stop();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}${this.#path}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Requests that are still waiting for an answer (hanging). */
  get openRequests(): number {
    return this.#open;
  }

  /** Requests answered with 2xx. */
  get accepted(): ReceivedWebhook[] {
    return this.requests.filter((r) => 'status' in r.answer && r.answer.status < 300);
  }

  /** Payload names accepted for one payment reference, in arrival order. */
  namesFor(reference: string): string[] {
    return this.accepted.filter((r) => r.body?.reference === reference).map((r) => r.body.name);
  }

  async waitFor(what: string, condition: (receiver: WebhookReceiver) => boolean, timeoutMs = 15_000): Promise<void> {
    if (condition(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition(this)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${this.requests.length} requests`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
