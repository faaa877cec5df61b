/** Small formatting and request helpers shared by the landing page and the wallet-app simulator. */
import type { FastifyRequest } from 'fastify';

const locales: Record<string, string> = { en: 'en-GB', nb: 'nb-NO', da: 'da-DK', fi: 'fi-FI' };

/** Minor units as the app shows them, e.g. 49900 NOK → "NOK 499.00" (platform-guidelines §14: integers in minor units). */
export function formatAmount(value: number, currency: string, lang = 'en'): string {
  return new Intl.NumberFormat(locales[lang] ?? 'en-GB', { style: 'currency', currency }).format(value / 100);
}

export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function cookiesOf(request: FastifyRequest): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    try {
      jar[name] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {}
  }
  return jar;
}

export function cookie(name: string, value: string, options: { path: string; maxAgeSeconds?: number }): string {
  const age = options.maxAgeSeconds === undefined ? '' : `; Max-Age=${options.maxAgeSeconds}`;
  return `${name}=${encodeURIComponent(value)}; Path=${options.path}; HttpOnly; SameSite=Lax${age}`;
}

/** A query or form field as one string. */
export function field(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' ? text : undefined;
}

/** MSISDN as the platform writes it: digits only, country code first (platform-guidelines §0). */
export function normalizePhone(text: string): string {
  return text.replace(/[\s+()-]/g, '').replace(/^00/, '');
}
