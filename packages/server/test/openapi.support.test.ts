/**
 * Proves the OpenAPI response checker itself: sample bodies from the spec's examples must pass, and
 * bodies broken in typical ways must fail. Server tests rely on it, so a checker that accepts anything
 * would make them worthless.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertMatchesOpenApi, openApiOperationFor, openApiSchema } from './support/openapi.ts';

const REF = 'shop42-order-000981';
const PAYMENT = `/epayment/v1/payments/${REF}`;
const nok = (value: number) => ({ currency: 'NOK', value });

// spec §6.1 example
const getPayment = () => ({
  aggregate: {
    authorizedAmount: nok(25000),
    cancelledAmount: nok(0),
    capturedAmount: nok(10000),
    refundedAmount: nok(0),
  },
  amount: nok(25000),
  state: 'AUTHORIZED',
  paymentMethod: { type: 'WALLET' },
  profile: {},
  pspReference: '5b0f7a52-0a3c-4f8f-9a53-0f1b9e7c2d11',
  reference: REF,
  captureGuaranteedUntil: '2026-09-11T08:00:00.000+00:00',
});

// spec §7 example
const events = () => [
  {
    reference: REF,
    pspReference: '5b0f7a52-0a3c-4f8f-9a53-0f1b9e7c2d11',
    name: 'CREATED',
    amount: nok(25000),
    timestamp: '2026-09-04T10:00:01.1234567Z',
    idempotencyKey: 'c1c4c7d2-1f2a-4a8e-9e8b-0c3b8b7f1a10',
    success: true,
  },
  {
    reference: REF,
    pspReference: '2210334501',
    name: 'AUTHORIZED',
    amount: nok(25000),
    timestamp: '2026-09-04T10:00:40.212Z',
    idempotencyKey: 'c1c4c7d2-1f2a-4a8e-9e8b-0c3b8b7f1a10',
    success: true,
  },
  {
    reference: REF,
    pspReference: '2210339876',
    name: 'CAPTURED',
    amount: nok(10000),
    timestamp: '2026-09-05T07:12:03.004Z',
    idempotencyKey: 'cap-981-1',
    success: true,
  },
];

// spec §13.3 example
const problem = () => ({
  type: 'https://httpstatuses.io/400',
  title: 'Capture amount too high',
  status: 400,
  detail: 'Total captured amount would exceed the authorized amount.',
  instance: `/v1/payments/${REF}/capture`,
  traceId: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  extraDetails: [{ name: 'ErrorCode', reason: '6090' }],
});

/** Asserts that the checker rejects `body`, and that its message mentions `mention`. */
function rejects(method: string, path: string, status: number, body: unknown, mention: RegExp): void {
  assert.throws(
    () => assertMatchesOpenApi(method, path, status, body),
    (e: unknown) => e instanceof assert.AssertionError && mention.test(e.message),
  );
}

test('finds the operation for a concrete path', () => {
  assert.equal(openApiOperationFor('POST', `${PAYMENT}/capture`)?.operationId, 'capturePayment');
  assert.equal(openApiOperationFor('get', `${PAYMENT}?x=1`)?.template, '/epayment/v1/payments/{reference}');
  assert.equal(openApiOperationFor('GET', `/v1/payments/${REF}/events`)?.operationId, 'getPaymentEventLog');
  assert.equal(openApiOperationFor('POST', `/epayment/v1/test/payments/${REF}/approve`)?.operationId, 'forceApprove');
  assert.equal(openApiOperationFor('DELETE', PAYMENT), undefined);
  assert.equal(openApiOperationFor('GET', '/epayment/v2/payments'), undefined);
});

test('GetPaymentResponse: the spec example passes, with newer fields the YAML does not know', () => {
  assertMatchesOpenApi('GET', PAYMENT, 200, getPayment());
  assertMatchesOpenApi('GET', PAYMENT, 200, {
    ...getPayment(),
    paymentMethod: { type: 'CARD_PASSTHROUGH', cardBin: '54018512' },
    metadata: null,
    userDetails: { firstName: 'Ada', addresses: [] },
    shippingDetails: { shippingOptionId: 'pickup' },
  });
});

test('GetPaymentResponse: broken bodies fail', () => {
  const { state: _state, ...noState } = getPayment();
  rejects('GET', PAYMENT, 200, noState, /required property 'state'/);
  const stringValue = getPayment();
  (stringValue.aggregate.capturedAmount as { value: unknown }).value = '10000';
  rejects('GET', PAYMENT, 200, stringValue, /aggregate\/capturedAmount\/value must be integer/);
  rejects('GET', PAYMENT, 200, { ...getPayment(), state: 'CAPTURED' }, /state must be equal to one of the allowed values/);
  rejects('GET', PAYMENT, 200, { ...getPayment(), amount: { currency: 'SEKK', value: 1 } }, /amount\/currency/);
  rejects('GET', PAYMENT, 200, { ...getPayment(), metadata: { a: 1 } }, /metadata\/a must be string/);
  rejects('GET', PAYMENT, 200, { ...getPayment(), redirectUrl: 'not a url' }, /redirectUrl must match format "uri"/);
});

test('reference: 64 characters pass (current API), 65 do not', () => {
  assertMatchesOpenApi('GET', PAYMENT, 200, { ...getPayment(), reference: 'a'.repeat(64) });
  rejects('GET', PAYMENT, 200, { ...getPayment(), reference: 'a'.repeat(65) }, /reference must/);
  rejects('GET', PAYMENT, 200, { ...getPayment(), reference: 'has_underscore' }, /reference must match pattern/);
});

test('event log: the spec example passes; a missing name, a bad timestamp or a numeric key fail', () => {
  assertMatchesOpenApi('GET', `${PAYMENT}/events`, 200, events());
  assertMatchesOpenApi('GET', `${PAYMENT}/events`, 200, [{ ...events()[0], idempotencyKey: null }]);
  assertMatchesOpenApi('GET', `${PAYMENT}/events`, 200, []);
  const { name: _name, ...noName } = events()[0] as ReturnType<typeof events>[0];
  rejects('GET', `${PAYMENT}/events`, 200, [noName], /body\/0 must have required property 'name'/);
  rejects('GET', `${PAYMENT}/events`, 200, [{ ...events()[1], timestamp: 'yesterday' }], /timestamp must match format/);
  rejects('GET', `${PAYMENT}/events`, 200, [{ ...events()[2], idempotencyKey: 42 }], /idempotencyKey must be string,null/);
  rejects('GET', `${PAYMENT}/events`, 200, events()[0], /body must be array/);
});

test('Problem: the spec example passes; missing traceId or a malformed extraDetails fail', () => {
  assertMatchesOpenApi('POST', `${PAYMENT}/capture`, 400, problem());
  const { traceId: _traceId, ...noTrace } = problem();
  rejects('POST', `${PAYMENT}/capture`, 400, noTrace, /required property 'traceId'/);
  rejects('POST', `${PAYMENT}/capture`, 409, { ...problem(), status: '409' }, /status must be integer/);
  rejects('POST', `${PAYMENT}/capture`, 400, { ...problem(), extraDetails: [{ name: 'ErrorCode' }] }, /reason/);
});

test('error statuses the YAML does not list are still checked as Problem (spec §13.1)', () => {
  assertMatchesOpenApi('GET', PAYMENT, 404, { ...problem(), status: 404, type: 'https://httpstatuses.io/404' });
  assertMatchesOpenApi('POST', `${PAYMENT}/capture`, 423, { ...problem(), status: 423, extraDetails: null });
  rejects('GET', PAYMENT, 404, { message: 'not found' }, /required property 'title'/);
  rejects('GET', PAYMENT, 201, getPayment(), /status not documented/);
});

test('CreatePaymentResponse: YAML and spec examples pass; a missing reference fails', () => {
  const create = '/epayment/v1/payments';
  assertMatchesOpenApi('POST', create, 201, { reference: REF, redirectUrl: 'https://landing.vipps.no?token=eyJ0eXAiOiJKV1Qi' });
  assertMatchesOpenApi('POST', create, 201, { reference: REF, redirectUrl: 'vippsMT://?token=abc123' });
  assertMatchesOpenApi('POST', create, 201, { reference: REF }); // PUSH_MESSAGE: no redirectUrl
  rejects('POST', create, 201, { redirectUrl: 'https://landing.vipps.no?token=x' }, /required property 'reference'/);
  rejects('POST', create, 201, { reference: 'short' }, /reference must NOT have fewer than 8 characters/);
});

test('ModificationResponse (declared as application/problem+json in the YAML) is checked too', () => {
  const { aggregate, amount, state, pspReference, reference } = getPayment();
  const modification = { aggregate, amount, state, pspReference, reference };
  assertMatchesOpenApi('POST', `${PAYMENT}/capture`, 200, modification);
  assertMatchesOpenApi('POST', `${PAYMENT}/cancel`, 200, { ...modification, state: 'TERMINATED' });
  const { aggregate: _a, ...noAggregate } = modification;
  rejects('POST', `${PAYMENT}/refund`, 200, noAggregate, /required property 'aggregate'/);
});

test('force approve documents no body', () => {
  assertMatchesOpenApi('POST', `/epayment/v1/test/payments/${REF}/approve`, 200, undefined);
  assertMatchesOpenApi('POST', `/epayment/v1/test/payments/${REF}/approve`, 200, '');
  rejects('POST', `/epayment/v1/test/payments/${REF}/approve`, 200, { ok: true }, /documents no body/);
});

test('unknown paths are reported', () => {
  rejects('GET', '/epayment/v1/nothing', 200, {}, /matches no path/);
});

test('request schemas resolve the external Order Management receipt', () => {
  const validate = openApiSchema('CreatePaymentRequest');
  // spec §5.5 full example
  const request = {
    amount: { currency: 'DKK', value: 12900 },
    paymentMethod: { type: 'WALLET', blockedSources: ['COMMERCIAL_CARDS'] },
    customer: { phoneNumber: '4512345678' },
    customerInteraction: 'CUSTOMER_PRESENT',
    reference: 'dk-till7-20260904-0031',
    userFlow: 'PUSH_MESSAGE',
    paymentDescription: 'Till 7 receipt 31',
    minimumUserAge: 18,
    metadata: { store: 'Aarhus C', till: '7' },
    receipt: {
      orderLines: [{ name: 'Wine', id: 'sku-1', totalAmount: 12900, totalAmountExcludingTax: 10320, totalTaxAmount: 2580, taxRate: 2500 }],
      bottomLine: { currency: 'DKK', posId: 'till-7', receiptNumber: '31' },
    },
  };
  assert.equal(validate(request), true, JSON.stringify(validate.errors));
  const badReceipt = { ...request.receipt, bottomLine: { currency: 'GBP' } };
  assert.equal(validate({ ...request, receipt: badReceipt }), false);
  assert.match(validate.errors?.[0]?.schemaPath ?? '', /^order-management\.v2\.yml#\/components\/schemas\/CurrencyEnum/);
  assert.equal(validate({ ...request, customer: { phoneNumber: '4512345678', customerToken: 'x' } }), false);
});
