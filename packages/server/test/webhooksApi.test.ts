/**
 * The Webhooks API (platform-guidelines §4.1): bodies, statuses, URL rules, limits, scoping and the
 * secret that is shown once. Delivery itself is in webhooksDelivery.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { digest } from '../src/auth/credentials.ts';
import { seedTestData } from '../src/seed.ts';
import { insertKeySet } from '../src/store/merchantsStore.ts';
import { webhookUrlProblem } from '../src/webhooks/webhookUrl.ts';
import { assertFieldErrors, assertProblem } from './support/problems.ts';
import { DK, FI, NO, type Reply, startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

const PATH = '/webhooks/v1/webhooks';
const AUTHORIZED = 'epayments.payment.authorized.v1';
const CAPTURED = 'epayments.payment.captured.v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const register = (body: unknown, options: Parameters<TestServer['call']>[2] = {}) => server.call('POST', PATH, { body, ...options });

async function registered(url: string, events: string[], options: Parameters<TestServer['call']>[2] = {}): Promise<string> {
  const reply = await register({ url, events }, options);
  assert.equal(reply.status, 201, reply.text);
  return reply.body.id;
}

function assertRegisterResponse(reply: Reply): void {
  assert.equal(reply.status, 201, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(reply.body).sort(), ['id', 'secret']);
  assert.match(reply.body.id, UUID);
  // 64 random bytes in base64, the shape of the platform's published secret (§4.4 test vector).
  assert.match(reply.body.secret, /^[A-Za-z0-9+/]{86}==$/);
}

test('register answers 201 with id and secret; list shows id, url and events but never the secret', async () => {
  const url = 'https://shop.example/webhooks/vipps?tenant=acme';
  const reply = await register({ url, events: [AUTHORIZED, CAPTURED] }, { idempotencyKey: crypto.randomUUID() });
  assertRegisterResponse(reply);
  const { id, secret } = reply.body;

  const list = await server.call('GET', PATH);
  assert.equal(list.status, 200);
  assert.match(list.headers.get('content-type') ?? '', /^application\/json/);
  const mine = list.body.webhooks.find((w: { id: string }) => w.id === id);
  assert.deepEqual(mine, { id, url, events: [AUTHORIZED, CAPTURED] });
  assert.ok(!list.text.includes(secret));
  for (const webhook of list.body.webhooks) assert.deepEqual(Object.keys(webhook).sort(), ['events', 'id', 'url']);

  // Stored so it cannot be read back: no column of the row holds the secret or a recognisable part of it.
  const { rows } = await server.ctx.db.query('select * from webhook_registrations where id = $1', [id]);
  const stored = JSON.stringify(rows[0]);
  assert.ok(!stored.includes(secret) && !stored.includes(secret.slice(0, 16)), 'the secret is stored in the clear');
  assert.ok(!stored.includes(Buffer.from(secret, 'utf8').toString('base64').slice(0, 16)));

  // Each registration has its own secret (§4.1: one secret per registration).
  const second = await register({ url, events: [AUTHORIZED] });
  assertRegisterResponse(second);
  assert.notEqual(second.body.secret, secret);
  assert.notEqual(second.body.id, id);
});

test('delete answers 204 without a body; the registration is gone; deleting again or a foreign id is 404', async () => {
  const id = await registered('https://shop.example/hooks/delete-me', [AUTHORIZED]);
  const deleted = await server.call('DELETE', `${PATH}/${id}`);
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, '');
  const list = await server.call('GET', PATH);
  assert.ok(!list.body.webhooks.some((w: { id: string }) => w.id === id));

  assertProblem(await server.call('DELETE', `${PATH}/${id}`), 404, 'DELETE', `${PATH}/${id}`);
  const unknown = crypto.randomUUID();
  assertProblem(await server.call('DELETE', `${PATH}/${unknown}`), 404, 'DELETE', `${PATH}/${unknown}`);
  assertFieldErrors(await server.call('DELETE', `${PATH}/not-a-uuid`), 'DELETE', `${PATH}/not-a-uuid`, ['id']);
});

test('registrations belong to their sales unit: another unit neither lists nor deletes them', async () => {
  const id = await registered('https://shop.example/hooks/no-only', [AUTHORIZED]);
  const dkList = await server.call('GET', PATH, { unit: DK });
  assert.equal(dkList.status, 200);
  assert.ok(!dkList.body.webhooks.some((w: { id: string }) => w.id === id));
  assertProblem(await server.call('DELETE', `${PATH}/${id}`, { unit: DK }), 404, 'DELETE', `${PATH}/${id}`);
  const noList = await server.call('GET', PATH);
  assert.ok(noList.body.webhooks.some((w: { id: string }) => w.id === id));
});

test('the body is checked field by field: url and events, all problems in one 400', async () => {
  const cases: [unknown, string[]][] = [
    [{}, ['url', 'events']],
    [{ url: 'https://shop.example/hook' }, ['events']],
    [{ url: 'https://shop.example/hook', events: [] }, ['events']],
    [{ url: 'https://shop.example/hook', events: 'epayments.payment.authorized.v1' }, ['events']],
    [{ url: 42, events: [AUTHORIZED] }, ['url']],
    [{ url: 'https://shop.example/hook', events: ['epayments.payment.approved.v1'] }, ['events[0]']],
    [{ url: 'https://shop.example/hook', events: [AUTHORIZED, CAPTURED, AUTHORIZED] }, ['events[2]']],
    [{ url: '/relative/hook', events: [AUTHORIZED] }, ['url']],
    [{ url: 'ftp://shop.example/hook', events: [AUTHORIZED] }, ['url']],
    [{ url: 'http://shop.example/hook', events: [AUTHORIZED] }, ['url']],
    [{ url: 'https://user:pass@shop.example/hook', events: [AUTHORIZED] }, ['url']],
    [{ url: `https://shop.example/${'a'.repeat(2048)}`, events: [AUTHORIZED] }, ['url']],
    [{ url: 'not a url', events: ['nope'] }, ['url', 'events[0]']],
  ];
  for (const [body, fields] of cases) {
    const reply = await register(body);
    assertFieldErrors(reply, 'POST', PATH, fields);
  }
  const noBody = await server.call('POST', PATH);
  assertProblem(noBody, 400, 'POST', PATH);
  const notJson = await server.call('POST', PATH, { raw: 'url=x', headers: { 'Content-Type': 'text/plain' } });
  assertProblem(notJson, 415, 'POST', PATH);
});

test('Vipps-System-* headers over 30 characters are accepted here (platform-guidelines open question 19) and logged for the checklist', async () => {
  const long = { 'Vipps-System-Name': 's'.repeat(40) };
  const registered = await register({ url: 'https://shop.example/long-headers', events: [AUTHORIZED] }, { headers: long });
  assert.equal(registered.status, 201, registered.text);
  assert.equal((await server.call('GET', PATH, { headers: long })).status, 200);
  assert.equal((await server.call('DELETE', `${PATH}/${registered.body.id}`, { headers: long })).status, 204);
});

test('test mode accepts plain http to localhost and 127.0.0.1 receivers, and every https URL', async () => {
  for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:3000/hook?x=1', 'http://[::1]:3000/hook', 'https://10.0.0.7/hook']) {
    assertRegisterResponse(await register({ url, events: [AUTHORIZED] }));
  }
  const url = 'https://shop.example:8443/hooks';
  assertRegisterResponse(await register({ url, events: [AUTHORIZED] }));
  assertFieldErrors(await register({ url: 'http://192.168.1.20/hook', events: [AUTHORIZED] }), 'POST', PATH, ['url']);
});

test('production rules: HTTPS only, never loopback, private or local names (§4.1)', () => {
  const refused = [
    'http://shop.example/hook',
    'http://localhost/hook',
    'https://localhost/hook',
    'https://api.localhost/hook',
    'https://127.0.0.1/hook',
    'https://127.8.9.10/hook',
    'https://10.1.2.3/hook',
    'https://172.16.5.4/hook',
    'https://192.168.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://0.0.0.0/hook',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://intranet/hook',
    'https://printer.local/hook',
  ];
  for (const url of refused) assert.ok(webhookUrlProblem(url, 'production'), `${url} must be refused in production`);
  for (const url of [
    'https://shop.example/hook',
    'https://8.8.8.8/hook',
    'https://[2001:db8::1]:8443/x?y=z',
    'https://shop.example:8080/h',
  ]) {
    assert.equal(webhookUrlProblem(url, 'production'), null, url);
  }
});

test('a production-mode server refuses local receivers over the API and accepts public HTTPS ones', async () => {
  const production = await startTestServer({ KASSA_MODE: 'production' });
  try {
    // Production mode seeds nothing; give it the demo unit's keys to call with.
    await seedTestData(production.ctx.db);
    for (const url of ['http://127.0.0.1:9000/hook', 'https://127.0.0.1/hook', 'https://localhost/hook', 'https://10.0.0.2/hook']) {
      const reply = await production.call('POST', PATH, { body: { url, events: [AUTHORIZED] } });
      assertFieldErrors(reply, 'POST', PATH, ['url']);
      assert.match(reply.body.extraDetails[0].reason, /https|world-reachable/);
    }
    assertRegisterResponse(await production.call('POST', PATH, { body: { url: 'https://shop.example/hook', events: [AUTHORIZED] } }));
  } finally {
    await production.close();
  }
});

test('at most 25 registrations per event type and sales unit; another type or unit is not affected (§4.1)', async () => {
  const event = 'epayments.payment.refunded.v1';
  const ids: string[] = [];
  for (let i = 0; i < 25; i += 1) ids.push(await registered(`https://shop.example/limit/${i}`, [event]));
  const over = await register({ url: 'https://shop.example/limit/25', events: [AUTHORIZED, event] });
  assertFieldErrors(over, 'POST', PATH, ['events']);
  assert.match(over.body.extraDetails[0].reason, /limit of 25 registrations per event type/);
  assert.match(over.body.extraDetails[0].reason, /refunded/);

  await registered('https://shop.example/limit/other-type', [AUTHORIZED]);
  await registered('https://shop.example/limit/other-unit', [event], { unit: DK });
  // Deleting one makes room again.
  assert.equal((await server.call('DELETE', `${PATH}/${ids[0]}`)).status, 204);
  await registered('https://shop.example/limit/again', [event]);
});

test('one QR check-in receiver per sales unit (open question 11)', async () => {
  await registered('https://shop.example/qr', ['user.checked-in.v1'], { unit: FI });
  assertFieldErrors(await register({ url: 'https://shop.example/qr2', events: ['user.checked-in.v1'] }, { unit: FI }), 'POST', PATH, [
    'events',
  ]);
});

test('authentication as on every API: subscription key and token, 401 without them', async () => {
  assertProblem(await server.call('GET', PATH, { anonymous: true }), 401, 'GET', PATH);
  assertProblem(
    await server.call('POST', PATH, {
      body: { url: 'https://x.example/h', events: [AUTHORIZED] },
      headers: { Authorization: 'Bearer nope' },
    }),
    401,
    'POST',
    PATH,
  );
  assertProblem(await server.call('PUT', PATH, { body: {} }), 405, 'PUT', PATH);
});

test('PSP keys register per sales unit or PSP-wide; PSP-wide reaches every linked unit, also ones linked later (§4.1, q26)', async () => {
  const psp = {
    msn: NO.msn,
    name: 'Kassa PSP',
    market: 'NO' as const,
    clientId: 'kassa-test-psp',
    clientSecret: 'psp-secret',
    subscriptionKey: 'psp-subscription',
  };
  await insertKeySet(server.ctx.db, {
    clientId: psp.clientId,
    clientSecretHash: digest(psp.clientSecret),
    subscriptionKeyHash: digest(psp.subscriptionKey),
    kind: 'psp',
    pspId: 'kassa-psp',
    msns: [NO.msn, DK.msn],
  });
  const pspWide = { unit: psp, headers: { 'Psp-Id': 'kassa-psp', 'Merchant-Serial-Number': '<none>' } };
  const receiver = await WebhookReceiver.start();
  try {
    const wideId = await registered(receiver.url, ['epayments.payment.created.v1'], pspWide);
    const forNo = await registered('https://psp.example/no-only', ['epayments.payment.created.v1'], {
      unit: psp,
      headers: { 'Psp-Id': 'kassa-psp' },
    });

    // Each listing shows its own bucket: PSP-wide, PSP for one unit, the unit's own keys.
    const wideList = await server.call('GET', PATH, pspWide);
    assert.deepEqual(
      wideList.body.webhooks.map((w: { id: string }) => w.id),
      [wideId],
    );
    const pspNoList = await server.call('GET', PATH, { unit: psp, headers: { 'Psp-Id': 'kassa-psp' } });
    assert.deepEqual(
      pspNoList.body.webhooks.map((w: { id: string }) => w.id),
      [forNo],
    );
    const merchantList = await server.call('GET', PATH);
    assert.ok(!merchantList.body.webhooks.some((w: { id: string }) => w.id === wideId || w.id === forNo));
    // Merchant keys cannot act PSP-wide.
    assertProblem(
      await server.call('GET', PATH, { headers: { 'Psp-Id': 'kassa-psp', 'Merchant-Serial-Number': '<none>' } }),
      403,
      'GET',
      PATH,
    );
    // Only the PSP itself deletes its registrations.
    assert.equal((await server.call('DELETE', `${PATH}/${forNo}`)).status, 404);
    assert.equal((await server.call('DELETE', `${PATH}/${forNo}`, { unit: psp, headers: { 'Psp-Id': 'kassa-psp' } })).status, 204);

    const no = await server.createPayment();
    const dk = await server.createPayment({}, { unit: DK });
    const fiBefore = await server.createPayment({}, { unit: FI });
    await server.ctx.db.query('insert into key_set_sales_units (client_id, msn) values ($1, $2)', [psp.clientId, FI.msn]);
    const fiAfter = await server.createPayment({}, { unit: FI });
    await server.deliverWebhooks();
    const references = receiver.accepted.map((r) => r.body.reference);
    assert.deepEqual(references.sort(), [no.reference, dk.reference, fiAfter.reference].sort());
    assert.ok(!references.includes(fiBefore.reference));
  } finally {
    await receiver.close();
  }
});
