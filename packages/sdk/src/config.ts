/**
 * Client configuration, checked once at construction so a bad value fails before anything is sent.
 * The base URL is the only thing that differs between Kassa and the platform (platform-guidelines §0).
 */
import { ConfigurationError } from './errors.ts';
import { nodeHttpTransport, type Transport } from './httpTransport.ts';
import { type Logger, silentLogger } from './logging.ts';
import { defaultRetryOptions, type RetryOptions } from './retryPolicy.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export const TEST_BASE_URL = 'https://apitest.vipps.no';
export const PRODUCTION_BASE_URL = 'https://api.vipps.no';

export const SDK_VERSION = '0.1.0';

/**
 * Who is calling, sent as the four `Vipps-System-*` headers (§3.1): mandatory for partners, plugins and
 * platforms, recommended for everyone; each at most 30 characters.
 */
export interface SystemInfo {
  /** e.g. `acme` — "one word in lowercase is good". */
  name: string;
  /** e.g. `3.1.2`. */
  version: string;
  /** e.g. `acme-webshop`; defaults to `name` ("send the same values as the system pair", §3.1). */
  pluginName?: string;
  /** Defaults to `version`. */
  pluginVersion?: string;
}

export interface ClientConfig {
  /** `https://apitest.vipps.no`, `https://api.vipps.no`, or a Kassa server such as `http://127.0.0.1:7070`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The `Ocp-Apim-Subscription-Key` of the same key set as the client id (§1). */
  subscriptionKey: string;
  /** The sales unit acted for; required for partner and PSP keys, recommended for all (§3.1). Overridable per call. */
  merchantSerialNumber?: string;
  /** PSPs only: sent as `Psp-Id` on every call except the token call (§18). */
  pspId?: string;
  system?: SystemInfo;
  /** Per-attempt limits; defaults connect 5 s, total 30 s (§6.2, open question 27). */
  timeouts?: { connectMs?: number; totalMs?: number };
  retry?: Partial<RetryOptions>;
  logger?: Logger;
  scheduler?: Scheduler;
  /** Source of randomness for back-off jitter, in [0, 1). */
  random?: () => number;
  transport?: Transport;
  userAgent?: string;
}

export interface ResolvedConfig {
  baseUrl: URL;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  merchantSerialNumber: string | undefined;
  pspId: string | undefined;
  systemHeaders: Record<string, string>;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  retry: RetryOptions;
  logger: Logger;
  scheduler: Scheduler;
  random: () => number;
  transport: Transport;
  userAgent: string;
  isProduction: boolean;
}

const MSN_PATTERN = /^[0-9]{4,7}$/;
const SYSTEM_HEADER_MAX = 30;

export function checkMerchantSerialNumber(msn: string, what = 'merchantSerialNumber'): string {
  if (!MSN_PATTERN.test(msn)) throw new ConfigurationError(`${what} must be 4–7 digits (got "${msn}")`);
  return msn;
}

export function resolveConfig(config: ClientConfig): ResolvedConfig {
  let baseUrl: URL;
  try {
    baseUrl = new URL(config.baseUrl);
  } catch {
    throw new ConfigurationError(`baseUrl is not an absolute URL: "${config.baseUrl}"`);
  }
  if (baseUrl.protocol !== 'https:' && baseUrl.protocol !== 'http:')
    throw new ConfigurationError('baseUrl must use https (or http for a local Kassa)');
  for (const field of ['clientId', 'clientSecret', 'subscriptionKey'] as const) {
    if (typeof config[field] !== 'string' || config[field].length === 0) throw new ConfigurationError(`${field} is required`);
  }
  if (config.merchantSerialNumber !== undefined) checkMerchantSerialNumber(config.merchantSerialNumber);
  if (config.pspId !== undefined && config.pspId.trim() === '') throw new ConfigurationError('pspId must not be empty');

  const retry = { ...defaultRetryOptions, ...config.retry };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1)
    throw new ConfigurationError('retry.maxAttempts must be an integer ≥ 1');

  return {
    baseUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    subscriptionKey: config.subscriptionKey,
    merchantSerialNumber: config.merchantSerialNumber,
    pspId: config.pspId,
    systemHeaders: config.system ? systemHeaders(config.system) : {},
    connectTimeoutMs: config.timeouts?.connectMs ?? 5000,
    totalTimeoutMs: config.timeouts?.totalMs ?? 30_000,
    retry,
    logger: config.logger ?? silentLogger,
    scheduler: config.scheduler ?? systemScheduler,
    random: config.random ?? Math.random,
    transport: config.transport ?? nodeHttpTransport,
    userAgent: config.userAgent ?? `kassa-sdk/${SDK_VERSION} node/${process.versions.node}`,
    isProduction: baseUrl.origin === PRODUCTION_BASE_URL,
  };
}

/** The `Vipps-System-*` headers, each validated to the platform's 30 characters (§3.1). */
export function systemHeaders(system: SystemInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'Vipps-System-Name': system.name,
    'Vipps-System-Version': system.version,
    'Vipps-System-Plugin-Name': system.pluginName ?? system.name,
    'Vipps-System-Plugin-Version': system.pluginVersion ?? system.version,
  };
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigurationError(`${name} must not be empty`);
    if (value.length > SYSTEM_HEADER_MAX) {
      throw new ConfigurationError(`${name} must be at most ${SYSTEM_HEADER_MAX} characters (got ${value.length}: "${value}")`);
    }
  }
  return headers;
}
