/**
 * The logging hook. The go-live checklist asks for "proper logging": for every failed call the endpoint,
 * the headers without secrets, the request body, the status, the error code and message, and the traceId
 * (platform-guidelines §15.1). The SDK hands each such record to a function the merchant supplies, so it
 * lands in whatever log system they use; `jsonLinesLogger` writes JSON lines.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevel;
  /** Stable, machine-readable name, e.g. `http.attempt_failed`, `http.failed`, `token.fetched`. */
  event: string;
  message: string;
  [field: string]: unknown;
}

export type Logger = (entry: LogEntry) => void;

export const silentLogger: Logger = () => {};

/** One JSON object per line, with a timestamp (e.g. to stdout for a container's log collector). */
export function jsonLinesLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  options: { minLevel?: LogLevel; now?: () => number } = {},
): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(options.minLevel ?? 'info');
  const now = options.now ?? Date.now;
  return (entry) => {
    if (order.indexOf(entry.level) < min) return;
    write(`${JSON.stringify({ time: new Date(now()).toISOString(), ...entry })}\n`);
  };
}

/** Header names whose values never reach a log (compared case-insensitively). */
export const SECRET_HEADERS = ['authorization', 'client_secret', 'ocp-apim-subscription-key', 'cookie', 'set-cookie'];

export const REDACTED = '[REDACTED]';

/**
 * Body members whose values never reach a log: credentials for a person (a check-in's customer token,
 * the content of a personal QR, a landing-page token), at any depth.
 */
export const SECRET_BODY_MEMBERS = ['customerToken', 'qrCode', 'token'];

/** A copy of a request body that is safe to log. */
export function redactBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactBody);
  if (body === null || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body).map(([name, value]) => [name, SECRET_BODY_MEMBERS.includes(name) ? REDACTED : redactBody(value)]),
  );
}

/** A copy of `headers` that is safe to log: secrets replaced, the auth scheme kept for diagnosis. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!SECRET_HEADERS.includes(name.toLowerCase())) safe[name] = value;
    else if (name.toLowerCase() === 'authorization') safe[name] = `${value.split(' ')[0] ?? ''} ${REDACTED}`.trim();
    else safe[name] = REDACTED;
  }
  return safe;
}
