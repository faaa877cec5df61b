/**
 * The dashboard over HTTP in test mode (docs/dashboard.md): open to loopback callers, payments with
 * filters and keyset pages, a payment's timeline, webhook replay, the request log, the clock and
 * faults panels and the checklist report; forms refused from other sites.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DK, NO, newReference, startTestServer, type TestServer } from './support/testServer.ts';
import { WebhookReceiver } from './support/webhookReceiver.ts';

let server: TestServer;
let receiver: WebhookReceiver;

before(async () => {
  [server, receiver] = await Promise.all([startTestServer(), WebhookReceiver.start()]);
  const registered = await server.call('POST', '/webhooks/v1/webhooks', {
    body: {
      url: receiver.url,
      events: ['epayments.payment.authorized.v1', 'epayments.payment.expired.v1', 'epayments.payment.created.v1'],
    },
  });
  assert.equal(registered.status, 201, registered.text);
});
after(async () => {
  await receiver?.close();
  await server?.close();
});

async function page(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(server.url + path, { redirect: 'manual', ...init });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A dashboard form post, from the dashboard's own origin as a browser sends it. */
function post(path: string, fields: Record<string, string>, origin = server.url) {
  return page(path, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
  });
}

const referencesIn = (text: string) => [...text.matchAll(/<tr data-reference="([^"]+)"/g)].map((m) => m[1]);

test('the payments list: newest first, a page at a time, filtered by unit, state, reference prefix and date', async () => {
  const prefix = `dash${Date.now().toString(36)}`;
  const created: string[] = [];
  for (let i = 0; i < 55; i++) {
    const reply = await server.createPayment({ reference: `${prefix}-${String(i).padStart(3, '0')}` });
    assert.equal(reply.status, 201, reply.text);
    created.push(reply.reference);
  }
  await server.approve(created[54] as string);
  const danish = await server.createPayment({ reference: `${prefix}-dk` }, { unit: DK });
  assert.equal(danish.status, 201, danish.text);

  const first = await page(`/dashboard?q=${prefix}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-security-policy')?.includes("script-src 'self'"), true);
  assert.equal(first.headers.get('x-frame-options'), 'DENY');
  const firstPage = referencesIn(first.text);
  assert.equal(firstPage.length, 50);
  assert.equal(firstPage[0], `${prefix}-dk`, 'newest first');
  const next = /<a rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(next, 'a link to older payments');
  const second = await page(next);
  const secondPage = referencesIn(second.text);
  assert.equal(secondPage.length, 6);
  assert.equal(new Set([...firstPage, ...secondPage]).size, 56, 'no payment twice, none skipped');
  assert.doesNotMatch(second.text, /rel="next"/);

  assert.deepEqual(referencesIn((await page(`/dashboard?q=${prefix}&msn=${DK.msn}`)).text), [`${prefix}-dk`]);
  assert.deepEqual(referencesIn((await page(`/dashboard?q=${prefix}&state=AUTHORIZED`)).text), [created[54]]);
  const today = server.clock.now().toISOString().slice(0, 10);
  assert.equal(referencesIn((await page(`/dashboard?q=${prefix}&from=${today}&to=${today}`)).text).length, 50);
  assert.deepEqual(referencesIn((await page(`/dashboard?q=${prefix}&to=2001-01-01`)).text), []);
});

test('bad filters answer 400 with the reason on the page, never a 500', async () => {
  const reply = await page('/dashboard?q=%3Cscript%3E&state=PAID&from=yesterday&before=nonsense');
  assert.equal(reply.status, 400);
  assert.match(reply.text, /A reference has only letters, digits and &quot;-&quot;/);
  assert.match(reply.text, /The state must be one of/);
  assert.match(reply.text, /&quot;from&quot; must be a date/);
  assert.match(reply.text, /The page link is broken/);
  assert.doesNotMatch(reply.text, /<script>/, 'input is escaped');
  // Page links the database could not compare with: an id past its integers, a year past its dates.
  for (const before of ['2026-01-01T00:00:00.000Z_99999999999999999999', '-200000-01-01T00:00:00.000Z_5']) {
    for (const path of ['/dashboard', '/dashboard/requests']) {
      const broken = await page(`${path}?before=${encodeURIComponent(before)}`);
      assert.equal(broken.status, 400, `${path} ${before}`);
      assert.match(broken.text, /The page link is broken/);
    }
  }
});

test("a payment's timeline: API calls, events and webhook attempts in server-clock order", async () => {
  const created = await server.createPayment();
  await server.clock.advance(5000);
  await server.call('GET', `/epayment/v1/payments/${created.reference}`);
  await server.approve(created.reference);
  await server.deliverWebhooks();
  await server.requestLog.flush();
  const reply = await page(`/dashboard/payments/${NO.msn}/${created.reference}`);
  assert.equal(reply.status, 200);
  const sources = [...reply.text.matchAll(/<li class="entry ([a-z-]+) /g)].map((m) => m[1]);
  assert.deepEqual(sources.slice(0, 2), ['request', 'event'], 'the create call, then its CREATED event');
  assert.ok(sources.includes('webhook'));
  assert.match(reply.text, /POST \/epayment\/v1\/payments → 201/);
  assert.match(reply.text, /AUTHORIZED 100\.00 NOK/);
  assert.match(reply.text, /epayments\.payment\.authorized\.v1 attempt 1: delivered/);
  assert.match(reply.text, /data-state="AUTHORIZED"/);

  assert.doesNotMatch(reply.text, /Being authorized until/);
  // Approved with test amount 201: the bank has not answered, and the page says until when it waits.
  const unanswered = await server.createPayment({ amount: { currency: 'NOK', value: 201 } });
  assert.equal((await server.approve(unanswered.reference)).status, 200);
  const waiting = await page(`/dashboard/payments/${NO.msn}/${unanswered.reference}`);
  assert.match(waiting.text, /<dt>Being authorized until<\/dt><dd>\d{4}-\d\d-\d\d[^<]*cancel answers 6250 meanwhile/);

  const missing = await page(`/dashboard/payments/${NO.msn}/no-such-payment`);
  assert.equal(missing.status, 404);
  assert.match(missing.text, /No payment no-such-payment for sales unit 123456/);
});

test('a webhook is sent again from the dashboard; a post from another site is refused', async () => {
  const created = await server.createPayment();
  await server.approve(created.reference);
  await server.deliverWebhooks();
  const before = receiver.namesFor(created.reference).length;
  const timeline = await page(`/dashboard/payments/${NO.msn}/${created.reference}`);
  const delivery = /action="\/dashboard\/webhooks\/deliveries\/(\d+)\/replay"/.exec(timeline.text)?.[1];
  assert.ok(delivery);

  const forged = await post(`/dashboard/webhooks/deliveries/${delivery}/replay`, { back: '/dashboard' }, 'https://evil.example');
  assert.equal(forged.status, 403);

  const back = `/dashboard/payments/${NO.msn}/${created.reference}`;
  const replayed = await post(`/dashboard/webhooks/deliveries/${delivery}/replay`, { back });
  assert.equal(replayed.status, 303);
  const location = replayed.headers.get('location') ?? '';
  assert.match(decodeURIComponent(location), new RegExp(`^${back}\\?notice=Delivery ${delivery} queued again as delivery \\d+\\.`));
  await server.deliverWebhooks();
  assert.equal(receiver.namesFor(created.reference).length, before + 1, 'the receiver got it once more');
  const after = await page(location);
  assert.match(after.text, /role="status">Delivery \d+ queued again/);
  assert.match(after.text, /\(replay of delivery \d+\)/);

  // While a payment's first event fails, its next one waits behind it: no "next" time (it has none of its own).
  const failing = receiver.answer;
  receiver.answer = () => ({ status: 503 });
  try {
    const held = await server.createPayment();
    await server.approve(held.reference);
    await server.deliverWebhooks();
    const list = await page(`/dashboard/webhooks?msn=${NO.msn}&state=pending`);
    assert.match(list.text, /queued behind an earlier event of the payment/);
  } finally {
    receiver.answer = failing;
  }

  const webhooks = await page('/dashboard/webhooks');
  assert.equal(webhooks.status, 200);
  assert.match(webhooks.text, new RegExp(receiver.url.replace(/[/.]/g, '\\$&')));
  const unknown = await post('/dashboard/webhooks/deliveries/999999999/replay', { back: 'https://evil.example/' });
  assert.equal(unknown.status, 303);
  assert.match(unknown.headers.get('location') ?? '', /^\/dashboard\/webhooks\?error=/, 'never redirects off the dashboard');
});

test('the request log: newest first, filtered, one call with its headers redacted', async () => {
  const reference = newReference('log');
  await server.createPayment({ reference });
  await server.requestLog.flush();
  const list = await page(`/dashboard/requests?msn=${NO.msn}&reference=${reference}&status=2xx`);
  assert.equal(list.status, 200);
  const link = /<a href="(\/dashboard\/requests\/\d+)">/.exec(list.text)?.[1];
  assert.ok(link);
  const one = await page(link);
  assert.equal(one.status, 200);
  assert.match(one.text, /authorization: Bearer \[redacted\]/);
  assert.match(one.text, /ocp-apim-subscription-key: \[redacted\]/);
  assert.doesNotMatch(one.text, new RegExp(NO.subscriptionKey));
  assert.match(one.text, new RegExp(`&quot;reference&quot;: &quot;${reference}&quot;`));
  assert.match(one.text, new RegExp(`<a href="/dashboard/payments/${NO.msn}/${reference}">Payment ${reference}</a>`));
  // A call naming a payment that does not exist links to none.
  const missing = newReference('nopay');
  assert.equal((await server.call('GET', `/epayment/v1/payments/${missing}`)).status, 404);
  await server.requestLog.flush();
  const missingList = await page(`/dashboard/requests?reference=${missing}`);
  const missingLink = /<a href="(\/dashboard\/requests\/\d+)">/.exec(missingList.text)?.[1];
  assert.ok(missingLink);
  assert.doesNotMatch((await page(missingLink)).text, />Payment /);
  assert.equal((await page('/dashboard/requests?status=6xx')).status, 400);
  assert.equal((await page('/dashboard/requests/0')).status, 404);
});

test('the clock panel moves time: a waiting payment expires at once; the faults panel adds and deletes a rule', async () => {
  const created = await server.createPayment();
  const moved = await post('/dashboard/control/clock', { msn: '', advance: '11', unit: '60' });
  assert.equal(moved.status, 303);
  assert.match(decodeURIComponent(moved.headers.get('location') ?? ''), /Global time is now .*payment\(s\) moved/);
  const shown = await page(`/dashboard/payments/${NO.msn}/${created.reference}`);
  assert.match(shown.text, /data-state="EXPIRED"/);
  // An offset of n min 59.6 s reads as the next whole minute, not "60 s".
  const dkOffset = () =>
    page('/dashboard/control').then((p) =>
      new RegExp(`<tr data-msn="${DK.msn}">.*?data-offset="(\\d+)".*?<td>([^<]+)</td></tr>`).exec(p.text),
    );
  const before = Number((await dkOffset())?.[1]);
  const advanceSeconds = 60 + ((59_600 - (before % 60_000) + 60_000) % 60_000) / 1000;
  assert.equal((await server.call('POST', '/kassa/v1/clock', { unit: DK, body: { msn: DK.msn, advanceSeconds } })).status, 200);
  const [, offset, text] = (await dkOffset()) ?? [];
  assert.equal(Number(offset) % 60_000, 59_600);
  assert.match(text ?? '', /^(\d+ h )?\d+ min ahead$/);
  const refused = await post('/dashboard/control/clock', { advance: '-5', unit: '60' });
  assert.match(decodeURIComponent(refused.headers.get('location') ?? ''), /error=advance: Advance by a positive number/);

  const added = await post('/dashboard/control/faults', {
    msn: NO.msn,
    target: 'api',
    kind: 'error',
    when: 'before',
    status: '503',
    route: '/epayment/v1/payments/:reference/capture',
    count: '1',
  });
  assert.match(decodeURIComponent(added.headers.get('location') ?? ''), /notice=Fault rule (\d+) added/);
  const id = /Fault rule (\d+) added/.exec(decodeURIComponent(added.headers.get('location') ?? ''))?.[1];
  const control = await page('/dashboard/control');
  assert.match(control.text, new RegExp(`<tr data-rule="${id}">`));
  const invalid = await post('/dashboard/control/faults', { msn: NO.msn, target: 'webhook', kind: 'error' });
  assert.match(decodeURIComponent(invalid.headers.get('location') ?? ''), /error=kind: A webhook fault is one of/);
  const deleted = await post(`/dashboard/control/faults/${id}/delete`, { msn: NO.msn });
  assert.match(decodeURIComponent(deleted.headers.get('location') ?? ''), /notice=Fault rule \d+ deleted/);
});

test('the checklist page shows the report of a sales unit', async () => {
  await server.requestLog.flush();
  const reply = await page(`/dashboard/checklist?msn=${NO.msn}&since=1d`);
  assert.equal(reply.status, 200);
  assert.match(reply.text, /Go-live checklist — MSN 123456/);
  assert.match(reply.text, /<tr data-item="endpoints" data-status="(met|not_met|not_exercised)">/);
  assert.match(reply.text, /href="\/kassa\/v1\/report\?msn=123456&amp;since=1d&amp;format=md" download="kassa-checklist-123456.md"/);
  const bad = await page('/dashboard/checklist?msn=123456&since=soon');
  assert.equal(bad.status, 400);
  assert.match(bad.text, /since: The since must be/);
});

test('a request that came through a proxy is not a loopback caller: the dashboard does not exist for it', async () => {
  const reply = await page('/dashboard', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(reply.status, 404);
  assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const report = await server.call('GET', `/kassa/v1/report?msn=${NO.msn}`, {
    anonymous: true,
    headers: { 'X-Forwarded-For': '203.0.113.9' },
  });
  assert.equal(report.status, 401, 'the report then needs keys');
  const withKeys = await server.call('GET', `/kassa/v1/report?msn=${NO.msn}`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
  assert.equal(withKeys.status, 200, "the sales unit's own keys");
  const otherUnit = await server.call('GET', `/kassa/v1/report?msn=${DK.msn}`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
  assert.equal(otherUnit.status, 403);
});
