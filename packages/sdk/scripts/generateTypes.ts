/**
 * Writes src/generated/types.ts, the SDK's API types, from the one source of truth for each shape:
 *
 * - request bodies: the server's TypeBox schemas (packages/server/src/api/epayment/schemas.ts), the same
 *   schemas Kassa validates requests with;
 * - responses and the ePayment webhook payload: the published OpenAPI document (epayment.v1.yml 1.4.1,
 *   kept in ../shared/openapi), with the additions the spec lists as newer than 1.4.1 (epayment-api
 *   §18) patched in below, each with its section;
 * - the APIs around it without an OpenAPI document here (access token, Webhooks, Userinfo, QR):
 *   platformSchemas.ts, which test/kassa.platformApis.test.ts holds against Kassa's real answers.
 *
 * All of them go into one bundle of JSON Schemas (`definitions`, keyed by the exported type name) that
 * json-schema-to-typescript turns into TypeScript, one named type at a time.
 *
 * Run: `npm run generate -w @kassa/sdk`. test/generatedTypes.test.ts fails when the file is stale.
 * The generated file holds types only; the SDK never imports server code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type JSONSchema as Schema } from 'json-schema-to-typescript';
import { parse } from 'yaml';
import { platformSchemas } from './platformSchemas.ts';

const sdkRoot = join(import.meta.dirname, '..');
const repoRoot = join(sdkRoot, '../..');
export const generatedTypesPath = join(sdkRoot, 'src/generated/types.ts');
const openApiPath = join(repoRoot, '../shared/openapi/epayment.v1.yml');
const serverSchemasPath = join(repoRoot, 'packages/server/src/api/epayment/schemas.ts');

/** Exported TypeBox schemas of the server that become SDK types (export name → type name). */
const SERVER_REQUEST_SCHEMAS: Record<string, string> = {
  AmountSchema: 'Amount',
  CustomerSchema: 'Customer',
  ReceiptSchema: 'Receipt',
  ShippingGroupSchema: 'ShippingGroup',
  ShippingSchema: 'Shipping',
  CardPassthroughSchema: 'CardPassthrough',
  CreatePaymentRequestSchema: 'CreatePaymentRequest',
  ModificationRequestSchema: 'ModificationRequest',
  CancelRequestSchema: 'CancelPaymentRequest',
  ForceApproveRequestSchema: 'ForceApproveRequest',
};

/** Response shapes taken from the OpenAPI document, with every component they reference. */
const OPENAPI_ROOTS = ['CreatePaymentResponse', 'GetPaymentResponse', 'ModificationResponse', 'PaymentEvent', 'Problem', 'WebhookEvent'];

const COMPONENTS = '#/components/schemas/';
const DEFINITIONS = '#/definitions/';
const amountRef = { $ref: `${COMPONENTS}Amount` };
const UserAddress: Schema = {
  type: 'object',
  properties: {
    addressLine1: { type: 'string' },
    addressLine2: { type: 'string' },
    city: { type: 'string' },
    postCode: { type: 'string' },
    country: { type: 'string', description: 'ISO 3166-1 alpha-2' },
  },
};

/** Where the published 1.4.1 document is older than the API (epayment-api §18); types only. */
function patchOpenApi(schemas: Record<string, Schema>): void {
  const props = (name: string) => schemas[name]?.properties as Record<string, Schema>;
  // §4.1: card passthrough adds a payment method type and three currencies.
  const enumOf = (name: string) => (schemas[name] as Schema).enum as string[];
  enumOf('PaymentMethodType').push('CARD_PASSTHROUGH');
  enumOf('Currency').push('SEK', 'USD', 'GBP');
  // §7/§18.1: PaymentEvent lists a non-existent `paymentAction` as required; `name` is meant.
  const event = schemas.PaymentEvent as Schema;
  event.required = (event.required as string[]).map((n) => (n === 'paymentAction' ? 'name' : n));
  // §4.7/§18.1: `extraDetails` (field errors, or the ErrorCode) and `instance` are on every current Problem.
  Object.assign(props('Problem'), {
    instance: { type: 'string', description: 'The request path without the `/epayment` prefix.' },
    extraDetails: {
      type: 'array',
      nullable: true,
      description: 'Field errors, or `{"name": "ErrorCode", "reason": "6090"}` for domain errors (epayment-api §13).',
      items: { $ref: '#/components/schemas/ExtraDetail' },
    },
  });
  schemas.ExtraDetail = {
    type: 'object',
    properties: { name: { type: 'string' }, reason: { type: 'string' } },
    required: ['name', 'reason'],
  };
  // §6.1: fields added to GET payment (Sep 2025 userDetails, Aug 2025 shippingDetails, Aug 2026 captureGuaranteedUntil).
  schemas.UserAddress = UserAddress;
  schemas.UserDetails = {
    type: 'object',
    description: 'Profile data of the payer, only for the requested scopes (epayment-api §6.1).',
    properties: {
      firstName: { type: 'string' },
      lastName: { type: 'string' },
      email: { type: 'string' },
      mobileNumber: { type: 'string' },
      dateOfBirth: { type: 'string', description: 'YYYY-MM-DD' },
      addresses: { type: 'array', items: { $ref: '#/components/schemas/UserAddress' } },
    },
  };
  schemas.ShippingDetails = {
    type: 'object',
    description: 'The delivery the customer chose in the app (Express, epayment-api §6.1).',
    properties: {
      address: {
        allOf: [
          { $ref: '#/components/schemas/UserAddress' },
          { type: 'object', properties: { firstName: { type: 'string' }, lastName: { type: 'string' } } },
        ],
      },
      shippingCost: amountRef,
      shippingOptionId: { type: 'string' },
      shippingOptionName: { type: 'string' },
    },
  };
  const newerPaymentFields = {
    captureGuaranteedUntil: {
      type: 'string',
      format: 'date-time',
      description: 'Latest moment at which a capture is guaranteed to succeed (epayment-api §11.6).',
    },
    userDetails: { $ref: '#/components/schemas/UserDetails' },
    shippingDetails: { $ref: '#/components/schemas/ShippingDetails' },
  };
  Object.assign(props('GetPaymentResponse'), newerPaymentFields);
  // platform-guidelines §4.3 / open question 16: the authorized event may carry the profile data too.
  Object.assign(props('WebhookEvent'), newerPaymentFields, {
    sub: { type: 'string', description: 'The profile `sub` (authorized events with profile sharing).' },
    profile: { $ref: '#/components/schemas/ProfileResponse' },
  });
}

function collectRefs(schema: unknown, into: Set<string>): void {
  if (!schema || typeof schema !== 'object') return;
  const ref = (schema as Schema).$ref;
  if (typeof ref === 'string' && ref.startsWith(COMPONENTS)) into.add(ref.slice(COMPONENTS.length));
  for (const value of Object.values(schema)) collectRefs(value, into);
}

function canonical(schema: unknown): string {
  return JSON.stringify(schema, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort()) : value,
  );
}

/** Keywords whose values are maps from names (of properties, definitions) to schemas, not schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

/**
 * A copy of `schema` in which every `$ref` goes through `refTarget` and no schema has a `title`. The
 * library names a type after a schema's `title` before its definition key, and the OpenAPI titles are
 * prose or differ from the component names the SDK exports (`MSNType` for `MSN`, "Get payment
 * response"): each type is named by its key in the bundle instead.
 */
function rewritten(schema: unknown, refTarget: (ref: string) => string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => rewritten(item, refTarget));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'title') continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = refTarget(value);
    else if (SCHEMA_MAPS.has(key) && value && typeof value === 'object')
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, rewritten(sub, refTarget)]));
    else out[key] = rewritten(value, refTarget);
  }
  return out;
}

/**
 * The server's TypeBox schemas embed the schemas they are built from (`amount` is AmountSchema), so a
 * sub-schema equal to another exported request schema becomes a `$ref` to it and the SDK gets
 * `amount: Amount` rather than a second, inline copy. `type: ['object', 'null']` is how a nullable
 * embedded schema looks (`customer?: Customer | null`).
 */
function withNamedRequestSchemas(schema: Schema, named: Map<string, string>, isRoot = true): Schema {
  const ref = (name: string): Schema => ({ $ref: `${DEFINITIONS}${name}` });
  if (!isRoot) {
    const name = named.get(canonical(schema));
    if (name) return ref(name);
    const types = schema.type;
    if (Array.isArray(types) && types.length === 2 && types.includes('null')) {
      const nonNull = named.get(canonical({ ...schema, type: types.find((t) => t !== 'null') }));
      if (nonNull) return { anyOf: [ref(nonNull), { type: 'null' }] };
    }
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(asAdditionalProperties(schema))) {
    const sub = (s: unknown) => (s && typeof s === 'object' ? withNamedRequestSchemas(s as Schema, named, false) : s);
    if (SCHEMA_MAPS.has(key) && value && typeof value === 'object')
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, sub(s)]));
    else if (Array.isArray(value)) out[key] = value.map(sub);
    else out[key] = sub(value);
  }
  return out;
}

/**
 * TypeBox writes `T.Record(T.String(), X)` (`metadata`) as `patternProperties: {'^(.*)$': X}`, a pattern
 * every key matches: the same as `additionalProperties: X`, which the library emits as a plain index
 * signature (for a pattern it adds a comment naming the enclosing type, `undefined` for an inline one).
 */
function asAdditionalProperties(schema: Schema): Schema {
  const patterns = schema.patternProperties;
  if (!patterns || schema.additionalProperties !== undefined || Object.keys(patterns).join() !== '^(.*)$') return schema;
  const { patternProperties: _, ...rest } = schema;
  return { ...rest, additionalProperties: patterns['^(.*)$'] };
}

/**
 * Every named shape, in the order the file declares them, with `$ref`s of the form `#/definitions/Name`
 * so that json-schema-to-typescript can resolve them within one bundle.
 */
async function namedSchemas(): Promise<Map<string, Schema>> {
  const definitions = new Map<string, Schema>();

  // 1. Requests from the server's TypeBox schemas (JSON round trip: plain JSON Schema, no TypeBox symbols).
  const server = (await import(serverSchemasPath)) as Record<string, unknown>;
  const named = new Map<string, string>();
  for (const [exportName, typeName] of Object.entries(SERVER_REQUEST_SCHEMAS)) {
    if (!server[exportName]) throw new Error(`${serverSchemasPath} no longer exports ${exportName}`);
    const schema = JSON.parse(JSON.stringify(server[exportName])) as Schema;
    definitions.set(typeName, rewritten(withNamedRequestSchemas(schema, named), (ref) => ref) as Schema);
    named.set(canonical(schema), typeName);
  }

  // 2. Responses from the OpenAPI document; components named like a request type above reuse it.
  const doc = parse(readFileSync(openApiPath, 'utf8')) as { components: { schemas: Record<string, Schema> } };
  const schemas = doc.components.schemas;
  patchOpenApi(schemas);
  const wanted = new Set<string>();
  const queue = [...OPENAPI_ROOTS];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (wanted.has(name) || definitions.has(name)) continue;
    wanted.add(name);
    const refs = new Set<string>();
    collectRefs(schemas[name], refs);
    queue.push(...refs);
  }
  const fromComponents = (ref: string) => DEFINITIONS + ref.slice(COMPONENTS.length);
  for (const name of [...wanted].sort()) {
    const schema = schemas[name];
    if (!schema) throw new Error(`${openApiPath} has no component ${name}`);
    definitions.set(name, rewritten(schema, fromComponents) as Schema);
  }
  definitions.set('PaymentEventLog', {
    description: 'The event log of a payment, oldest first (`GET /epayment/v1/payments/{reference}/events`).',
    type: 'array',
    items: { $ref: `${DEFINITIONS}PaymentEvent` },
  });

  // 3. The APIs around ePayment (platformSchemas.ts); `$ref: '#/Name'` points at a sibling.
  const fromPlatform = (ref: string) => DEFINITIONS + ref.slice('#/'.length);
  for (const [name, schema] of Object.entries(platformSchemas)) definitions.set(name, rewritten(schema, fromPlatform) as Schema);
  return definitions;
}

/** The complete text of src/generated/types.ts (formatted like the rest of the repo, by Biome). */
export async function generateTypesSource(): Promise<string> {
  const definitions = await namedSchemas();
  const bundle = Object.fromEntries(definitions);
  const out: string[] = [
    '// Generated by packages/sdk/scripts/generateTypes.ts with json-schema-to-typescript — do not edit; run',
    '// `npm run generate -w @kassa/sdk`. Requests: the server schemas (packages/server/src/api/epayment/schemas.ts).',
    '// Responses and webhook payloads: the published OpenAPI document epayment.v1.yml 1.4.1 with the newer fields',
    '// of epayment-api §18. Access token, Webhooks, Userinfo, QR: packages/sdk/scripts/platformSchemas.ts.',
    '',
  ];
  // One compilation per named type, each seeing the whole bundle: a `$ref` becomes a reference to the
  // type named after its definition key, declared once, by its own compilation.
  for (const [name, schema] of definitions) {
    const declarations = await compile({ ...schema, definitions: bundle }, name, {
      bannerComment: '',
      // The schemas say which objects are open (`patternProperties`, `additionalProperties: {…}`); every other
      // object has exactly the listed properties, as the SDK has always typed them.
      additionalProperties: false,
      declareExternallyReferenced: false,
      // `minItems: 1` (receipt order lines, webhook events) stays a validation rule, not a tuple type.
      ignoreMinAndMaxItems: true,
      customName: (_schema, definitionKey) => definitionKey,
      format: false,
      strictIndexSignatures: false,
      unknownAny: true,
    });
    out.push(declarations.trim(), '');
  }
  return formatWithBiome(out.join('\n'));
}

function formatWithBiome(source: string): string {
  const biome = join(repoRoot, 'node_modules/.bin/biome');
  return execFileSync(biome, ['format', `--stdin-file-path=${generatedTypesPath}`], { input: source, encoding: 'utf8', cwd: repoRoot });
}

if (import.meta.main) {
  writeFileSync(generatedTypesPath, await generateTypesSource());
  console.log(`wrote ${generatedTypesPath}`);
}
