'use strict';
// Who may do what, in the browser: a deactivated agent is thrown out of the
// console at once; logging out in one tab signs out the other tabs of that
// session; an agent sees no admin pages, and the API refuses the admin
// endpoints to them anyway; a supervisor demoted while the console is open
// is reconnected at once with the agent's rights.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createAgent, createTeam, createSite, connectVisitor, startConversation, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem } = require('../helpers/browser');

const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

async function apiAs(agent) {
  const s = await login(fx.srv, agent.email, agent.password);
  assert.equal(s.res.status, 200);
  return (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
}

test('a deactivated agent is signed out of the console at once', async () => {
  const team = await createTeam(fx.pg);
  const admin = await createAgent(fx.pg, { name: 'Root Admin', role: 'admin', teams: [team] });
  const dan = await createAgent(fx.pg, { name: 'Dan Gone', teams: [team] });
  const C = await openConsole(fx.browser, fx.srv);
  await loginUI(C.page, dan);
  const asAdmin = await apiAs(admin);

  const t0 = Date.now();
  const r = await asAdmin('PATCH', `/api/agents/${dan.id}`, { active: false });
  assert.equal(r.status, 200);
  await C.page.waitForSelector('[data-testid=login-notice]:has-text("deactivated")', { timeout: 5000 });
  const took = Date.now() - t0;
  assert.ok(took < 3000, `signed out after ${took} ms`);
  assert.equal(await C.page.locator('.sidebar').count(), 0);
  // The session is gone too: the page's cookie no longer works.
  const me = await C.page.evaluate(async () => (await fetch('/api/auth/me')).status);
  assert.equal(me, 401);
  // And logging in again is refused.
  await C.page.fill('#login-email', dan.email);
  await C.page.fill('#login-password', dan.password);
  await C.page.click('button[type=submit]');
  await C.page.waitForSelector('.notice-error:has-text("do not match")');
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('logging out signs out every tab of the session', async () => {
  const eve = await createAgent(fx.pg, { name: 'Eve Tabs' });
  const C = await openConsole(fx.browser, fx.srv);
  await loginUI(C.page, eve);
  const second = await C.context.newPage();
  await second.goto(`${fx.srv.origin}/console/#/mine`);
  await second.waitForSelector('[data-testid=connection][data-state=open]');
  await C.page.click('[data-testid=logout]');
  await C.page.waitForSelector('#login-email');
  // The other tab's socket is closed by the server (4002) and it shows the login page.
  await second.waitForSelector('[data-testid=login-notice]:has-text("signed out")', { timeout: 5000 });
  assert.equal(await second.evaluate(async () => (await fetch('/api/auth/me')).status), 401);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('logging out drops the drafts: this browser keeps no copy, and signing in again shows none', async () => {
  const team = await createTeam(fx.pg);
  const gus = await createAgent(fx.pg, { name: 'Gus Drafts', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, gus);
  await page.click('.status-opt.status-online');
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await page.click('[data-testid=nav-mine]');
  await convItem(page, cid).click();
  const input = page.locator('[data-testid=composer-input]');
  await input.fill('a private draft');
  const holding = () => page.evaluate(() => Object.keys(localStorage).filter((k) => (localStorage.getItem(k) || '').includes('a private draft')));
  await waitFor(async () => (await holding()).length > 0, { what: 'the draft kept in localStorage' });

  await page.click('[data-testid=logout]');
  await page.waitForSelector('#login-email');
  assert.deepEqual(await holding(), [], 'no copy of the draft is left in this browser');
  await loginUI(page, gus);
  await page.click('[data-testid=nav-mine]');
  await convItem(page, cid).click();
  assert.equal(await input.inputValue(), '');
  assert.doesNotMatch(await convItem(page, cid).textContent(), /Draft:/);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('an agent sees no admin pages and the API refuses them', async () => {
  const team = await createTeam(fx.pg);
  const fay = await createAgent(fx.pg, { name: 'Fay Agent', teams: [team] });
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, fay);
  for (const tab of ['agents', 'teams', 'sites', 'tokens', 'canned']) {
    assert.equal(await page.locator(`[data-testid=nav-admin-${tab}]`).count(), 0, `no ${tab} link`);
  }
  assert.equal(await page.locator('[data-testid=nav-all]').count(), 0, 'no "All open" for agents');
  await page.goto(`${fx.srv.origin}/console/#/admin/sites`);
  await page.waitForSelector('.empty:has-text("Admins only")');

  // The API, with Fay's own session and CSRF token.
  const asFay = await apiAs(fay);
  const refused = [
    ['GET', '/api/sites'],
    ['POST', '/api/sites', { name: 'Nope' }],
    ['PATCH', '/api/sites/1', { name: 'Nope' }],
    ['POST', '/api/agents', { email: 'x@example.com', name: 'X', role: 'admin' }],
    ['PATCH', `/api/agents/${fay.id}`, { role: 'admin' }],
    ['POST', '/api/teams', { name: 'Nope' }],
    ['PATCH', `/api/teams/${team}`, { name: 'Nope' }],
    ['POST', '/api/canned', { shortcut: 'nope', body: 'Nope' }],
    ['GET', '/api/tokens'],
    ['POST', '/api/tokens', { name: 'Nope', scopes: ['admin'] }],
  ];
  for (const [method, path, json] of refused) {
    const r = await asFay(method, path, json);
    assert.equal(r.status, 403, `${method} ${path} answered ${r.status}`);
    assert.equal(r.json.type, 'urn:parley:problem:forbidden');
  }
  // From the page itself too (the console's own fetch, with its CSRF token).
  const fromPage = await page.evaluate(async () => {
    const me = await (await fetch('/api/auth/me')).json();
    const r = await fetch('/api/teams', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: '{"name":"x"}',
    });
    return r.status;
  });
  assert.equal(fromPage, 403);
  assert.equal((await fx.pg.query("SELECT count(*)::int AS n FROM teams WHERE name IN ('Nope', 'x')")).rows[0].n, 0);
  await waitFor(async () => true);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('a supervisor demoted while the console is open reconnects with the new rights: no "All open", no foreign conversation', async () => {
  const own = await createTeam(fx.pg);
  const foreign = await createTeam(fx.pg);
  const admin = await createAgent(fx.pg, { name: 'Demoting Admin', role: 'admin' });
  const sue = await createAgent(fx.pg, { name: 'Sue Demoted', role: 'supervisor', teams: [own] });
  const site = await createSite(fx.pg, { teamId: foreign });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v, { prechat: { name: 'Foreign Visitor' } });
  const C = await openConsole(fx.browser, fx.srv);
  await loginUI(C.page, sue);
  await C.page.click('[data-testid=nav-all]');
  await convItem(C.page, cid).waitFor();

  const asAdmin = await apiAs(admin);
  assert.equal((await asAdmin('PATCH', `/api/agents/${sue.id}`, { role: 'agent' })).status, 200);
  // Closed with 4004, reconnected without a back-off, and the views follow the role.
  await C.page.waitForSelector('[data-testid=nav-all]', { state: 'detached', timeout: 5000 });
  await C.page.waitForSelector('[data-testid=nav-admin-canned]', { state: 'detached' });
  await C.page.waitForSelector('[data-testid=connection][data-state=open]');
  assert.equal((await C.page.locator('.me-role').innerText()).toLowerCase(), 'agent');
  assert.match(C.page.url(), /#\/mine/);
  await C.page.click('[data-testid=nav-queue]');
  await C.page.waitForSelector('[data-testid=connection][data-state=open]');
  assert.equal(await convItem(C.page, cid).count(), 0, "the other team's conversation is still shown");
  assert.equal(await C.page.locator('.sidebar').count(), 1, 'still signed in');
  assert.deepEqual(await C.problems(), []);
  await v.close();
  await C.context.close();
});
