/** Answers a known path with the wrong method with 405 and `Allow` (spec §13.5), instead of 404. */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../errors.ts';
import { sendProblem } from './problem.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'];

/** Call before registering routes; call the returned function after the last one. */
export function trackRoutesFor405(app: FastifyInstance): () => void {
  const allowed = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = allowed.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) if (method !== 'HEAD') set.add(method);
    allowed.set(route.url, set);
  });
  return () => {
    for (const [url, set] of [...allowed]) {
      const others = METHODS.filter((method) => !set.has(method));
      if (others.length === 0) continue;
      const allow = [...set].join(', ');
      app.route({
        method: others,
        url,
        handler: (_request, reply) =>
          sendProblem(reply, new HttpProblem(405, 'Method Not Allowed', `This endpoint allows ${allow}.`, {}, { allow })),
      });
    }
  };
}
