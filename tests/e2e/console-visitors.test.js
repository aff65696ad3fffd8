'use strict';
// Visitors in the console, end to end (real parleyd, real Chromium):
//  - a visitor browses two pages of a shop on ANOTHER origin (the widget's
//    loader beats); the agent's Visitors view lists them with their place
//    (the browser reaches parleyd through a proxy that adds X-Forwarded-For,
//    as a load balancer would: PARLEY_TRUSTED_PROXIES=127.0.0.1 and a tiny
//    .mmdb fixture from tests/helpers/mmdb.js), the current page and "New";
//    the agent invites from the view, the widget opens with the message,
//    the visitor answers, the agent's toast links to the conversation, and
//    the visitor panel shows the location, local time, device and the
//    journey of two pages; the list's country filter keeps the chat;
//  - visitors made over HTTP (session + beats with X-Forwarded-For): their
//    location through the context endpoint and in the view, the view's
//    country filter and search, and the invitation dialog's 409s in words
//    (the visitor started chatting, the visitor left);
//  - Admin → Invitations: an admin creates a rule, sees the server's
//    per-field errors for a bad one, switches it off, deletes it after a
//    confirmation; a supervisor reads the rules without controls;
//  - screenshots of every new view at 1280×800 and 390×844, in English and
//    Chinese: test-results/screenshots/console-visitors-*.png.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT, makeTempDir } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { createAgent, createTeam, createSite, connectVisitor, agentSession, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, convItem, screenshotPairs, SIZES, LOCALES } = require('../helpers/browser');
const { startHostPage, watchPage, widgetFrame, launcher } = require('../helpers/widget');
const { startXffProxy } = require('../helpers/xff-proxy');

// The geolocation fixture (tests/helpers/mmdb.js): 203.0.113.0/24 is Tokyo,
// 198.51.100.0/24 Munich, 2001:db8:1::/48 São Paulo.
const MMDB_HELPER = path.join(REPO_ROOT, 'tests', 'helpers', 'mmdb.js');
const GEO = fs.existsSync(MMDB_HELPER);
const TOKYO = '203.0.113.9';
const MUNICH = '198.51.100.7';
const SAO_PAULO = '2001:db8:1::5';
const EVERY = 5; // the server's beat interval for this suite (seconds)

let proxy;
const fx = suite({
  browser: 'console',
  env: async () => {
    // The proxy listens before parleyd starts: parleyd's public URL is the
    // proxy's (the widget's frame and its socket are on that origin).
    proxy = await startXffProxy(null, { forwardedFor: TOKYO });
    const env = {
      PARLEY_PUBLIC_URL: proxy.url,
      PARLEY_AGENT_GRACE_SECONDS: '86400',
      PARLEY_TRUSTED_PROXIES: '127.0.0.1',
      PARLEY_VISITOR_BEAT_SECONDS: String(EVERY),
    };
    if (GEO) {
      const file = path.join(makeTempDir('parley-geo-'), 'geo.mmdb');
      require(MMDB_HELPER).writeStandardFixture(file);
      env.PARLEY_GEOIP_DB = file;
    }
    return env;
  },
});
const { test } = fx;

let host;
let team;
let site;
let ann;
let admin;
let sup;
const hostConfig = { parley: '', siteKey: '', title: '' };
const contexts = [];

fx.setup(async () => {
  proxy.setTarget(fx.srv.port);
  hostConfig.parley = proxy.url;
  host = await startHostPage(hostConfig);
  team = await createTeam(fx.pg, 'Acme Support');
  site = await createSite(fx.pg, { name: 'Acme Outdoor', teamId: team, origins: [host.origin] });
  hostConfig.siteKey = site.key;
  ann = await createAgent(fx.pg, { name: 'Ana Souza', teams: [team] });
  admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin', teams: [team] });
  sup = await createAgent(fx.pg, { name: 'Sam Supervisor', role: 'supervisor', teams: [team] });
});
fx.teardown(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  if (host) await host.close().catch(() => {});
  if (proxy) await proxy.close().catch(() => {});
});

/** A console REST call as an agent (session cookie + CSRF). */
async function as(who, method, p, json) {
  const s = await agentSession(fx.srv, who);
  return request(fx.srv, { method, path: p, json, origin: fx.srv.origin, headers: { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf } });
}

/**
 * A visitor made over HTTP from `ip` (X-Forwarded-For; parleyd trusts
 * 127.0.0.1): a widget session and a page view. Resolves {token, visitorId,
 * beat(extra), leave()}.
 */
async function httpVisitor(ip, { url = `${host.origin}/`, title = 'Acme Outdoor', referrer = '', language = 'en-US' } = {}) {
  const headers = {
    Origin: host.origin,
    'X-Forwarded-For': ip,
    'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  };
  const s = await request(fx.srv, { method: 'POST', path: '/api/widget/session', headers, json: { site_key: site.key } });
  assert.equal(s.status, 200, s.body);
  assert.ok(s.json.beat && s.json.beat.ticket, 'the session carries a beat ticket');
  const ticket = s.json.beat.ticket;
  const beat = async (extra) => {
    const r = await request(fx.srv, {
      method: 'POST',
      path: '/api/widget/beat',
      headers: { ...headers, 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ b: ticket, u: url, n: title, ...extra }),
    });
    assert.ok(r.status === 200 || r.status === 204, `beat answered ${r.status}: ${r.body}`);
    return r;
  };
  await beat({ v: 1, r: referrer || undefined, s: '1920x1080', l: language });
  return { token: s.json.visitor_token, visitorId: s.json.visitor && s.json.visitor.id, beat, leave: () => beat({ q: 1 }) };
}

async function onlineRows(query = {}) {
  const r = await as(admin, 'GET', `/api/visitors/online?${new URLSearchParams(query)}`);
  assert.equal(r.status, 200, r.body);
  return r.json.visitors;
}

/** A browser page of the shop (own context), reaching parleyd through the proxy. */
async function shopPage(url, { referer, locale = 'en-US', viewport = { width: 1280, height: 800 } } = {}) {
  const ctx = await fx.browser.newContext({ viewport, locale });
  contexts.push(ctx);
  const page = await ctx.newPage();
  watchPage(page);
  if (process.env.DEBUG_WS) {
    page.on('websocket', (ws) => {
      page.__log.push(`[ws] open ${ws.url()}`);
      ws.on('close', () => page.__log.push('[ws] close'));
      ws.on('socketerror', (e) => page.__log.push(`[ws] error ${e}`));
      ws.on('framereceived', (f) => page.__log.push(`[ws] < ${String(f.payload).slice(0, 200)}`));
      ws.on('framesent', (f) => page.__log.push(`[ws] > ${String(f.payload).slice(0, 200)}`));
    });
  }
  await page.goto(url, referer ? { referer } : {});
  return page;
}

/** The console of an agent (straight to parleyd), online. */
async function consoleAs(who, opts = {}) {
  const C = await openConsole(fx.browser, fx.srv, opts);
  contexts.push(C.context);
  await loginUI(C.page, who);
  await C.page.click('.status-opt.status-online');
  await C.page.waitForSelector('.status-opt.status-online.on');
  return C;
}

const visitorRow = (page, text) => page.locator('[data-testid=vis-row]', { hasText: text });

test(
  'a visitor on another origin: listed with place and page, invited from the view, answers; the panel shows location and journey',
  { timeout: 120000 },
  async () => {
    assert.notEqual(new URL(host.url).origin, new URL(proxy.url).origin, 'the shop is on another origin');
    // Two pages of the shop, the first reached from a search engine.
    hostConfig.title = 'Acme Outdoor';
    const shop = await shopPage(`${host.origin}/?utm_campaign=spring`, { referer: 'https://www.google.com/search?q=boots' });
    await waitFor(async () => (await onlineRows({ site_id: site.id })).some((v) => v.page && v.page.title === 'Acme Outdoor'), {
      timeoutMs: 15000,
      what: 'the first page view',
    });
    hostConfig.title = 'Summit Jacket — Acme Outdoor';
    await shop.goto(`${host.origin}/products/summit-jacket`);

    const C = await consoleAs(ann);
    const page = C.page;
    await page.click('[data-testid=nav-visitors]');
    assert.match(page.url(), /#\/visitors$/);
    const row = visitorRow(page, 'Summit Jacket');
    await row.waitFor({ timeout: 15000 });
    assert.equal((await row.locator('[data-testid=vis-name]').textContent()).trim(), `Visitor #${await row.getAttribute('data-id')}`);
    assert.equal(await row.locator('[data-testid=vis-page-url]').getAttribute('title'), `${host.origin}/products/summit-jacket`);
    assert.match(await row.locator('[data-testid=vis-visits]').textContent(), /New/);
    assert.match(await row.locator('[data-testid=vis-referrer]').textContent(), /google\.com/);
    assert.match(await page.locator('[data-testid=vis-count]').textContent(), /^\d+ online$/);
    if (GEO) {
      assert.match(await row.locator('[data-testid=vis-place]').textContent(), /Tokyo, .*Japan/);
      assert.equal(await row.locator('[data-testid=flag]').getAttribute('data-country'), 'JP');
    }
    // The on-site time ticks.
    const t0 = await row.locator('[data-testid=vis-time]').textContent();
    await page.waitForTimeout(1200);
    assert.notEqual(await row.locator('[data-testid=vis-time]').textContent(), t0);

    // Invite: a friendly default, a counter, Send.
    await row.locator('[data-testid=vis-invite]').click();
    const box = page.locator('[data-testid=vis-invite-message]');
    await box.waitFor();
    assert.match(await box.inputValue(), /Can I help/);
    const text = 'Hi! Can I help you choose a size?';
    await box.fill(text);
    assert.equal(await page.locator('[data-testid=vis-invite-counter]').textContent(), `${text.length} / 1,000`);
    await page.click('[data-testid=vis-invite-send]');
    await page.locator('.toast', { hasText: 'Invitation sent' }).waitFor();
    await row.locator('[data-testid=vis-invitation]').waitFor();
    assert.match(await row.locator('[data-testid=vis-invitation]').textContent(), /Invited|Seen/);

    // The widget opens by itself with the message; the row turns to "Seen".
    await waitFor(async () => (await launcher(shop).getAttribute('aria-expanded')) === 'true', { timeoutMs: EVERY * 1000 + 8000, what: 'the widget to open' });
    const frame = await widgetFrame(shop);
    await frame
      .locator('.pw-row.pw-inv .pw-bubble', { hasText: text })
      .waitFor({ timeout: 10000 })
      .catch(async (e) => {
        throw new Error(
          `${e.message}\n--- the shop's page ---\n${(shop.__log || []).join('\n')}\n--- the frame ---\n${await frame.locator('body').innerText()}`,
        );
      });
    await row.locator('[data-testid=vis-invitation][data-status=shown]').waitFor({ timeout: EVERY * 1000 + 3000 });
    assert.match(await row.locator('[data-testid=vis-invitation]').textContent(), /Seen/);

    // The visitor answers: the toast says so and links to the conversation.
    await frame.locator('#pw-text').fill('Yes please, I am between M and L.');
    await frame.locator('#pw-text').press('Enter');
    const open = page.locator('[data-testid=invitation-open]');
    await open.waitFor({ timeout: 10000 });
    assert.match(await page.locator('.toast', { has: open }).textContent(), /accepted your invitation/);
    await shot(page, 'console-visitors-accepted-desktop-en');
    await open.click();
    await page.waitForSelector('[data-testid=message]:has-text("Yes please, I am between M and L.")');
    await page.waitForSelector('[data-testid=message]:has-text("Can I help you choose a size?")');
    const cid = Number(/#\/\w+\/(\d+)/.exec(page.url())[1]);

    // The visitor panel: location, local time, device, new visitor, journey.
    const panel = page.locator('[data-testid=visitor-panel]');
    await panel.locator('[data-testid=journey-page]').nth(1).waitFor({ timeout: 10000 });
    const pages = panel.locator('[data-testid=journey-current] [data-testid=journey-page]');
    assert.equal(await pages.count(), 2);
    assert.match(await pages.nth(0).textContent(), /Acme Outdoor/);
    assert.match(await pages.nth(1).textContent(), /Summit Jacket/);
    assert.equal(await pages.nth(0).locator('a').getAttribute('rel'), 'noopener noreferrer nofollow');
    assert.equal(await pages.nth(0).locator('a').getAttribute('target'), '_blank');
    // The open page counts up.
    const live = pages.nth(1).locator('[data-testid=journey-time]');
    const l0 = await live.textContent();
    await page.waitForTimeout(1500);
    assert.notEqual(await live.textContent(), l0);
    await shot(page, 'console-visitors-journey-desktop-en');
    assert.match(await panel.locator('[data-testid=visitor-returning]').textContent(), /New visitor/);
    assert.match(await panel.locator('[data-testid=visitor-device-browser]').textContent(), /Chrom/);
    assert.match(await panel.locator('[data-testid=visitor-device-language]').textContent(), /en-US/);
    if (GEO) {
      assert.match(await panel.locator('[data-testid=visitor-location]').textContent(), /Tokyo/);
      assert.match(await panel.locator('[data-testid=visitor-localtime]').textContent(), /Asia\/Tokyo/);
      const geo = await as(ann, 'GET', '/api/geo');
      assert.equal(geo.status, 200, geo.body);
      const attribution = panel.locator('[data-testid=geo-attribution]');
      if (geo.json.attribution) {
        assert.equal(await attribution.textContent(), geo.json.attribution.text);
        assert.equal(await attribution.locator('a').getAttribute('rel'), 'noopener noreferrer');
      } else assert.equal(await attribution.count(), 0);

      // The list's country filter offers the countries of the chats it has: Japan.
      const filter = page.locator('[data-testid=filter-country]');
      assert.deepEqual(await filter.locator('option').evaluateAll((os) => os.map((o) => o.value)), ['', 'JP']);
      await filter.selectOption('JP');
      await convItem(page, cid).waitFor();
      assert.equal(await convItem(page, cid).locator('[data-testid=flag]').getAttribute('data-country'), 'JP');
      await page.click('[data-testid=filter-clear]');
      // REST filters the same way.
      assert.deepEqual(
        (await as(ann, 'GET', '/api/conversations?country=JP')).json.conversations.map((c) => c.id),
        [cid],
      );
    }

    // Back in the view, the visitor is chatting; the badge opens the conversation.
    await page.click('[data-testid=nav-visitors]');
    const chatting = visitorRow(page, 'Summit Jacket').locator('[data-testid=vis-chatting]');
    await chatting.waitFor({ timeout: EVERY * 1000 + 3000 });
    await chatting.click();
    await page.waitForSelector('[data-testid=message]:has-text("Yes please")');
    assert.match(page.url(), new RegExp(`/${cid}$`));
    assert.deepEqual(await C.problems(), []);
    await shop.context().close();
  },
);

test('visitors over HTTP: location through X-Forwarded-For, the filters, and the invitation dialog’s refusals in words', { timeout: 90000 }, async () => {
  const munich = await httpVisitor(MUNICH, { url: `${host.origin}/pricing`, title: 'Pricing', referrer: 'https://news.example/story' });
  const tokyo = await httpVisitor(TOKYO, { url: `${host.origin}/blog`, title: 'Blog' });
  const leaving = await httpVisitor(SAO_PAULO, { url: `${host.origin}/returns`, title: 'Returns' });
  // They stay on the site (a beat every 4 s) until São Paulo leaves.
  const staying = new Set([munich, tokyo, leaving]);
  const keep = setInterval(() => {
    for (const x of staying) x.beat({}).catch(() => {});
  }, 4000);

  // The context endpoint (beats are written within a second): the location and the journey of one page.
  let ctx;
  await waitFor(
    async () => {
      ctx = await as(admin, 'GET', `/api/visitors/${munich.visitorId}/context`);
      return ctx.status === 200 && ctx.json.visits.length > 0;
    },
    { what: 'the visit written' },
  );
  assert.equal(ctx.json.visits[0].pages[0].title, 'Pricing');
  if (GEO) assert.deepEqual(ctx.json.visitor.location, { country: 'DE', region: 'Bavaria', city: 'Munich', time_zone: 'Europe/Berlin' });

  const C = await consoleAs(admin);
  const page = C.page;
  await page.click('[data-testid=nav-visitors]');
  for (const t of ['Pricing', 'Blog', 'Returns']) await visitorRow(page, t).waitFor({ timeout: 15000 });
  if (GEO) {
    assert.match(await visitorRow(page, 'Pricing').locator('[data-testid=vis-place]').textContent(), /Munich, Bavaria, Germany/);
    // Filter by country: only Munich.
    await page.selectOption('[data-testid=vis-filter-country]', 'DE');
    await visitorRow(page, 'Blog').waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-testid=vis-row]').count(), 1);
    await page.selectOption('[data-testid=vis-filter-country]', '');
  }
  // Search. An unfiltered read that went out first and answers last (held
  // 2.5 s here) is dropped: the list stays the search's.
  await page.route(/\/api\/visitors\/online\?(?!.*q=)/, async (route) => {
    await new Promise((r) => setTimeout(r, 2500));
    await route.continue().catch(() => {});
  });
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await page.fill('[data-testid=vis-search]', 'blog');
  await visitorRow(page, 'Pricing').waitFor({ state: 'detached' });
  await visitorRow(page, 'Blog').waitFor();
  await page.waitForTimeout(3000);
  assert.equal(await visitorRow(page, 'Pricing').count(), 0, 'the older answer did not land');
  await page.unroute(/\/api\/visitors\/online\?(?!.*q=)/);
  await page.click('[data-testid=vis-filter-clear]');
  await visitorRow(page, 'Pricing').waitFor();

  // While the list is not read again, Tokyo starts a chat and São Paulo
  // leaves: the invitation dialog says why nothing was sent.
  let release;
  const held = new Promise((r) => {
    release = r;
  });
  await page.route('**/api/visitors/online*', async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  const v = await connectVisitor(fx.srv, site, { token: tokyo.token, origin: host.origin });
  await v.ack({ type: 'conversation.start' });
  staying.delete(leaving);
  await leaving.leave();
  // (the leave is written within a second)
  await waitFor(async () => !(await onlineRows({ site_id: site.id })).some((x) => x.visitor_id === leaving.visitorId), { what: 'São Paulo gone' });

  await visitorRow(page, 'Blog').locator('[data-testid=vis-invite]').click();
  await page.click('[data-testid=vis-invite-send]');
  await page
    .locator('[data-testid=vis-invite-error]')
    .waitFor({ timeout: 10000 })
    .catch(async (e) => {
      await shot(page, 'debug-invite');
      throw e;
    });
  assert.match(await page.locator('[data-testid=vis-invite-error]').textContent(), /already chatting/);
  await page.keyboard.press('Escape');

  await visitorRow(page, 'Returns').locator('[data-testid=vis-invite]').click();
  await page.click('[data-testid=vis-invite-send]');
  await page.locator('[data-testid=vis-invite-error]').waitFor();
  assert.match(await page.locator('[data-testid=vis-invite-error]').textContent(), /has left the site/);
  await page.keyboard.press('Escape');

  // An invitation already waiting.
  const first = await as(admin, 'POST', `/api/visitors/${munich.visitorId}/invitations`, { message: 'Hello!' });
  assert.equal(first.status, 201, first.body);
  await visitorRow(page, 'Pricing').locator('[data-testid=vis-invite]').click();
  await page.click('[data-testid=vis-invite-send]');
  await page.locator('[data-testid=vis-invite-error]').waitFor();
  assert.match(await page.locator('[data-testid=vis-invite-error]').textContent(), /already has an invitation waiting/);
  await page.keyboard.press('Escape');

  release();
  await page.unroute('**/api/visitors/online*');
  // Read again: São Paulo is gone, Tokyo chats, Munich is invited.
  await visitorRow(page, 'Returns').waitFor({ state: 'detached', timeout: EVERY * 1000 + 3000 });
  await visitorRow(page, 'Blog')
    .locator('[data-testid=vis-chatting]')
    .waitFor({ timeout: EVERY * 1000 + 3000 });
  assert.match(await visitorRow(page, 'Pricing').locator('[data-testid=vis-invitation]').textContent(), /Invited|Seen/);
  assert.deepEqual(await C.problems(), []);
  clearInterval(keep);
  await v.close();
});

test('Admin → Invitations: create a rule, per-field errors for a bad one, switch off, delete; a supervisor reads', { timeout: 90000 }, async () => {
  const C = await consoleAs(admin);
  const page = C.page;
  await page.click('[data-testid=nav-admin-invitations]');
  await page.waitForSelector('[data-testid=inr-empty]');
  await page.click('[data-testid=inr-new]');
  await page.fill('[data-testid=inr-name]', 'Pricing, 30 s');
  await page.selectOption('[data-testid=inr-site-id]', String(site.id));
  await page.fill('[data-testid=inr-message]', 'Questions about our plans? I can help you pick one.');
  await page.fill('[data-testid=inr-sender-name]', 'Ana');
  // Out of range: the server names the field, and the form shows it there.
  await page.fill('[data-testid=inr-time-on-page-seconds]', '999999');
  await page.fill('[data-testid=inr-url-contains]', '/pricing');
  await page.fill('[data-testid=inr-countries]', 'de, at');
  await page.click('[data-testid=inr-save]');
  const timeField = page.locator('.field:has([data-testid=inr-time-on-page-seconds]) .field-error');
  await timeField.waitFor();
  assert.match(await timeField.textContent(), /0 to 86400/);
  assert.equal(await page.locator('.field:has([data-testid=inr-name]) .field-error').count(), 0);
  assert.match(await page.locator('[data-testid=inr-form-error]').textContent(), /need a fix/);
  await page.fill('[data-testid=inr-time-on-page-seconds]', '30');
  await page.fill('[data-testid=inr-min-visits]', '0');
  await page.click('[data-testid=inr-save]');
  await page.locator('.field:has([data-testid=inr-min-visits]) .field-error', { hasText: '1 to 1000' }).waitFor();
  assert.equal(await page.locator('.field:has([data-testid=inr-time-on-page-seconds]) .field-error').count(), 0);
  assert.equal((await as(admin, 'GET', '/api/invitation-rules')).json.rules.length, 0, 'nothing was saved');

  // A country that is not two letters is caught before sending.
  await page.fill('[data-testid=inr-countries]', 'de, at, X1');
  await page.click('[data-testid=inr-save]');
  await page.locator('.field:has([data-testid=inr-countries]) .field-error', { hasText: 'X1' }).waitFor();

  await page.fill('[data-testid=inr-countries]', 'de, at');
  await page.fill('[data-testid=inr-min-visits]', '');
  await page.click('[data-testid=inr-save]');
  const rowEl = page.locator('[data-testid=inr-rule]', { hasText: 'Pricing, 30 s' });
  await rowEl.waitFor();
  const [rule] = (await as(admin, 'GET', '/api/invitation-rules')).json.rules;
  assert.equal(rule.site_id, site.id);
  assert.equal(rule.sender_name, 'Ana');
  assert.equal(rule.enabled, true);
  assert.deepEqual(rule.conditions, { time_on_page_seconds: 30, url_contains: '/pricing', countries: ['DE', 'AT'] });
  assert.match(await rowEl.locator('[data-testid=inr-rule-when]').textContent(), /On a page for 30 s · URL contains “.?\/pricing.?” · from DE, AT/);
  assert.match(await rowEl.locator('[data-testid=inr-stats]').textContent(), /Not sent yet/);

  // Switch off.
  await rowEl.locator('[data-testid=inr-rule-enabled]').click({ force: true });
  await page.locator('.toast', { hasText: 'is off' }).waitFor();
  assert.equal((await as(admin, 'GET', '/api/invitation-rules')).json.rules[0].enabled, false);

  // A supervisor sees it, without controls.
  const S = await consoleAs(sup);
  await S.page.click('[data-testid=nav-admin-invitations]');
  const supRow = S.page.locator('[data-testid=inr-rule]', { hasText: 'Pricing, 30 s' });
  await supRow.waitFor();
  assert.equal(await S.page.locator('[data-testid=inr-new]').count(), 0);
  assert.equal(await supRow.locator('[data-testid=inr-rule-delete]').count(), 0);
  assert.equal(await supRow.locator('[data-testid=inr-rule-enabled]').isDisabled(), true);
  assert.deepEqual(await S.problems(), []);
  await S.context.close();
  // An agent has no such page (but has the Visitors view).
  const A = await consoleAs(ann);
  assert.equal(await A.page.locator('[data-testid=nav-admin-invitations]').count(), 0);
  assert.equal(await A.page.locator('[data-testid=nav-visitors]').count(), 1);
  await A.page.goto(`${fx.srv.origin}/console/#/admin/invitations`);
  await A.page.waitForSelector('.empty:has-text("Admins only")');
  assert.equal((await as(ann, 'GET', '/api/invitation-rules')).status, 403);
  await A.context.close();

  // Delete after the confirmation.
  await rowEl.locator('[data-testid=inr-rule-delete]').click();
  await page.locator('.modal button.danger').click();
  await page.waitForSelector('[data-testid=inr-empty]');
  assert.equal((await as(admin, 'GET', '/api/invitation-rules')).json.rules.length, 0);
  assert.deepEqual(await C.problems(), []);
});

test(
  'screenshots: the Visitors view, the invitation dialog, the visitor panel and Admin → Invitations, desktop and phone, en and zh-CN',
  { timeout: 240000 },
  async () => {
    // Lee's team has a site of its own, with nobody on it.
    const leeTeam = await createTeam(fx.pg, 'Night shift');
    await createSite(fx.pg, { name: 'Quiet shop', teamId: leeTeam });
    const lee = await createAgent(fx.pg, { name: 'Lee Chen', teams: [leeTeam] });
    // Somebody on the site from three places; one chatting with a long journey.
    const maria = await httpVisitor(MUNICH, {
      url: `${host.origin}/products/summit-jacket?colour=blue&size=m&utm_source=newsletter`,
      title: 'Summit Jacket — waterproof, breathable — Acme Outdoor',
      referrer: 'https://www.google.com/search?q=jacket',
    });
    const everyone = [
      maria,
      await httpVisitor(TOKYO, { url: `${host.origin}/checkout`, title: 'Checkout', language: 'ja-JP' }),
      await httpVisitor(SAO_PAULO, { url: `${host.origin}/`, title: 'Acme Outdoor', referrer: 'https://t.co/x' }),
    ];
    const v = await connectVisitor(fx.srv, site, { token: maria.token, origin: host.origin });
    const cid = (await v.ack({ type: 'conversation.start' })).conversation.id;
    await v.ack({ type: 'message.send', conversation_id: cid, body: 'Does the Summit Jacket run small?', client_msg_id: 'shot-1' });
    await as(admin, 'POST', '/api/invitation-rules', {
      site_id: site.id,
      name: 'Pricing page, 30 s',
      enabled: true,
      position: 10,
      message: 'Questions about our plans? I can help you pick one.',
      sender_name: 'Ana',
      conditions: { time_on_page_seconds: 30, url_contains: '/pricing', countries: ['DE', 'AT', 'CH'] },
    });
    // Keep them online while the pictures are taken.
    const keep = setInterval(() => {
      for (const x of everyone) x.beat({}).catch(() => {});
    }, 4000);
    try {
      for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
        const C = await openConsole(fx.browser, fx.srv, { viewport, locale });
        const page = C.page;
        await loginUI(page, admin);
        // The sidebar speaks the console's language, every item of it.
        const navWords = await page.locator('.sidebar .nav-label, .sidebar .nav-title').allTextContents();
        if (tag === 'zh') {
          assert.ok(navWords.includes('排队中') && navWords.includes('客服') && navWords.includes('快捷回复'), navWords.join(' '));
          assert.deepEqual(
            navWords.filter((w) => /[A-Za-z]{3}/.test(w) && !/^API|^Webhook/.test(w)),
            [],
            'English left in the sidebar',
          );
        } else {
          assert.ok(navWords.includes('Queue') && navWords.includes('Agents') && navWords.includes('Canned responses'), navWords.join(' '));
        }
        await page.click('[data-testid=nav-visitors]');
        await page.locator('[data-testid=vis-row]').nth(2).waitFor({ timeout: 15000 });
        await page.waitForTimeout(300);
        await shot(page, `console-visitors-online-${size}-${tag}`);
        const invite = page.locator('[data-testid=vis-invite]').first();
        if (await invite.count()) {
          await invite.click();
          await page.locator('[data-testid=vis-invite-message]').waitFor();
          await page.waitForTimeout(200);
          await shot(page, `console-visitors-invite-${size}-${tag}`);
          await page.keyboard.press('Escape');
        }
        await page.fill('[data-testid=vis-search]', 'nobody-matches-this');
        await page.locator('[data-testid=vis-empty]').waitFor();
        await shot(page, `console-visitors-empty-${size}-${tag}`);
        await page.fill('[data-testid=vis-search]', '');
        if (tag === 'zh') {
          // A conversation speaks it too: its state, its actions, the composer.
          await page.click('[data-testid=nav-all]');
          await convItem(page, cid).click();
          await page.locator('[data-testid=composer-input]').waitFor();
          assert.match(await page.locator('[data-testid=conv-status]').textContent(), /^(排队中|已分配)$/);
          // Send, note or (an admin's default in a queued chat) whisper: in Chinese.
          assert.match(await page.locator('[data-testid=send]').textContent(), /^(发送|添加备注|悄悄话)$/);
          assert.doesNotMatch(await page.locator('[data-testid=composer-input]').getAttribute('placeholder'), /[A-Za-z]{3}/);
        }
        if (size === 'desktop') {
          await page.click('[data-testid=nav-all]');
          await convItem(page, cid).click();
          await page.locator('[data-testid=journey-page]').first().waitFor({ timeout: 10000 });
          await page.waitForTimeout(300);
          await shot(page, `console-visitors-panel-${size}-${tag}`);
        }
        await page.click('[data-testid=nav-admin-invitations]');
        await page.locator('[data-testid=inr-rule]').first().waitFor();
        await shot(page, `console-visitors-rules-${size}-${tag}`);
        await page.click('[data-testid=inr-new]');
        await page.fill('[data-testid=inr-name]', tag === 'zh' ? '结账页面的帮助' : 'Help at the checkout');
        await page.selectOption('[data-testid=inr-site-id]', String(site.id));
        await page.fill('[data-testid=inr-countries]', 'DE, AT, CH');
        await page.fill('[data-testid=inr-time-on-page-seconds]', '999999');
        await page.click('[data-testid=inr-save]');
        await page.locator('.field:has([data-testid=inr-time-on-page-seconds]) .field-error').waitFor();
        await shot(page, `console-visitors-rule-editor-error-${size}-${tag}`);
        await page.evaluate(() => document.querySelector('.admin').scrollTo(0, 0));
        await shot(page, `console-visitors-rule-editor-${size}-${tag}`);
        assert.deepEqual(await C.problems(), [], `${size} ${tag}`);
        await C.context.close();
        // Nobody on Lee's site: the empty view.
        const L = await openConsole(fx.browser, fx.srv, { viewport, locale });
        await loginUI(L.page, lee);
        await L.page.click('[data-testid=nav-visitors]');
        await L.page.locator('[data-testid=vis-empty]').waitFor();
        await shot(L.page, `console-visitors-nobody-${size}-${tag}`);
        assert.deepEqual(await L.problems(), [], `nobody ${size} ${tag}`);
        await L.context.close();
      }
    } finally {
      clearInterval(keep);
      await v.close();
    }
  },
);
