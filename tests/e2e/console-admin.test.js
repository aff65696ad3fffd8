'use strict';
// Workspace administration in the console: an admin invites an agent, makes
// a team, configures a site (origins, widget settings with a pre-chat form
// and language, identity secret) and copies the embed snippet. When the
// widget is built (build/static/widget.js), the copied snippet is then put
// on a page of another origin and must load the widget there; otherwise
// the snippet text and the saved settings are checked through the API.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const assert = require('node:assert/strict');

const { REPO_ROOT, freePort } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createAgent, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI } = require('../helpers/browser');

let hostPage;
const fx = suite({ browser: 'console' });
const { test } = fx;

fx.teardown(async () => {
  if (hostPage) await new Promise((r) => hostPage.close(() => r()));
});

/** A tiny web server on another origin whose page carries `snippet`. */
async function serveHostPage(snippet) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Other shop</title></head><body><h1>Other shop</h1>${snippet}</body></html>`);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, origin: `http://localhost:${port}`, close: (cb) => server.close(cb) };
}

test('an admin invites an agent, makes a team, configures a site and copies a working snippet', { timeout: 120000 }, async () => {
  const admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await C.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.srv.origin });
  await loginUI(page, admin);
  const apiSession = await login(fx.srv, admin.email, admin.password);
  const api = (method, p, json) =>
    request(fx.srv, { method, path: p, json, jar: apiSession.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': apiSession.csrf } });

  // --- Agents: invite without a password; the generated one is shown once.
  await page.click('[data-testid=nav-admin-agents]');
  await page.waitForSelector('[data-testid=agents-table]');
  await page.click('[data-testid=invite-agent]');
  await page.fill('[data-testid=agent-email]', 'nina.new@example.com');
  await page.fill('[data-testid=agent-name]', 'Nina New');
  await page.selectOption('[data-testid=agent-role]', 'agent');
  await page.fill('[data-testid=agent-max]', '3');
  await page.click('[data-testid=agent-save]');
  const pw = (await page.locator('[data-testid=generated-password]').textContent()).trim();
  assert.ok(pw.length >= 12, `generated password shown: ${pw}`);
  await page.click('.modal-foot .btn.primary');
  await page.waitForSelector('[data-testid=agent-row][data-email="nina.new@example.com"]');
  const ninaLogin = await login(fx.srv, 'nina.new@example.com', pw);
  assert.equal(ninaLogin.res.status, 200, 'the invited agent can log in with the shown password');
  const nina = ninaLogin.res.json.agent;
  assert.equal(nina.max_chats, 3);

  // A duplicate email is refused with the server's message.
  await page.click('[data-testid=invite-agent]');
  await page.fill('[data-testid=agent-email]', 'nina.new@example.com');
  await page.fill('[data-testid=agent-name]', 'Nina Again');
  await page.click('[data-testid=agent-save]');
  await page.waitForSelector('.modal .notice-error:has-text("exists already")');
  await page.keyboard.press('Escape');

  // Invalid max chats: the field error comes from the server (400, field max_chats).
  await page.locator('[data-testid=agent-row][data-email="nina.new@example.com"] [data-testid=agent-edit]').click();
  await page.fill('[data-testid=agent-max]', '101');
  await page.locator('[data-testid=agent-max]').evaluate((el) => el.removeAttribute('max'));
  await page.click('[data-testid=agent-save]');
  await page.waitForSelector('.modal .field-error');
  assert.match(await page.locator('.modal .field.has-error').textContent(), /Max\. open chats/);
  await page.fill('[data-testid=agent-max]', '4');
  await page.click('[data-testid=agent-save]');
  await page.waitForSelector('.modal', { state: 'detached' });
  await waitFor(async () => (await api('GET', '/api/agents')).json.agents.find((a) => a.id === nina.id).max_chats === 4, { what: 'max_chats saved' });

  // --- Teams: a new team with Nina in it.
  await page.click('[data-testid=nav-admin-teams]');
  await page.click('[data-testid=new-team]');
  await page.fill('[data-testid=team-name]', 'Billing');
  await page.locator('[data-testid=team-member]', { hasText: 'Nina New' }).locator('input').check();
  await page.click('[data-testid=team-save]');
  await page.waitForSelector('[data-testid=team-card]:has-text("Billing"):has-text("Nina New")');
  const teams = (await api('GET', '/api/teams')).json.teams;
  const billing = teams.find((t) => t.name === 'Billing');
  assert.deepEqual(billing.member_ids, [nina.id]);

  // --- Sites: a new site for another origin.
  const widgetBuilt = fs.existsSync(path.join(REPO_ROOT, 'build', 'static', 'widget.js'));
  let snippetText = null;
  hostPage = await serveHostPage(''); // reserve the origin; the page is rewritten below
  const otherOrigin = hostPage.origin;
  await page.click('[data-testid=nav-admin-sites]');
  await page.click('[data-testid=new-site]');
  await page.fill('[data-testid=new-site-name]', 'Other shop');
  await page.fill('[data-testid=new-site-origins]', 'https://Shop.Example/path');
  await page.click('[data-testid=site-create]');
  await page.waitForSelector('.modal .field-error:has-text("not an origin")');
  await page.fill('[data-testid=new-site-origins]', otherOrigin);
  await page.click('[data-testid=site-create]');
  await page.waitForSelector('[data-testid=site-item].active:has-text("Other shop")');

  // Widget settings, pre-chat form, language, default team.
  await page.fill('[data-testid=ws-color]', '#0f766e');
  await page.click('[data-testid=ws-position-left]');
  await page.fill('[data-testid=ws-launcher]', 'Talk to us');
  await page.fill('[data-testid=ws-greeting]', 'Hello from Billing!');
  await page.selectOption('[data-testid=ws-language]', 'zh-CN');
  await page.selectOption('[data-testid=site-team]', String(billing.id));
  await page.click('[data-testid=prechat-add]');
  const prow = page.locator('[data-testid=prechat-row]').last();
  await prow.locator('input[aria-label="Field name"]').fill('order');
  await prow.locator('input[aria-label="Label"]').fill('Order number');
  await prow.locator('input[aria-label="Required"]').check();
  await page.click('button:has-text("+ Email")');
  await page.click('[data-testid=site-save]');
  await page.waitForSelector('.toast:has-text("Other shop saved")');

  const site = (await api('GET', '/api/sites')).json.sites.find((s) => s.name === 'Other shop');
  assert.deepEqual(site.allowed_origins, [otherOrigin]);
  assert.equal(site.default_team_id, billing.id);
  assert.equal(site.widget_settings.color, '#0f766e');
  assert.equal(site.widget_settings.position, 'left');
  assert.equal(site.widget_settings.launcher_text, 'Talk to us');
  assert.equal(site.widget_settings.greeting, 'Hello from Billing!');
  assert.equal(site.widget_settings.language, 'zh-CN');
  assert.deepEqual(site.widget_settings.prechat_fields, [
    { name: 'order', label: 'Order number', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
  ]);
  assert.equal(site.identity_required, false);

  // Identity secret: shown on request, rotated after confirmation.
  await page.click('[data-testid=secret-toggle]');
  assert.equal((await page.locator('[data-testid=identity-secret]').textContent()).trim(), site.identity_secret);
  await page.click('[data-testid=secret-rotate]');
  await page.click('.modal .btn.danger');
  await waitFor(async () => (await page.locator('[data-testid=identity-secret]').textContent()).trim() !== site.identity_secret, { what: 'new secret shown' });
  const rotated = (await api('GET', '/api/sites')).json.sites.find((s) => s.id === site.id);
  assert.notEqual(rotated.identity_secret, site.identity_secret);
  assert.equal((await page.locator('[data-testid=identity-secret]').textContent()).trim(), rotated.identity_secret);

  // The snippet, copied with the Copy button.
  const expected = `<script src="${fx.srv.origin}/widget.js" data-site="${site.public_key}" async></script>`;
  assert.equal(await page.locator('[data-testid=snippet]').textContent(), expected);
  await page.locator('.snippet button:has-text("Copy")').click();
  await page.waitForSelector('.snippet button:has-text("Copied!")');
  snippetText = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(snippetText, expected);

  if (widgetBuilt) {
    // The copied snippet on a page of the other origin loads the widget,
    // which gets the site's settings and a visitor session from parleyd.
    await new Promise((r) => hostPage.close(r));
    const port = Number(new URL(otherOrigin).port);
    hostPage = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Other shop</title></head><body><h1>Other shop</h1>${snippetText}</body></html>`);
    });
    await new Promise((r) => hostPage.listen(port, '127.0.0.1', r));
    const shop = await C.context.newPage();
    const settings = shop.waitForResponse((r) => r.url() === `${fx.srv.origin}/api/widget/sites/${site.public_key}`);
    // Every page load makes the visitor's session (their beats say who is online).
    const session = shop.waitForResponse((r) => r.url() === `${fx.srv.origin}/api/widget/session` && r.request().method() === 'POST');
    await shop.goto(`${otherOrigin}/`);
    const sres = await settings;
    assert.equal(sres.status(), 200, 'site settings for the other origin');
    assert.equal(sres.headers()['access-control-allow-origin'], otherOrigin);
    const body = await sres.json();
    assert.equal(body.settings.color, '#0f766e');
    await shop.waitForSelector('#parley-widget', { state: 'attached' });
    const sess = await session;
    await shop.evaluate(() => window.parley && window.parley('open'));
    assert.equal(sess.status(), 200, 'a visitor session for the other origin');
    await shop.waitForSelector('iframe#parley-frame', { state: 'attached' });
    await shop.close();
  } else {
    // No widget yet: the snippet names the site's key and parleyd's widget URL.
    assert.match(snippetText, /^<script src="http:\/\/127\.0\.0\.1:\d+\/widget\.js" data-site="[A-Za-z0-9_-]{8,64}" async><\/script>$/);
    const r = await request(fx.srv, { path: `/api/widget/sites/${site.public_key}`, headers: { Origin: otherOrigin } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], otherOrigin);
    assert.equal(r.json.settings.language, 'zh-CN');
  }

  // --- API tokens: created with a scope, the secret shown once, then revoked.
  await page.click('[data-testid=nav-admin-tokens]');
  await page.click('[data-testid=new-token]');
  await page.fill('[data-testid=token-name]', 'CRM sync');
  await page.click('[data-testid=token-create]');
  const secret = (await page.locator('[data-testid=token-secret]').textContent()).trim();
  await page.click('.modal-foot .btn.primary');
  await page.waitForSelector('[data-testid=token-row][data-name="CRM sync"]:has-text("active")');
  const bearer = (t) => request(fx.srv, { path: '/api/v1/conversations', headers: { Authorization: `Bearer ${t}` } });
  assert.equal((await bearer(secret)).status, 200, 'the new token works');
  assert.equal(
    await page
      .locator('body')
      .textContent()
      .then((t) => t.includes(secret)),
    false,
    'the secret is not shown again',
  );
  await page.click('[data-testid=token-row][data-name="CRM sync"] [data-testid=token-revoke]');
  await page.click('.modal .btn.danger');
  await page.waitForSelector('[data-testid=token-row][data-name="CRM sync"]:has-text("revoked")');
  assert.equal((await bearer(secret)).status, 401, 'the revoked token is refused');

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});
