/**
 * The customer side over plain HTTP: QR images, the QR API, the Userinfo API's errors, the landing
 * page's edge cases and headers, and the `kassa users` listing. The browser flows are in e2e/.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatUsers } from '../src/customer/usersListing.ts';
import { appTargetOf } from '../src/customer/walletApp.ts';
import { listUsers } from '../src/store/usersStore.ts';
import { DK, NO, startTestServer, type TestServer } from './support/testServer.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

test('the one-time payment QR is an SVG or a PNG of the requested size, and 404 once the payment expired', async () => {
  const svgPayment = await server.createPayment({ userFlow: 'QR', returnUrl: undefined });
  const svg = await fetch(svgPayment.body.redirectUrl);
  assert.equal(svg.status, 200);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.match(await svg.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);

  for (const size of [100, 2000]) {
    const created = await server.createPayment({ userFlow: 'QR', qrFormat: { format: 'IMAGE/PNG', size }, returnUrl: undefined });
    const png = Buffer.from(await (await fetch(created.body.redirectUrl)).arrayBuffer());
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [size, size]);
  }

  const token = new URL(svgPayment.body.redirectUrl).searchParams.get('token');
  const tooBig = await server.call('GET', `/qr-image/v1?format=png&size=2001&token=${token}`, { anonymous: true });
  assert.equal(tooBig.status, 400);
  assert.equal(tooBig.body.extraDetails[0].name, 'size');

  server.clock.advance(10 * 60 * 1000);
  const gone = await server.call('GET', new URL(svgPayment.body.redirectUrl).pathname + new URL(svgPayment.body.redirectUrl).search, {
    anonymous: true,
  });
  assert.equal(gone.status, 404);
  assert.equal(gone.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal((await server.call('GET', `/epayment/v1/payments/${svgPayment.reference}`)).body.state, 'EXPIRED');
});

test('the landing page: unknown token, invalid number, unknown user, framing headers', async () => {
  const unknown = await fetch(`${server.url}/landing?token=nope-nope-nope`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('x-frame-options'), 'DENY');
  assert.match(unknown.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.match(await unknown.text(), /Payment link not found/);
  assert.equal((await fetch(`${server.url}/landing`)).status, 404);

  const created = await server.createPayment({ customer: { phoneNumber: '4791234567' } });
  const token = new URL(created.body.redirectUrl).searchParams.get('token') as string;
  const page = await (await fetch(created.body.redirectUrl)).text();
  assert.match(page, /value="4791234567"/, 'pre-filled from customer.phoneNumber');

  const norwegian = await (await fetch(`${created.body.redirectUrl}&lang=nb`)).text();
  assert.match(norwegian, /<html lang="nb">/);
  assert.match(norwegian, /Ditt mobilnummer/);

  const invalid = await fetch(`${server.url}/landing`, form({ token, phone: '12ab' }));
  assert.equal(invalid.status, 400);
  const invalidPage = await invalid.text();
  assert.match(invalidPage, /9 to 15 digits/);
  assert.match(invalidPage, /aria-invalid="true" autofocus/, 'focus goes back to the number to correct');
  const nobody = await fetch(`${server.url}/landing`, form({ token, phone: '4700000001' }));
  assert.equal(nobody.status, 400);
  assert.match(await nobody.text(), /cannot pay this business/);

  const sent = await fetch(`${server.url}/landing`, form({ token, phone: '+47 912 34 567', remember: 'on' }));
  assert.equal(sent.status, 303);
  assert.equal(sent.headers.get('location'), `/landing/wait?token=${token}&lang=en`);
  assert.match(sent.headers.get('set-cookie') ?? '', /^kassa_phone=4791234567; Path=\/landing; HttpOnly; SameSite=Lax; Max-Age=\d+/);
  const { secondsLeft, ...status } = await (await fetch(`${server.url}/landing/status?token=${token}`)).json();
  assert.deepEqual(status, {
    state: 'CREATED',
    final: false,
    bankPending: false,
    returnUrl: `https://shop.example/return?reference=${created.reference}`,
  });
  assert.ok(secondsLeft > 590 && secondsLeft <= 600, `${secondsLeft}`);

  assert.equal((await server.approve(created.reference)).status, 200);
  const waiting = await fetch(`${server.url}/landing/wait?token=${token}`, { redirect: 'manual' });
  assert.equal(waiting.status, 303, 'without JavaScript the waiting page sends the browser on');
  assert.equal(waiting.headers.get('location'), `https://shop.example/return?reference=${created.reference}`);
});

test('the landing page says when the user approved and the bank has not answered (test amount 201)', async () => {
  const created = await server.createPayment({ amount: { currency: 'NOK', value: 201 }, customer: { phoneNumber: '4791234567' } });
  const token = new URL(created.body.redirectUrl).searchParams.get('token') as string;
  assert.equal((await fetch(`${server.url}/landing`, form({ token, phone: '4791234567' }))).status, 303);
  const before = await (await fetch(`${server.url}/landing/wait?token=${token}&lang=nb`)).text();
  assert.match(before, /<p id="bank-pending" hidden>/);
  assert.equal((await server.approve(created.reference)).status, 200);
  const waiting = await fetch(`${server.url}/landing/wait?token=${token}&lang=nb`, { redirect: 'manual' });
  assert.equal(waiting.status, 200, 'still waiting: the payment is CREATED');
  assert.match(await waiting.text(), /<p id="bank-pending"><strong>Du har godkjent betalingen\. Banken din har ikke svart ennå/);
  const status = await (await fetch(`${server.url}/landing/status?token=${token}`)).json();
  assert.deepEqual([status.state, status.final, status.bankPending], ['CREATED', false, true]);
});

test('the app recognises deeplinks, payment QR targets, QR images, landing links and QR API codes', () => {
  const base = 'http://127.0.0.1:7070';
  assert.equal(appTargetOf('kassa://payment?token=abc123xyz', 'kassa'), '/app/pay?token=abc123xyz&via=native');
  assert.equal(appTargetOf(`${base}/landing?token=abc123xyz`, 'kassa'), '/app/pay?token=abc123xyz&via=app-switch');
  assert.equal(appTargetOf(`${base}/app/qr?token=abc123xyz`, 'kassa'), '/app/qr?token=abc123xyz');
  assert.equal(appTargetOf(`${base}/qr-image/v1?format=svg&token=abc123xyz`, 'kassa'), '/app/qr?token=abc123xyz');
  assert.equal(appTargetOf(`${base}/qr/c/Code_123-abc`, 'kassa'), '/app/code/Code_123-abc');
  assert.equal(appTargetOf(`${base}/qr-image/v1/codes/Code_123-abc.png`, 'kassa'), '/app/code/Code_123-abc');
  assert.equal(appTargetOf('https://example.com/anything', 'kassa'), null);
  assert.equal(appTargetOf('not a link', 'kassa'), null);
});

test('merchant redirect QR: create, conflict, change, follow, list, delete, ttl', async () => {
  const created = await server.call('POST', '/qr/v1/merchant-redirect', {
    headers: { Accept: 'image/png', Size: '400' },
    body: { id: 'poster-1', redirectUrl: 'https://shop.example/spring' },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.id, 'poster-1');
  assert.equal(created.body.redirectUrl, 'https://shop.example/spring');
  assert.equal(created.body.expiresIn, null);
  assert.match(created.body.url, /\/qr-image\/v1\/codes\/[\w-]+\.png\?size=400$/);
  const png = Buffer.from(await (await fetch(created.body.url)).arrayBuffer());
  assert.equal(png.readUInt32BE(16), 400);

  const again = await server.call('POST', '/qr/v1/merchant-redirect', { body: { id: 'poster-1', redirectUrl: 'https://shop.example/x' } });
  assert.equal(again.status, 409);

  const target = await server.call('GET', '/qr/v1/merchant-redirect/poster-1', { headers: { Accept: 'text/targetUrl' } });
  assert.equal(target.status, 200);
  const printed = target.body.url as string;
  assert.match(printed, /\/qr\/r\/[\w-]+$/);
  const follow = await fetch(printed, { redirect: 'manual' });
  assert.equal(follow.status, 302);
  assert.equal(follow.headers.get('location'), 'https://shop.example/spring');

  const changed = await server.call('PUT', '/qr/v1/merchant-redirect/poster-1', { body: { redirectUrl: 'https://shop.example/summer' } });
  assert.equal(changed.status, 200);
  assert.equal(
    (await fetch(printed, { redirect: 'manual' })).headers.get('location'),
    'https://shop.example/summer',
    'the printed code follows',
  );

  const bad = await server.call('POST', '/qr/v1/merchant-redirect', { body: { id: 'bad/id', redirectUrl: 'ftp://x' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.invalidParams.map((p: { name: string }) => p.name).sort(), ['id']);
  // Outside the platform's pattern (platform-guidelines §9): another scheme, or characters it leaves out.
  for (const redirectUrl of ['ftp://x', 'https://shop.example/p;x', 'https://shop.example/p~x', 'https://shop.example/p*x,y']) {
    const badUrl = await server.call('POST', '/qr/v1/merchant-redirect', { body: { id: 'x', redirectUrl } });
    assert.equal(badUrl.status, 400, redirectUrl);
    assert.equal(badUrl.body.invalidParams[0].name, 'redirectUrl');
  }
  // A category the callback QR does not know is refused naming every one it does.
  const category = await server.call('PUT', '/qr/v1/merchant-callback/till-9', {
    body: { locationDescription: 'Till 9', category: 'FOO' },
    headers: { 'Merchant-Serial-Number': '123456' },
  });
  assert.equal(category.status, 400, category.text);
  assert.match(JSON.stringify(category.body), /IN_STORE, VENDING, AGE_CHECK/);

  const list = await server.call('GET', '/qr/v1/merchant-redirect');
  assert.deepEqual(
    list.body.map((c: { id: string }) => c.id),
    ['poster-1'],
  );
  assert.equal((await server.call('GET', '/qr/v1/merchant-redirect', { unit: DK })).body.length, 0, 'codes belong to their sales unit');

  assert.equal((await server.call('DELETE', '/qr/v1/merchant-redirect/poster-1')).status, 204);
  assert.equal((await fetch(printed, { redirect: 'manual' })).status, 404);
  const reused = await server.call('POST', '/qr/v1/merchant-redirect', {
    headers: { Accept: 'text/targetUrl' },
    body: { id: 'poster-1', redirectUrl: 'https://shop.example/new', ttl: 300 },
  });
  assert.equal(reused.status, 201);
  assert.notEqual(reused.body.url, printed, 'a deleted code stays dead; the id makes a new code');
  assert.equal(reused.body.expiresIn, 300);
  server.clock.advance(301 * 1000);
  assert.equal((await server.call('GET', '/qr/v1/merchant-redirect/poster-1')).status, 404);
  assert.equal((await fetch(reused.body.url, { redirect: 'manual' })).status, 404);
});

test('merchant callback QR: MSN header required, create/update, list with image options, legacy conversion', async () => {
  const noMsn = await server.call('PUT', '/qr/v1/merchant-callback/door', {
    headers: { 'Merchant-Serial-Number': '<none>' },
    body: { locationDescription: 'Door' },
  });
  assert.equal(noMsn.status, 400);
  assert.equal(noMsn.body.invalidParams[0].name, 'Merchant-Serial-Number');
  const tooLong = await server.call('PUT', '/qr/v1/merchant-callback/door', { body: { locationDescription: 'x'.repeat(37) } });
  assert.equal(tooLong.status, 400);
  assert.equal((await server.call('PUT', '/qr/v1/merchant-callback/door', { body: { locationDescription: 'Door' } })).status, 200);
  assert.equal(
    (await server.call('PUT', '/qr/v1/merchant-callback/door', { body: { locationDescription: 'Front door', category: 'VENDING' } }))
      .status,
    200,
  );
  const one = await server.call('GET', '/qr/v1/merchant-callback/door?qrImageFormat=PNG&qrImageSize=250');
  assert.equal(one.status, 200);
  assert.equal(one.body.merchantSerialNumber, '123456');
  assert.equal(one.body.locationDescription, 'Front door');
  assert.equal(one.body.category, 'VENDING');
  assert.match(one.body.qrImageUrl, /\.png\?size=250$/);
  assert.match(one.body.qrContent, /\/qr\/c\/[\w-]+$/);

  assert.equal(
    (await server.call('PUT', '/qr/v1/merchant-callback/mobilepay/beacon-1', { body: { locationDescription: 'Kiosk' } })).status,
    200,
  );
  assert.equal(
    (await server.call('PUT', '/qr/v1/merchant-callback/mobilepay/beacon-1', { body: { locationDescription: 'Kiosk' } })).status,
    409,
  );
  const list = await server.call('GET', '/qr/v1/merchant-callback');
  assert.deepEqual(list.body.map((c: { merchantQrId: string }) => c.merchantQrId).sort(), ['beacon-1', 'door']);
  assert.equal((await server.call('GET', '/qr/v1/merchant-callback?qrImageFormat=GIF')).status, 400);

  // Scanning without a check-in webhook: the app says it cannot reach the store.
  const scan = await fetch(`${server.url}/app/code/${one.body.qrContent.split('/').at(-1)}`, {
    headers: { cookie: 'kassa_app_user=4791234567' },
    redirect: 'follow',
  });
  assert.equal(scan.status, 502);
  assert.match(await scan.text(), /Can&#39;t connect to store/);
});

test('one-time QR and personal QR exchange', async () => {
  const payment = await server.createPayment({ userFlow: 'NATIVE_REDIRECT' });
  const oneTime = await server.call('POST', '/qr/v1', { headers: { Accept: 'image/svg+xml' }, body: { url: payment.body.redirectUrl } });
  assert.equal(oneTime.status, 200, oneTime.text);
  assert.ok(oneTime.body.expiresIn > 0 && oneTime.body.expiresIn <= 600);
  assert.equal((await fetch(oneTime.body.url)).headers.get('content-type'), 'image/svg+xml');
  assert.equal((await server.call('POST', '/qr/v1', { body: { url: 'javascript:alert(1)' } })).status, 400);
  assert.equal((await server.call('POST', '/qr/v1', { raw: 'url=x', headers: { 'Content-Type': 'text/plain' } })).status, 415);

  const exchanged = await server.call('POST', '/qr/v1/exchange', {
    body: { qrCode: `${server.url}/qr/personal/4511223344?v=1`, requestedData: ['MSISDN'] },
  });
  assert.equal(exchanged.status, 200, exchanged.text);
  assert.deepEqual(exchanged.body, { msisdn: '4511223344', version: '1.0' });
  const v2 = await server.call('POST', '/qr/v1/exchange', {
    body: { qrCode: 'https://qr.vipps.no/28/2/01/031/4791234567?v=2', requestedData: ['MSISDN'] },
  });
  assert.equal(v2.body.version, '2.0');
  assert.equal(typeof v2.body.timestamp, 'number');
  const unknown = await server.call('POST', '/qr/v1/exchange', {
    body: { qrCode: 'https://qr.vipps.no/p/unknown', requestedData: ['MSISDN'] },
  });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.invalidParams[0].name, 'qrCode');
  const badToken = await server.call('POST', '/qr/v1/exchange/customer', {
    body: { customer: { customerToken: 'nope' }, requestedData: ['MSISDN'] },
  });
  assert.equal(badToken.status, 400);
  assert.equal((await server.call('POST', '/qr/v1/exchange', { anonymous: true, body: {} })).status, 401);
});

test('approved with the bank yet to answer (amount 201): the landing page only waits; cancel and another number are not offered', async () => {
  const created = await server.createPayment({ amount: { currency: 'NOK', value: 201 } });
  const token = new URL(created.body.redirectUrl).searchParams.get('token') as string;
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    redirect: 'manual' as const,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, lang: 'nb', ...fields }).toString(),
  });
  assert.equal((await fetch(`${server.url}/landing`, form({ phone: '4791234567' }))).status, 303);
  assert.equal((await server.approve(created.reference, NO, { customer: { phoneNumber: '4791234567' } })).status, 200);
  const waitPage = `/landing/wait?token=${token}&lang=nb`;
  const reopened = await fetch(`${server.url}/landing?token=${token}&lang=nb`, { redirect: 'manual' });
  assert.equal(reopened.headers.get('location'), waitPage);
  const cancelled = await fetch(`${server.url}/landing/cancel`, form({}));
  assert.equal(cancelled.headers.get('location'), waitPage, 'not back to the shop as if it were cancelled');
  assert.equal((await server.call('GET', `/epayment/v1/payments/${created.reference}`)).body.state, 'CREATED');
  const status = await (await fetch(`${server.url}/landing/status?token=${token}`)).json();
  assert.equal(status.bankPending, true);
  assert.ok(status.secondsLeft > 3000, 'an hour to wait for the bank');
  const page = await (await fetch(`${server.url}${waitPage}`)).text();
  assert.match(page, /<div id="while-waiting" hidden>/);
  assert.match(page, /<p id="bank-pending">/);
});

test('userinfo: authentication, unknown sub, consent through force approve, no subscription key needed', async () => {
  assert.equal((await server.call('GET', '/vipps-userinfo-api/userinfo/abc', { anonymous: true })).status, 401);
  assert.equal((await server.call('GET', '/vipps-userinfo-api/userinfo/00000000-0000-0000-0000-000000000000')).status, 404);

  const created = await server.createPayment({ profile: { scope: 'name nin' } }, { unit: DK });
  // `nin` needs special approval (5030); the DK unit does not have it.
  assert.equal(created.status, 400);
  const ok = await server.createPayment({ profile: { scope: 'birthDate' }, customer: { phoneNumber: '4511223344' } }, { unit: DK });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await server.approve(ok.reference, DK)).status, 200);
  const sub = (await server.call('GET', `/epayment/v1/payments/${ok.reference}`, { unit: DK })).body.profile.sub;
  const withoutKey = await server.call('GET', `/vipps-userinfo-api/userinfo/${sub}`, {
    unit: DK,
    headers: { 'Ocp-Apim-Subscription-Key': '<none>' },
  });
  assert.equal(withoutKey.status, 200, withoutKey.text);
  assert.deepEqual(Object.keys(withoutKey.body).sort(), ['birthdate', 'sid', 'sub']);
  assert.equal(withoutKey.body.birthdate, '1979-09-23');

  // 168 hours after consent on the unit's own clock (moved for that unit alone), the values expire.
  const moved = await server.call('POST', '/kassa/v1/clock', { unit: DK, body: { msn: DK.msn, advanceSeconds: 170 * 3600 } });
  assert.equal(moved.status, 200, moved.text);
  const later = await server.call('GET', `/vipps-userinfo-api/userinfo/${sub}`, { unit: DK });
  assert.equal(later.status, 200, later.text);
  assert.equal(later.body.birthdate, '[Expired]');
  // The QR exchange's timestamp is on the caller's unit clock too, 170 hours ahead of the server's.
  const exchanged = await server.call('POST', '/qr/v1/exchange', {
    unit: DK,
    body: { qrCode: 'https://qr.vipps.no/28/2/01/031/4791234567?v=2', requestedData: ['MSISDN'] },
  });
  assert.ok(Math.abs(exchanged.body.timestamp - server.clock.nowMs(DK.msn) / 1000) < 60, exchanged.text);
  assert.ok(exchanged.body.timestamp - server.clock.nowMs() / 1000 > 169 * 3600, exchanged.text);
});

test('a PUSH_MESSAGE to a personal QR lands in the app of that user; other users cannot see it', async () => {
  const home = await (await fetch(`${server.url}/app`, { headers: { cookie: 'kassa_app_user=46701234567' } })).text();
  const personalQr = /<code>([^<]+\/qr\/personal\/46701234567\?v=1)<\/code>/.exec(home)?.[1];
  assert.ok(personalQr, 'the app shows the personal QR');
  const created = await server.createPayment({
    userFlow: 'PUSH_MESSAGE',
    customerInteraction: 'CUSTOMER_PRESENT',
    customer: { personalQr },
    returnUrl: undefined,
    paymentDescription: 'Scanned at till 3',
  });
  assert.equal(created.status, 201, created.text);
  const inbox = await (await fetch(`${server.url}/app`, { headers: { cookie: 'kassa_app_user=46701234567' } })).text();
  assert.match(inbox, /Scanned at till 3/);
  const psp = (await server.call('GET', `/epayment/v1/payments/${created.reference}`)).body.pspReference;
  const mine = await fetch(`${server.url}/app/payments/${psp}`, { headers: { cookie: 'kassa_app_user=46701234567' } });
  assert.equal(mine.status, 200);
  const theirs = await fetch(`${server.url}/app/payments/${psp}`, { headers: { cookie: 'kassa_app_user=4791234567' } });
  assert.equal(theirs.status, 404);
  const status = await fetch(`${server.url}/app/payments/${psp}/status.json`, { headers: { cookie: 'kassa_app_user=4791234567' } });
  assert.equal(status.status, 404);
});

test("the app asks to accept the store's terms in one line of text (links inside it, not columns beside it)", async () => {
  const created = await server.createPayment({
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4791234567' },
    returnUrl: undefined,
    merchantLegalLinks: { termsOfSaleUrl: 'https://shop.example/terms', privacyPolicyUrl: 'https://shop.example/privacy' },
  });
  assert.equal(created.status, 201, created.text);
  const psp = (await server.call('GET', `/epayment/v1/payments/${created.reference}`)).body.pspReference;
  const screen = await (await fetch(`${server.url}/app/payments/${psp}`, { headers: { cookie: 'kassa_app_user=4791234567' } })).text();
  assert.match(
    screen,
    /<label class="check"><input type="checkbox" name="terms" value="yes" required> <span>I accept the store's[\s\S]*?privacy policy<\/a><\/span><\/label>/,
  );
});

test('a declined card keeps the choices on the app screen; a rejection the bank is still deciding is refused openly', async () => {
  const created = await server.createPayment({
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4791234567' },
    returnUrl: undefined,
    profile: { scope: 'name email' },
    merchantLegalLinks: { termsOfSaleUrl: 'https://shop.example/terms', privacyPolicyUrl: 'https://shop.example/privacy' },
  });
  assert.equal(created.status, 201, created.text);
  const psp = (await server.call('GET', `/epayment/v1/payments/${created.reference}`)).body.pspReference;
  const asOla = { cookie: 'kassa_app_user=4791234567' };
  const approve = await fetch(`${server.url}/app/payments/${psp}/approve`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...asOla, 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams({ consent: 'yes', terms: 'yes', card: 'no-mc-declined' }).toString(),
  });
  assert.equal(approve.status, 303);
  const again = await (await fetch(`${server.url}${approve.headers.get('location')}`, { headers: asOla })).text();
  assert.match(again, /Payment failed/);
  assert.match(again, /name="consent" value="yes" required aria-describedby="consent-hint" checked/);
  assert.match(again, /name="terms" value="yes" required checked/);
  assert.match(again, /name="card" value="no-mc-declined" required checked/);

  // Amount 201: approved, the bank yet to answer; the app's reject is refused, not passed off as done.
  const pending = await server.createPayment({
    amount: { currency: 'NOK', value: 201 },
    userFlow: 'PUSH_MESSAGE',
    customer: { phoneNumber: '4791234567' },
    returnUrl: undefined,
  });
  assert.equal((await server.approve(pending.reference, NO, { customer: { phoneNumber: '4791234567' } })).status, 200);
  const pendingPsp = (await server.call('GET', `/epayment/v1/payments/${pending.reference}`)).body.pspReference;
  const rejected = await fetch(`${server.url}/app/payments/${pendingPsp}/reject`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...asOla, 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: '',
  });
  assert.match(rejected.headers.get('location') ?? '', /error=state/);
  assert.equal((await server.call('GET', `/epayment/v1/payments/${pending.reference}`)).body.state, 'CREATED');
});

test('`kassa users` shows every user with cards, outcomes and the magic amounts', async () => {
  const text = formatUsers(await listUsers(server.ctx.db), new Date('2026-01-01T00:00:00Z'), 'http://127.0.0.1:7070');
  assert.match(text, /^4791234567\tNO\tOla Nordmann\tborn 1985-04-12 \(age 40\)/m);
  assert.match(text, /no-mc-declined +MC_CREDIT +••••0002 +exp 12\/29 +BIN 540185 +declined by the issuer/);
  assert.match(text, /no-mc-expired .* expired card/);
  assert.match(text, /4790000000.*\n +no cards/);
  assert.match(text, /151 insufficient funds/);
  assert.match(text, /201 leaves the result unknown/);
});
