/**
 * A path parameter or query value PostgreSQL cannot store or compare (a `%00`, an unpaired surrogate)
 * is a 400 on that field for every route, before a handler hands it to a query that would fail.
 */
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../errors.ts';
import { unstorableField } from '../store/storableText.ts';

export function refuseUnstorableUrls(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const field = unstorableField(request.params, '', 'path') ?? unstorableField(request.query, '', 'query');
    if (field) throw new ValidationError([{ name: field, reason: `The ${field} must not contain NUL characters or unpaired surrogates.` }]);
  });
}
