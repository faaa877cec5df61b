/**
 * Structured JSON logs (pino, through Fastify). Secrets never reach them (platform-guidelines §15.1:
 * log everything "minus secrets"): requests are logged with method, path without query (landing
 * tokens travel in `?token=`), trace id and status only; headers and bodies are never logged, and the
 * redact list guards the fields that could carry a secret if someone logs such an object anyway.
 */
import pino, { type DestinationStream } from 'pino';

/** Field paths that may hold a client secret, subscription key, access token or landing token. */
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["ocp-apim-subscription-key"]',
  'req.headers.client_secret',
  'headers.authorization',
  'headers["ocp-apim-subscription-key"]',
  'headers.client_secret',
  'headers.Authorization',
  'headers["Ocp-Apim-Subscription-Key"]',
  'clientSecret',
  'client_secret',
  'subscriptionKey',
  'secret',
  'access_token',
  'accessToken',
  'token',
  'redirectToken',
  'redirectUrl',
  '*.clientSecret',
  '*.client_secret',
  '*.subscriptionKey',
  '*.access_token',
  '*.token',
  '*.redirectToken',
  '*.redirectUrl',
];

/** The path of a URL without its query string, which may carry a landing token. */
function pathOf(url: string): string {
  return url.split('?')[0] ?? url;
}

/** `destination` lets tests read what would be written (default: stdout). */
export function createLogger(level: string, destination?: DestinationStream) {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, path: pathOf(req.url), traceId: req.id }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
