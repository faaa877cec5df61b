import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn 256 trace ids at a time: every request gets an id, and a call into the random
 * generator per request costs more than formatting the id (as Node's own randomUUID, which pools too).
 */
const ID_BYTES = 24;
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** A W3C-traceparent-like id as the platform puts in every Problem: `00-<32 hex>-<16 hex>-01`. */
export function newTraceId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-01`;
}
