/**
 * Who may use the dashboard and the whole-platform views of the control API (docs/dashboard.md):
 *
 * - test mode: callers on the loopback interface, as long as no proxy forwarded the request (a reverse
 *   proxy on the same host would otherwise open the dashboard to everyone behind it);
 * - any mode: whoever presents KASSA_ADMIN_TOKEN — the `Kassa-Admin-Token` header (CLI, scripts) or the
 *   cookie the login page sets (browsers).
 *
 * Everyone else is told the dashboard does not exist (404), unless an admin token is configured, in
 * which case the login page is there to give it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';

export const ADMIN_HEADER = 'kassa-admin-token';
export const ADMIN_COOKIE = 'kassa_admin';

/** The cookie holds a digest of the token, not the token itself. */
export function adminCookieValue(token: string): string {
  return createHash('sha256').update(`kassa-dashboard:${token}`).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** Whether `candidate` is the configured admin token (compared in constant time). */
export function isAdminToken(candidate: string, config: Pick<Config, 'adminToken'>): boolean {
  return config.adminToken !== undefined && equal(candidate, config.adminToken);
}

/** Whether the token was presented (header or login cookie). */
export function presentsAdminToken(request: FastifyRequest, config: Pick<Config, 'adminToken'>): boolean {
  const token = config.adminToken;
  if (!token) return false;
  const header = request.headers[ADMIN_HEADER];
  if (typeof header === 'string' && isAdminToken(header, config)) return true;
  const cookie = cookieOf(request, ADMIN_COOKIE);
  return cookie !== undefined && equal(cookie, adminCookieValue(token));
}

export function isAdmin(request: FastifyRequest, config: Pick<Config, 'mode' | 'adminToken'>): boolean {
  if (presentsAdminToken(request, config)) return true;
  if (config.mode !== 'test') return false;
  const forwarded = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !forwarded && isLoopback(request.socket.remoteAddress);
}
