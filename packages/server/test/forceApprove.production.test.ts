/** Force approve exists only in the test environment (spec §10, §13.5): production answers 404. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertMatchesOpenApi } from './support/openapi.ts';
import { startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ KASSA_MODE: 'production' });
});
after(() => server.close());

test('in production mode force approve is 404 Not Found, whoever asks and whatever the body', async () => {
  const path = '/epayment/v1/test/payments/some-reference-1/approve';
  for (const options of [{ anonymous: true }, { anonymous: true, body: { customer: { phoneNumber: '4791234567' } } }]) {
    const reply = await server.call('POST', path, options);
    assert.equal(reply.status, 404, reply.text);
    assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assertMatchesOpenApi('POST', path, 404, reply.body);
    assert.equal(reply.body.title, 'Not Found');
    assert.equal(reply.body.instance, '/v1/test/payments/some-reference-1/approve');
  }
});
