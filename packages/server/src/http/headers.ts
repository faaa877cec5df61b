import type { FastifyRequest } from 'fastify';

/** A request header as a string; empty values count as absent (the official SDK sends "" headers). */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}
