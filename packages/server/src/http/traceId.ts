import { randomBytes } from 'node:crypto';

/** A W3C-traceparent-like id as the platform puts in every Problem: `00-<32 hex>-<16 hex>-01`. */
export function newTraceId(): string {
  const bytes = randomBytes(24).toString('hex');
  return `00-${bytes.slice(0, 32)}-${bytes.slice(32)}-01`;
}
