/**
 * Checks response bodies against the published ePayment OpenAPI document (1.4.1, the contract kept in
 * ../shared/openapi beside the repo). The YAML is older than the API we implement (spec §18), so a few
 * schemas are patched below, each for a documented reason; everything else is validated as published.
 */
import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

type Obj = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: raw YAML is patched by hand below
type Yaml = any;

const openApiDir = join(import.meta.dirname, '../../../..', '../shared/openapi');
const EPAYMENT = 'epayment.v1.yml';
const ORDER_MANAGEMENT = 'order-management.v2.yml';
// The YAML points `receipt` at a remote copy of Order Management; no machine here can fetch it.
const EXTERNAL_DOCS: Record<string, string> = {
  'https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml': ORDER_MANAGEMENT,
};
const OLD_REFERENCE_PATTERN = '^[a-zA-Z0-9-]{8,50}$';

function load(file: string): Yaml {
  return parse(readFileSync(join(openApiDir, file), 'utf8'));
}

/** Where YAML 1.4.1 is older than the current API (spec §18), or plainly wrong. Nothing else is touched. */
function patchEpayment(doc: Yaml): void {
  // §4.1/§18.2: references are 8–64 characters since Jan 2025 (YAML: 8–50), in every place.
  (function widen(node: unknown): void {
    if (!node || typeof node !== 'object') return;
    const o = node as Obj;
    if (o.pattern === OLD_REFERENCE_PATTERN) {
      o.pattern = '^[a-zA-Z0-9-]{8,64}$';
      if (o.maxLength === 50) o.maxLength = 64;
    }
    for (const child of Object.values(o)) widen(child);
  })(doc);

  const s = doc.components.schemas;
  // §7/§18.1: PaymentEvent lists a non-existent `paymentAction` as required; `name` is what is meant.
  s.PaymentEvent.required = s.PaymentEvent.required.map((n: string) => (n === 'paymentAction' ? 'name' : n));
  // The three Customer variants require nothing, so every object matches all three and `oneOf` can never
  // pass; each variant is meant to be "this one property" (§4.3: exactly one may be present).
  const variants = { CustomerPhoneNumber: 'phoneNumber', PersonalQrCode: 'personalQr', CustomerToken: 'customerToken' };
  for (const [variant, prop] of Object.entries(variants)) s[variant].required = [prop];
  // §4.1/§18.2: PSP card passthrough adds a payment method type and three currencies.
  s.PaymentMethodType.enum.push('CARD_PASSTHROUGH');
  s.Currency.enum.push('SEK', 'USD', 'GBP');
  // §19 #19: card BINs are moving to 8 digits; the YAML says exactly 6.
  s.PaymentMethodResponse.properties.cardBin.maxLength = 8;
  // §4.7/§18.1: `extraDetails` is absent from 1.4.1 but part of every current error; check its shape.
  s.Problem.properties.extraDetails = {
    type: 'array',
    nullable: true,
    items: {
      type: 'object',
      properties: { name: { type: 'string' }, reason: { type: 'string' } },
      required: ['name', 'reason'],
    },
  };
  // Newer response fields (captureGuaranteedUntil, userDetails, shippingDetails, instance, ...) need no
  // patch: no response schema in the YAML sets additionalProperties:false, so unknown fields pass.
}

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);

function rewriteRef(ref: string, docId: string): string {
  const [doc = '', pointer = ''] = ref.split('#');
  if (doc === '') return `${docId}#${pointer}`;
  const local = EXTERNAL_DOCS[doc];
  if (!local) throw new Error(`unresolvable external $ref ${ref}`);
  return `${local}#${pointer}`;
}

/**
 * OpenAPI 3.0 schema → JSON Schema that Ajv compiles: `$ref`s point at the registered documents,
 * `nullable` becomes a null type, formats Ajv does not know (e.g. "IATA 2-letter airline code") and
 * annotations (`example`, `x-*`) are dropped. Schema-aware so a property named `example` survives.
 */
function toJsonSchema(schema: Obj, docId: string): Obj {
  if (typeof schema.$ref === 'string') return { $ref: rewriteRef(schema.$ref, docId) }; // 3.0 ignores siblings
  const out: Obj = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || ['example', 'examples', 'nullable', 'deprecated', 'discriminator'].includes(key)) continue;
    if (key === 'format' && !(String(value) in ajv.formats)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Obj).map(([k, v]) => [k, toJsonSchema(v as Obj, docId)]));
    } else if (['items', 'not'].includes(key) || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toJsonSchema(value as Obj, docId);
    } else if (['allOf', 'anyOf', 'oneOf'].includes(key)) {
      out[key] = (value as Obj[]).map((v) => toJsonSchema(v, docId));
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    if (out.type === undefined && out.enum === undefined) return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

/** Registers a document's component schemas with Ajv under `docId`, so `docId#/components/schemas/X` resolves. */
function register(doc: Yaml, docId: string): void {
  const schemas = Object.fromEntries(
    Object.entries(doc.components.schemas as Obj).map(([name, s]) => [name, toJsonSchema(s as Obj, docId)]),
  );
  ajv.addSchema({ $id: docId, components: { schemas } });
}

const epayment = load(EPAYMENT);
patchEpayment(epayment);
register(epayment, EPAYMENT);
register(load(ORDER_MANAGEMENT), ORDER_MANAGEMENT);

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const templates = Object.keys(epayment.paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

export interface OpenApiOperation {
  /** Path template as written in the YAML, e.g. `/epayment/v1/payments/{reference}/capture`. */
  template: string;
  method: string;
  operationId: string | undefined;
  /** The raw (patched) OpenAPI operation object. */
  operation: Yaml;
}

/** The YAML operation serving `method path` (query string ignored; SDK-style `/v1/...` paths accepted). */
export function openApiOperationFor(method: string, path: string): OpenApiOperation | undefined {
  let p = path.split('?')[0] ?? '';
  // The SDK's paths omit `/epayment` because its server URLs include it (spec §18.1).
  if (p.startsWith('/v1/')) p = `/epayment${p}`;
  const m = method.toLowerCase();
  if (!METHODS.includes(m)) return undefined;
  const found = templates.find((t) => t.regex.test(p) && epayment.paths[t.template][m]);
  if (!found) return undefined;
  const operation = epayment.paths[found.template][m];
  return { template: found.template, method: m, operationId: operation.operationId, operation };
}

function resolveResponse(response: Yaml): Yaml {
  const ref: string | undefined = response?.$ref;
  return ref ? epayment.components.responses[ref.replace('#/components/responses/', '')] : response;
}

const validators = new Map<string, ValidateFunction | null>();

/** Ajv validator for a named component schema of the (patched) ePayment YAML, e.g. `CreatePaymentRequest`. */
export function openApiSchema(name: string): ValidateFunction {
  if (!epayment.components.schemas[name]) throw new Error(`no schema ${name} in ${EPAYMENT}`);
  return ajv.getSchema(`${EPAYMENT}#/components/schemas/${name}`) as ValidateFunction;
}

/**
 * Throws an AssertionError unless `body` (the parsed JSON response of `method path`) matches the response
 * schema the YAML gives for `status` (exact, then `4XX`-style, then `default`). Error statuses the YAML
 * does not list are checked against `Problem`: per spec §13.1 every service error is a problem body,
 * while 1.4.1 lists only some statuses per operation (e.g. no 404 on GET payment).
 */
export function assertMatchesOpenApi(method: string, path: string, status: number, body: unknown): void {
  const op = openApiOperationFor(method, path);
  if (!op) throw new AssertionError({ message: `${method.toUpperCase()} ${path} matches no path in ${EPAYMENT}` });
  const responses = op.operation.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k]);
  const label = `${op.method.toUpperCase()} ${op.template} → ${status}`;

  const cacheKey = `${label} (${key ?? 'Problem'})`;
  let validate = validators.get(cacheKey);
  if (validate === undefined) {
    const response = key
      ? resolveResponse(responses[key])
      : status >= 400
        ? resolveResponse({ $ref: '#/components/responses/ProblemResponse' })
        : undefined;
    if (!response) throw new AssertionError({ message: `${label}: status not documented in ${EPAYMENT}` });
    // The YAML declares modification results as application/problem+json (its own mistake, §18.1): accept both.
    const content = response.content ?? {};
    const schema = (content['application/json'] ?? content['application/problem+json'])?.schema;
    validate = schema ? ajv.compile(toJsonSchema(schema, EPAYMENT)) : null;
    validators.set(cacheKey, validate);
  }

  if (validate === null) {
    // No content documented (force approve: "200 with no body", §10).
    if (body === undefined || body === null || body === '') return;
    throw new AssertionError({ message: `${label}: the YAML documents no body, got one`, actual: body });
  }
  if (!validate(body)) {
    const errors = ajv.errorsText(validate.errors, { separator: '\n  ', dataVar: 'body' });
    throw new AssertionError({
      message: `${label}: body does not match ${EPAYMENT}:\n  ${errors}\nbody: ${JSON.stringify(body)}`,
      actual: body,
      operator: 'assertMatchesOpenApi',
    });
  }
}
