'use strict';
// Admin → Webhooks in the console, against the real server and real
// receivers on loopback (tests/helpers/hookrecv.js: a node:http server on
// 127.0.0.1:0 that records every request). An admin creates an endpoint
// (refusals first: the SSRF guard's, shown at the URL field), sees the
// signing secret once and checks it signs what the receiver gets, sends a
// test event and sees it delivered in the log, opens the delivery (headers,
// exact body as text, attempts), redelivers it (same event id), pages the
// log with Load more, rotates the secret (both signatures during the grace
// period), disables and deletes the endpoint. A receiver that answers 410
// gets its endpoint disabled by the server, and admins see the notice on
// console start and in the admin area. Screenshots of every view, 1280×800
// and 390×844, in English and Chinese, go to test-results/screenshots/.

const assert = require('node:assert/strict');

const { freePort } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createAgent, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, screenshotPairs } = require('../helpers/browser');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');

const fx = suite({
  browser: 'console',
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    PARLEY_WEBHOOK_RETRY_SCHEDULE: '0,1,1,2',
    PARLEY_WEBHOOK_TIMEOUT_SECONDS: '2',
  },
});
const { test } = fx;
const receivers = [];
let admin;

fx.setup(async () => {
  admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
});

fx.teardown(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(respond) {
  const r = await startReceiver({ respond });
  receivers.push(r);
  return r;
}

/** The console's REST API as the admin (session cookie + CSRF header). */
async function adminApi() {
  const s = await login(fx.srv, admin.email, admin.password);
  return (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
}

const row = (page, id) => page.locator(`[data-testid=webhook-row][data-id="${id}"]`);
const deliveryRow = (page, id) => page.locator(`[data-testid=delivery-row][data-id="${id}"]`);
const text = async (loc) => (await loc.innerText()).trim();

test('an admin creates an endpoint, tests it, reads the log, redelivers, rotates, disables and deletes it', { timeout: 120000 }, async () => {
  const api = await adminApi();
  const r = await receiver();
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = C.page;
  await C.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.srv.origin });
  await loginUI(page, admin);

  await page.click('[data-testid=nav-admin-webhooks]');
  await page.locator('.admin .empty:has-text("No webhook endpoints yet")').waitFor();

  // --- Create: the form's own checks, then the server's SSRF guard at the URL field.
  await page.click('[data-testid=new-webhook]');
  const form = page.locator('[data-testid=webhook-form]');
  await page.fill('[data-testid=webhook-url]', 'ftp://files.example.com/in');
  await page.click('[data-testid=webhook-save]');
  assert.equal(await text(form.locator('.field.has-error .field-error')), 'Enter a full URL that starts with https:// (or http://).');
  assert.equal(await text(form.locator('[data-testid=webhook-events] .field-error')), 'Choose at least one event.');
  await page.fill('[data-testid=webhook-url]', 'http://10.20.30.40/hook');
  await page.click('[data-testid=webhook-events-all]');
  await page.click('[data-testid=webhook-save]');
  await form.locator('.field.has-error .field-error:has-text("private network")').waitFor();
  assert.equal(
    await text(form.locator('.field.has-error .field-error')),
    'This URL leads to a private network address, where this server may not send anything.',
    'the SSRF guard refusal, next to the URL field',
  );
  assert.equal(await form.locator('[data-testid=webhook-events] .field-error').count(), 0);
  // The address the guard refuses outright: the cloud metadata service.
  await page.fill('[data-testid=webhook-url]', 'http://169.254.169.254/latest');
  await page.click('[data-testid=webhook-save]');
  await form.locator('.field-error:has-text("cloud metadata")').waitFor();

  // All events but one, internal notes, a description with markup (shown as text).
  const url = r.url('/parley');
  await page.fill('[data-testid=webhook-url]', url);
  await page.fill('[data-testid=webhook-description]', 'CRM <img src=x id=pwned> sync');
  assert.equal(await page.locator('[data-testid=webhook-events-all]').isChecked(), true);
  await page.click('[data-testid="webhook-event-visitor.updated"]');
  assert.equal(await page.locator('[data-testid=webhook-events-all]').evaluate((el) => el.indeterminate), true);
  await page.click('[data-testid=webhook-notes]');
  await page.click('[data-testid=webhook-save]');

  // --- The secret, once.
  const dialog = page.locator('[data-testid=webhook-secret-dialog]');
  await dialog.waitFor();
  const secret = await text(page.locator('[data-testid=webhook-secret]'));
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(await text(page.locator('[data-testid=webhook-secret-once]')), 'You will not see it again. If you lose it, rotate the secret.');
  await page.click('[data-testid=webhook-secret-copy]');
  await page.locator('[data-testid=webhook-secret-copy]:has-text("Copied!")').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.click('[data-testid=webhook-secret-done]');
  await dialog.waitFor({ state: 'detached' });

  const [ep] = (await api('GET', '/api/webhooks')).json.data;
  assert.equal(ep.url, url);
  assert.equal(ep.description, 'CRM <img src=x id=pwned> sync');
  assert.equal(ep.include_notes, true);
  assert.deepEqual(ep.events.length, 12);
  assert.ok(!ep.events.includes('visitor.updated'));
  await row(page, ep.id).waitFor();
  assert.equal(await row(page, ep.id).locator('[data-testid=webhook-state]').getAttribute('data-state'), 'enabled');
  assert.match(await text(row(page, ep.id)), /12 events/);
  assert.equal(await page.locator('#pwned').count(), 0, 'a description is text, never markup');
  assert.ok(!(await page.locator('body').innerText()).includes(secret), 'the secret is not shown again');

  // --- The endpoint's page: send a test event; the receiver gets it, signed with that secret.
  await row(page, ep.id).locator('[data-testid=webhook-open]').click();
  await page.locator(`[data-testid=webhook-page][data-id="${ep.id}"]`).waitFor();
  await page.locator('[data-testid=webhook-deliveries] .empty:has-text("No deliveries yet")').waitFor();
  await page.click('[data-testid=webhook-test]');
  const [first] = await r.waitFor(1, 10000);
  assert.equal(first.path, '/parley');
  const payload = verifyWebhook(secret, first.headers, first.body);
  assert.equal(payload.type, 'webhook.test');
  assert.equal(payload.data.endpoint_id, ep.id);
  const testRow = page.locator('[data-testid=delivery-row][data-type="webhook.test"]');
  await testRow.locator('[data-testid=delivery-status][data-status=delivered]').waitFor({ timeout: 10000 });
  assert.match(await text(testRow), /Test event[\s\S]*Delivered[\s\S]*200/);
  const did = Number(await testRow.getAttribute('data-id'));

  // --- The delivery: headers as sent, the exact body (text), its attempt.
  await testRow.locator('[data-testid=delivery-open]').click();
  const detail = page.locator(`[data-testid=delivery-detail][data-id="${did}"]`);
  await detail.locator('[data-testid=delivery-body]').waitFor();
  assert.equal(await text(detail.locator('[data-testid=delivery-event-id]')), first.headers['webhook-id']);
  const headers = await text(detail.locator('[data-testid=delivery-headers]').first());
  assert.match(headers, new RegExp(`webhook-id\\s+${first.headers['webhook-id']}`));
  assert.match(headers, /webhook-signature\s+v1,/);
  assert.deepEqual(JSON.parse(await detail.locator('[data-testid=delivery-body]').innerText()), JSON.parse(first.body));
  assert.equal(await detail.locator('[data-testid=delivery-attempt]').count(), 1);
  assert.match(await text(detail.locator('[data-testid=delivery-attempt]')), /Attempt 1\s+200/);
  await page.click('[data-testid=delivery-copy-body]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), first.body, 'the exact body, byte for byte');

  // Redeliver: a new delivery of the same event, which the receiver gets again.
  await page.click('[data-testid=delivery-redeliver]');
  const [, again] = await r.waitFor(2, 10000);
  assert.equal(again.headers['webhook-id'], first.headers['webhook-id'], 'a redelivery carries the same event id');
  assert.equal(again.body, first.body, 'and the same body');
  await page.locator(`[data-testid=delivery-detail]:not([data-id="${did}"]) [data-testid=delivery-status][data-status=delivered]`).waitFor({ timeout: 10000 });
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' });
  await waitFor(async () => (await page.locator('[data-testid=delivery-row][data-type="webhook.test"]').count()) === 2, { what: 'two deliveries in the log' });

  // Filter by status.
  await page.click('[data-testid=delivery-filter-failed]');
  await page.locator('[data-testid=webhook-deliveries] .empty:has-text("No deliveries with this status")').waitFor();
  await page.click('[data-testid=delivery-filter-delivered]');
  await waitFor(async () => (await page.locator('[data-testid=delivery-row]').count()) === 2, { what: 'delivered ones' });
  await page.click('[data-testid=delivery-filter-all]');

  // Load more: 26 more test events make 28, one page is 25.
  for (let i = 0; i < 26; i++) assert.equal((await api('POST', `/api/webhooks/${ep.id}/test`)).status, 202);
  await r.waitFor(28, 20000);
  await page.click('[data-testid=deliveries-refresh]');
  await waitFor(async () => (await page.locator('[data-testid=delivery-row]').count()) === 25, { what: 'the first page' });
  await page.click('[data-testid=deliveries-more]');
  await waitFor(async () => (await page.locator('[data-testid=delivery-row]').count()) === 28, { what: 'the second page' });
  assert.equal(await deliveryRow(page, did).count(), 1, 'the oldest delivery is on the second page');
  assert.equal(await page.locator('[data-testid=deliveries-more]').count(), 0, 'no third page');

  // --- Rotate with a one-hour grace period: the new secret once, then two signatures.
  await page.click('[data-testid=webhook-rotate]');
  await page.click('[data-testid=webhook-grace-3600]');
  await page.click('[data-testid=webhook-rotate-submit]');
  await page.locator('[data-testid=webhook-secret-dialog]').waitFor();
  const fresh = await text(page.locator('[data-testid=webhook-secret]'));
  assert.match(fresh, /^whsec_/);
  assert.notEqual(fresh, secret);
  assert.match(await text(page.locator('[data-testid=webhook-secret-dialog]')), /The old secret also signs until/);
  await page.click('[data-testid=webhook-secret-done]');
  const rotated = (await api('GET', `/api/webhooks/${ep.id}`)).json;
  const graceMs = Date.parse(rotated.previous_secret_expires_at) - Date.now();
  assert.ok(graceMs > 3500e3 && graceMs <= 3600e3, `grace period of an hour: ${rotated.previous_secret_expires_at}`);
  await page.click('[data-testid=webhook-test]');
  const all = await r.waitFor(29, 10000);
  const last = all[all.length - 1];
  assert.equal(last.headers['webhook-signature'].split(' ').length, 2, 'new and old signature during the grace period');
  verifyWebhook(fresh, last.headers, last.body);
  verifyWebhook(secret, last.headers, last.body);

  // --- Disable (edit, switch off): no notice (an admin did it), the page says so.
  await page.click('[data-testid=webhook-edit]');
  assert.equal(await page.locator('[data-testid=webhook-enabled]').isChecked(), true);
  await page.click('[data-testid=webhook-enabled]');
  await page.click('[data-testid=webhook-save]');
  await page.locator('[data-testid=webhook-disabled][data-reason=admin]').waitFor();
  const off = (await api('GET', `/api/webhooks/${ep.id}`)).json;
  assert.equal(off.enabled, false);
  assert.equal(off.disabled_reason, 'admin');
  assert.equal(off.include_notes, true, 'fields not edited are not sent');
  assert.equal(await page.locator('[data-testid=webhook-notice]').count(), 0);

  // A page of an endpoint that does not exist.
  await page.evaluate(() => {
    location.hash = '#/admin/webhooks/987654';
  });
  await page.locator('[data-testid=webhook-missing]:has-text("This webhook endpoint does not exist (any more).")').waitFor();
  await page.goBack();

  // --- Delete, after confirming.
  await page.click('[data-testid=webhook-delete]');
  await page.locator('.modal .confirm-text:has-text("its delivery log is deleted")').waitFor();
  await page.click('.modal .btn.danger');
  await page.locator('.admin .empty:has-text("No webhook endpoints yet")').waitFor();
  assert.equal((await api('GET', `/api/webhooks/${ep.id}`)).status, 404);

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('a receiver that answers 410 gets its endpoint disabled, and admins see the notice', { timeout: 90000 }, async () => {
  const api = await adminApi();
  const gone = await receiver(() => ({ status: 410, body: 'gone' }));
  const created = await api('POST', '/api/webhooks', { url: gone.url('/old-hook'), description: 'Old helpdesk', events: ['conversation.created'] });
  assert.equal(created.status, 201);
  const ep = created.json;
  assert.equal((await api('POST', `/api/webhooks/${ep.id}/test`)).status, 202);
  await gone.waitFor(1, 10000);
  await waitFor(async () => (await api('GET', `/api/webhooks/${ep.id}`)).json.disabled_reason === 'gone', { timeoutMs: 10000, what: 'disabled (gone)' });

  // On console start: the notice above the inbox, naming the endpoint and why.
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = C.page;
  await loginUI(page, admin);
  const notice = page.locator('[data-testid=webhook-notice]');
  await notice.waitFor();
  assert.equal(
    await text(notice.locator(`[data-testid=webhook-notice-item][data-id="${ep.id}"]`)),
    `Webhook disabled: ${ep.url} — the receiver answered 410 Gone. Open endpoint`,
  );
  assert.equal(await text(page.locator('[data-testid=nav-admin-webhooks] .count')), '1');

  // Its link opens the endpoint, whose own page says it instead.
  await notice.locator('a:has-text("Open endpoint")').click();
  await page.locator(`[data-testid=webhook-page][data-id="${ep.id}"]`).waitFor();
  assert.match(await text(page.locator('[data-testid=webhook-disabled][data-reason=gone]')), /the receiver answered 410 Gone/);
  assert.equal(await text(page.locator('[data-testid=webhook-overview] [data-testid=webhook-state]')), 'Disabled: receiver gone (410)');
  assert.equal(await notice.count(), 0, 'not above the page that says it');
  const failed = page.locator('[data-testid=delivery-row][data-type="webhook.test"]');
  await failed.locator('[data-testid=delivery-status][data-status=failed]').waitFor();
  assert.match(await text(failed), /410/);

  // Every other admin page shows it; the list says why.
  await page.click('[data-testid=nav-admin-tokens]');
  await notice.waitFor();
  await page.click('[data-testid=nav-admin-webhooks]');
  assert.equal(await text(row(page, ep.id).locator('[data-testid=webhook-state]')), 'Disabled: receiver gone (410)');

  // Hidden in the inbox, it stays hidden after a reload; never in the admin area.
  await page.click('[data-testid=nav-mine]');
  await page.click('[data-testid=webhook-notice-hide]');
  await notice.waitFor({ state: 'detached' });
  await page.reload();
  await page.locator('[data-testid=connection][data-state=open]').waitFor();
  await page.locator('[data-testid=nav-admin-webhooks] .count').waitFor();
  assert.equal(await notice.count(), 0);
  await page.click('[data-testid=nav-admin-agents]');
  await notice.waitFor();

  // Enabled again: the notice goes.
  await page.evaluate((id) => {
    location.hash = `#/admin/webhooks/${id}`;
  }, ep.id);
  await page.click('[data-testid=webhook-enable]');
  await page.locator('[data-testid=webhook-overview] [data-testid=webhook-state][data-state=enabled]').waitFor();
  await page.click('[data-testid=nav-admin-agents]');
  await page.locator('[data-testid=admin-agents]').waitFor();
  assert.equal(await notice.count(), 0);
  assert.equal(await page.locator('[data-testid=nav-admin-webhooks] .count').count(), 0);
  const back = (await api('GET', `/api/webhooks/${ep.id}`)).json;
  assert.equal(back.enabled, true);
  assert.equal(back.disabled_reason, null);

  await api('DELETE', `/api/webhooks/${ep.id}`);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('a receiver nobody listens on: the log says why while it retries, then that it failed', { timeout: 60000 }, async () => {
  const api = await adminApi();
  const port = await freePort(); // nothing listens there
  const ep = (await api('POST', '/api/webhooks', { url: `http://127.0.0.1:${port}/nobody`, events: ['message.created'] })).json;
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = C.page;
  await loginUI(page, admin);
  await page.evaluate((id) => {
    location.hash = `#/admin/webhooks/${id}`;
  }, ep.id);
  await page.click('[data-testid=webhook-test]');
  const dRow = page.locator('[data-testid=delivery-row]').first();
  // Retried on the compressed schedule (0, 1, 1, 2 s), each attempt refused.
  await dRow.locator('[data-testid=delivery-status][data-status=pending]').waitFor();
  await page.waitForFunction(() => /could not connect/.test(document.querySelector('[data-testid=delivery-row]').innerText), null, { timeout: 10000 });
  await dRow.locator('[data-testid=delivery-status][data-status=failed]').waitFor({ timeout: 20000 });
  assert.match(await text(dRow), /Failed\s+4\s+could not connect/);
  await dRow.locator('[data-testid=delivery-open]').click();
  await page.locator('[data-testid=delivery-attempt]').nth(3).waitFor();
  assert.match(await text(page.locator('[data-testid=delivery-attempt]').first()), /Attempt 1\s+could not connect/);
  await page.keyboard.press('Escape');
  await api('DELETE', `/api/webhooks/${ep.id}`);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('a non-admin neither sees the pages nor gets the list', async () => {
  const sup = await createAgent(fx.pg, { name: 'Sam Supervisor', role: 'supervisor' });
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  await loginUI(C.page, sup);
  assert.equal(await C.page.locator('[data-testid=nav-admin-webhooks]').count(), 0);
  const s = await login(fx.srv, sup.email, sup.password);
  const r = await request(fx.srv, { path: '/api/webhooks', jar: s.jar });
  assert.equal(r.status, 403);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

// ---------------------------------------------------------------- screenshots

/** Nothing of the view is outside the window: the page does not scroll sideways, an open dialog fits. */
async function fits(page, what) {
  const { w, h, pageWide, modal } = await page.evaluate(() => {
    const m = document.querySelector('.modal');
    const r = m && m.getBoundingClientRect();
    return {
      w: window.innerWidth,
      h: window.innerHeight,
      pageWide: document.documentElement.scrollWidth > window.innerWidth,
      modal: r && { x: r.x, y: r.y, right: r.right, bottom: r.bottom, scroll: m.scrollWidth > m.clientWidth + 1 },
    };
  });
  assert.equal(pageWide, false, `${what}: the page is wider than ${w}px`);
  if (modal) {
    assert.ok(modal.x >= 0 && modal.y >= 0 && modal.right <= w && modal.bottom <= h, `${what}: the dialog does not fit ${w}×${h}: ${JSON.stringify(modal)}`);
    assert.equal(modal.scroll, false, `${what}: the dialog scrolls sideways`);
  }
}

/** Views to look at: every new one, both languages, desktop and phone. */
test('screenshots of the webhook views, in English and Chinese, 1280×800 and 390×844', { timeout: 300000 }, async () => {
  const api = await adminApi();
  const ok = await receiver((req) =>
    /"conversation\.queued"/.test(req.body)
      ? { status: 503, body: '<html><body><h1>503 Service Unavailable</h1></body></html>' }
      : { status: 200, body: '{"received":true}' },
  );
  const gone = await receiver(() => ({ status: 410, body: 'This hook was removed.' }));
  const good = (
    await api('POST', '/api/webhooks', {
      url: ok.url('/integrations/parley/webhooks/incoming-events'),
      description: 'CRM sync (Northwind Coffee)',
      events: ['conversation.created', 'message.created'],
    })
  ).json;
  for (let i = 0; i < 3; i++) await api('POST', `/api/webhooks/${good.id}/test`);
  await ok.waitFor(3, 10000);
  const old = (await api('POST', '/api/webhooks', { url: gone.url('/old-helpdesk/api/parley'), description: '', events: ['conversation.closed'] })).json;
  await api('POST', `/api/webhooks/${old.id}/test`);
  await gone.waitFor(1, 10000);
  await waitFor(async () => (await api('GET', `/api/webhooks/${old.id}`)).json.disabled_reason === 'gone', { timeoutMs: 10000, what: 'disabled (gone)' });
  // One whose deliveries kept failing for days (the server's own switch-off, backdated).
  const far = (await api('POST', '/api/webhooks', { url: 'https://reporting.example.net/hooks/parley', events: ['conversation.rated', 'visitor.updated'] }))
    .json;
  await fx.pg.query(
    "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now() - interval '2 hours', failing_since = now() - interval '5 days 2 hours' WHERE id = $1",
    [far.id],
  );
  // An agent bot's endpoint is listed too, marked as the bot's.
  const bot = await api('POST', '/api/bots', { name: 'Order bot', url: ok.url('/order-bot') });
  assert.equal(bot.status, 201, JSON.stringify(bot.json));
  await waitFor(async () => (await api('GET', '/api/webhooks')).json.data.every((e) => e.stats.pending === 0), {
    timeoutMs: 10000,
    what: 'no pending deliveries',
  });

  for (const [locale, [w, h]] of screenshotPairs(
    ['en', 'zh-CN'],
    [
      [1280, 800],
      [390, 844],
    ],
  )) {
    const tag = `webhooks-${locale}-${w}x${h}`;
    const C = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
    const page = C.page;
    await loginUI(page, admin);
    const notice = page.locator('[data-testid=webhook-notice]');
    await notice.waitFor();
    if (locale === 'en' && w > 1000) {
      assert.match(
        await text(notice.locator(`[data-testid=webhook-notice-item][data-id="${far.id}"]`)),
        /^Webhook disabled: https:\/\/reporting\.example\.net\/hooks\/parley — its deliveries failed since .+\. Open endpoint$/,
      );
    }
    await fits(page, `${tag}-banner`);
    await shot(page, `${tag}-banner`);

    await page.evaluate(() => {
      location.hash = '#/admin/webhooks';
    });
    await row(page, good.id).waitFor();
    assert.equal(await page.locator('[data-testid=webhook-row] [data-testid=webhook-bot]').count(), 1);
    await fits(page, `${tag}-list`);
    await shot(page, `${tag}-list`);

    // The create dialog, with the SSRF guard's refusal at the URL field.
    await page.click('[data-testid=new-webhook]');
    await page.fill('[data-testid=webhook-url]', 'http://192.168.1.20/hook');
    await page.fill('[data-testid=webhook-description]', locale === 'en' ? 'Order system' : '订单系统');
    await page.click('[data-testid="webhook-event-conversation.created"]');
    await page.click('[data-testid="webhook-event-message.created"]');
    await page.click('[data-testid=webhook-save]');
    await page.locator('.modal .field.has-error').waitFor();
    assert.equal(
      await text(page.locator('.modal .field.has-error .field-error')),
      locale === 'en'
        ? 'This URL leads to a private network address, where this server may not send anything.'
        : '此地址指向私有网络地址，本服务器不允许向其发送任何内容。',
    );
    await fits(page, `${tag}-create`);
    await shot(page, `${tag}-create`);

    // The secret dialog, after creating one for real.
    await page.fill('[data-testid=webhook-url]', ok.url(`/shots/${locale}/${w}`));
    await page.click('[data-testid=webhook-save]');
    await page.locator('[data-testid=webhook-secret-dialog]').waitFor();
    await fits(page, `${tag}-secret`);
    await shot(page, `${tag}-secret`);
    await page.click('[data-testid=webhook-secret-done]');
    const mine = (await api('GET', '/api/webhooks')).json.data.find((e) => e.url === ok.url(`/shots/${locale}/${w}`));
    await api('DELETE', `/api/webhooks/${mine.id}`);

    // An endpoint's page with its log.
    await row(page, good.id).locator('[data-testid=webhook-open]').click();
    await page.locator('[data-testid=delivery-row]').first().waitFor();
    await fits(page, `${tag}-detail`);
    await shot(page, `${tag}-detail`);
    await page.locator('[data-testid=webhook-deliveries]').scrollIntoViewIfNeeded();
    await fits(page, `${tag}-log`);
    await shot(page, `${tag}-log`);

    // A delivery, then its attempts further down.
    await page.locator('[data-testid=delivery-open]').first().click();
    await page.locator('[data-testid=delivery-body]').waitFor();
    await fits(page, `${tag}-delivery`);
    await shot(page, `${tag}-delivery`);
    await page.locator('[data-testid=delivery-attempt]').last().scrollIntoViewIfNeeded();
    await fits(page, `${tag}-delivery-attempts`);
    await shot(page, `${tag}-delivery-attempts`);
    await page.keyboard.press('Escape');

    // Rotating: the grace period.
    await page.click('[data-testid=webhook-rotate]');
    await page.locator('[data-testid=webhook-rotate-form]').waitFor();
    await fits(page, `${tag}-rotate`);
    await shot(page, `${tag}-rotate`);
    await page.keyboard.press('Escape');

    // The page of the endpoint the receiver said is gone.
    await page.evaluate((id) => {
      location.hash = `#/admin/webhooks/${id}`;
    }, old.id);
    await page.locator('[data-testid=webhook-disabled]').waitFor();
    await page.locator('[data-testid=delivery-row]').first().waitFor();
    await fits(page, `${tag}-gone`);
    await shot(page, `${tag}-gone`);

    assert.deepEqual(await C.problems(), []);
    await C.context.close();
  }
  for (const e of [good, old, far]) await api('DELETE', `/api/webhooks/${e.id}`);
  await api('DELETE', `/api/bots/${bot.json.id}`);
});
