/**
 * src/generated/types.ts must be what scripts/generateTypes.ts makes of today's sources (the server's
 * TypeBox schemas, the OpenAPI document, platformSchemas.ts): a schema changed without regenerating the
 * SDK's types fails here. Fix: `npm run generate -w @kassa/sdk`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generatedTypesPath, generateTypesSource } from '../scripts/generateTypes.ts';

test('the generated types are up to date with the schemas they come from', async () => {
  const expected = await generateTypesSource();
  const actual = readFileSync(generatedTypesPath, 'utf8');
  assert.ok(
    actual === expected,
    'packages/sdk/src/generated/types.ts is stale: run `npm run generate -w @kassa/sdk` and commit the result',
  );
});

test('request types come from the server schemas, responses from the OpenAPI document', () => {
  const source = readFileSync(generatedTypesPath, 'utf8');
  // A server-only rule (PSP currencies) and an OpenAPI-only description prove both sources are used.
  assert.match(source, /currency: 'NOK' \| 'DKK' \| 'EUR' \| 'SEK' \| 'USD' \| 'GBP';/);
  assert.match(source, /export interface GetPaymentResponse \{/);
  assert.match(source, /The URL you should redirect the user to/);
  assert.match(source, /export interface CreatePaymentRequest \{[\s\S]*cardPassthrough\?: CardPassthrough \| null;/);
});

test('every type is declared once, under the name the SDK exports', () => {
  const source = readFileSync(generatedTypesPath, 'utf8');
  // Interfaces declared twice would merge silently; a suffixed name (`Amount1`) means a schema was emitted twice.
  const names = [...source.matchAll(/^export (?:interface|type) (\w+)/gm)].map((match) => match[1] as string);
  assert.deepEqual(
    names.filter((name, index) => names.indexOf(name) !== index),
    [],
  );
  assert.deepEqual(
    names.filter((name) => /\d$/.test(name)),
    [],
  );
  for (const name of ['Amount', 'CreatePaymentRequest', 'GetPaymentResponse', 'MSN', 'Reference', 'PaymentEventLog', 'QrCheckInEvent']) {
    assert.ok(names.includes(name), `${name} is declared`);
  }
});
