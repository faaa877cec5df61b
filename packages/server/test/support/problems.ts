/** Assertions for error replies: every one is an RFC 7807 Problem of the published shape (spec §4.7, §13.1). */
import assert from 'node:assert/strict';
import { assertMatchesOpenApi, openApiOperationFor, openApiSchema } from './openapi.ts';
import type { Reply } from './testServer.ts';

const TRACE_ID = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

/**
 * `reply` is a Problem with `status`: problem+json, a trace id, `instance` = the path without
 * `/epayment`, and a body that matches the YAML's answer for `method path` (or its `Problem` schema
 * where the YAML does not know the path, e.g. /accesstoken/get or an unknown route).
 */
export function assertProblem(reply: Reply, status: number, method: string, path: string): void {
  assert.equal(reply.status, status, `${method} ${path}: expected ${status}, got ${reply.status} ${reply.text}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
  if (openApiOperationFor(method, path)) {
    assertMatchesOpenApi(method, path, status, reply.body);
  } else {
    const validate = openApiSchema('Problem');
    assert.ok(validate(reply.body), `not a Problem: ${JSON.stringify(validate.errors)} ${reply.text}`);
  }
  assert.equal(reply.body.status, status);
  assert.match(reply.body.traceId, TRACE_ID);
  const bare = (path.split('?')[0] ?? path).replace(/^\/epayment\//, '/');
  assert.equal(reply.body.instance, bare);
}

/** A 400 validation Problem (no code) whose `extraDetails` name exactly `fields` (spec §13.2). */
export function assertFieldErrors(reply: Reply, method: string, path: string, fields: string[]): void {
  assertProblem(reply, 400, method, path);
  assert.equal(reply.body.detail, 'See extraDetails for further details');
  assert.deepEqual(
    reply.body.extraDetails.map((d: { name: string }) => d.name),
    fields,
  );
  for (const detail of reply.body.extraDetails) assert.ok(detail.reason.length > 0);
}

/** A domain Problem carrying `{"name":"ErrorCode","reason":"<code>"}` (spec §13.3). */
export function assertErrorCode(reply: Reply, status: number, code: number, method: string, path: string): void {
  assertProblem(reply, status, method, path);
  assert.deepEqual(reply.body.extraDetails, [{ name: 'ErrorCode', reason: String(code) }]);
}
