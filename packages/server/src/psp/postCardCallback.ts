/**
 * One synchronous card callback POST (epayment-api §17.3): the platform waits at most 20 seconds
 * (KASSA_CARD_CALLBACK_TIMEOUT_MS, shorter only in tests) for the status line *and* the body, because
 * the answer is in the body. Redirects are not followed. Never throws: every outcome is a result the
 * caller records. The body sent holds card data, so nothing here logs.
 */
import { type LookupAddress, lookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { storableText } from '../store/storableText.ts';
import { isPrivateAddress } from '../webhooks/webhookUrl.ts';

/** The PSP's answer is read up to this size; a longer one is garbage. */
const MAX_ANSWER_BYTES = 64 * 1024;

export type TransportOutcome = 'answered' | 'timeout' | 'connect_error' | 'tls_error' | 'refused_address';

export interface CallbackExchange {
  outcome: TransportOutcome;
  httpStatus: number | null;
  /** The answer's body (answered only), cut at MAX_ANSWER_BYTES. */
  body: string | null;
  /** True when the body was longer than MAX_ANSWER_BYTES. */
  truncated: boolean;
  error: string | null;
  durationMs: number;
}

export interface CallbackPost {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Production mode: never connect to loopback or private addresses, whatever a name resolves to. */
  refusePrivateAddresses: boolean;
}

class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

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

function classify(error: Error & { code?: string }): TransportOutcome {
  if (error instanceof RefusedAddressError) return 'refused_address';
  const code = error.code ?? '';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code) || /SSL|TLS/.test(error.message)) {
    return 'tls_error';
  }
  return 'connect_error';
}

export function postCardCallback(post: CallbackPost): Promise<CallbackExchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Omit<CallbackExchange, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Math.round(performance.now() - started) });
    };
    const target = new URL(post.url);
    if (post.refusePrivateAddresses && isIP(target.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(target.hostname)) {
      finish({
        outcome: 'refused_address',
        httpStatus: null,
        body: null,
        truncated: false,
        error: `${target.hostname} is a private address`,
      });
      return;
    }
    const body = Buffer.from(post.body, 'utf8');
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(body.length) },
        agent: false,
        minVersion: 'TLSv1.2',
        ...(post.refusePrivateAddresses ? { lookup: publicOnlyLookup } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) {
            truncated = true;
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          // Stored with the attempt: a NUL the PSP sent must not fail that write.
          const text = storableText(Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'));
          finish({
            outcome: 'answered',
            httpStatus: response.statusCode ?? 0,
            body: text,
            truncated: truncated || size > MAX_ANSWER_BYTES,
            error: null,
          });
        });
        response.on('error', (error) =>
          finish({ outcome: 'connect_error', httpStatus: null, body: null, truncated: false, error: error.message }),
        );
      },
    );
    timer = setTimeout(() => {
      finish({
        outcome: 'timeout',
        httpStatus: null,
        body: null,
        truncated: false,
        error: `no complete answer within ${post.timeoutMs} ms`,
      });
      request.destroy();
    }, post.timeoutMs);
    request.on('error', (error: Error & { code?: string }) => {
      finish({
        outcome: classify(error),
        httpStatus: null,
        body: null,
        truncated: false,
        error: error.code ? `${error.code}: ${error.message}` : error.message,
      });
    });
    request.end(body);
  });
}
