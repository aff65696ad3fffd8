'use strict';
// Business hours, SLA clocks and escalation rules in the console, the
// supervisors' live board and the widget outside business hours:
//  - an admin sets a team's hours, holidays, SLA targets, escalation rules
//    and capacity rule through Admin → Teams → Settings; they are saved and
//    read back, and the server's refusals show next to the field they name;
//  - a conversation's SLA clock counts down in its header and list row,
//    turns to "overdue" when the target is missed, and stops when the agent
//    answers (the server sends no update for that);
//  - the live board shows a new visitor waiting and an agent's load change
//    without a reload;
//  - outside business hours the widget shows the offline form and when the
//    team is back, in the visitor's own time with the weekday.
// Screenshots of each view at 1280×800 and 390×844, in English and Chinese.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, startConversation, sendMessage, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, screenshotPairs, SIZES, LOCALES } = require('../helpers/browser');
const { startHostPage, watchPage, openWidget } = require('../helpers/widget');

const fx = suite({ browser: 'console', env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

let admin;
let asAdmin;
let host;
const hostConfig = { parley: '', siteKey: '' };

fx.setup(async () => {
  admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  const s = await login(fx.srv, admin.email, admin.password);
  assert.equal(s.res.status, 200);
  asAdmin = (method, p, json) => request(fx.srv, { method, path: p, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
  hostConfig.parley = fx.srv.url;
  host = await startHostPage(hostConfig);
});
fx.teardown(async () => {
  if (host) await host.close().catch(() => {});
});

const teamOf = async (id) => (await asAdmin('GET', '/api/teams')).json.teams.find((t) => t.id === id);
const patchTeam = async (id, json) => {
  const r = await asAdmin('PATCH', `/api/teams/${id}`, json);
  assert.equal(r.status, 200, r.body);
};

/** Screenshots of what `open(page)` shows, at both sizes and in both languages. */
async function shots(name, agent, open, more) {
  for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
    const C = await openConsole(fx.browser, fx.srv, { viewport, locale });
    await loginUI(C.page, agent);
    await open(C.page);
    await C.page.waitForTimeout(300);
    await shot(C.page, `console-${name}-${size}-${tag}`);
    if (more) {
      await more(C.page);
      await C.page.waitForTimeout(200);
      await shot(C.page, `console-${name}-more-${size}-${tag}`);
    }
    assert.deepEqual(await C.problems(), [], `${name} ${size} ${tag}`);
    await C.context.close();
  }
}

test('team settings: saved through the UI, read back, and a refusal shown on its field', { timeout: 180000 }, async () => {
  const team = await createTeam(fx.pg, 'Support Desk');
  const billing = await createTeam(fx.pg, 'Billing');
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, admin);
  await page.click('[data-testid=nav-admin-teams]');
  const card = page.locator('[data-testid=team-card]', { hasText: 'Support Desk' });
  await card.locator('[data-testid=team-settings-open]').click();
  await page.waitForSelector('[data-testid=team-settings]');
  assert.match(page.url(), new RegExp(`#/admin/teams/${team}$`));

  await page.check('[data-testid=ts-hours-set]');
  await page.fill('[data-testid=ts-timezone]', 'Europe/Berlin');
  const mon = page.locator('[data-testid=ts-day][data-day=mon]');
  // A span that closes before it opens: the server names week.mon[0].
  await mon.locator('[data-testid=ts-open]').first().fill('10:00');
  await mon.locator('[data-testid=ts-close]').first().fill('09:00');
  await page.click('[data-testid=ts-save]');
  await mon.locator('.field-error').waitFor();
  assert.match(await mon.locator('.field-error').textContent(), /closes before it opens/);
  await page.waitForSelector('[data-testid=ts-errors]');

  // Fixed: 08:00–12:00 and 13:00–18:00 on Monday; Saturday mornings; a holiday.
  await mon.locator('[data-testid=ts-open]').first().fill('08:00');
  await mon.locator('[data-testid=ts-close]').first().fill('12:00');
  await mon.locator('[data-testid=ts-add-span]').click();
  await mon.locator('[data-testid=ts-open]').nth(1).fill('13:00');
  await mon.locator('[data-testid=ts-close]').nth(1).fill('18:00');
  const sat = page.locator('[data-testid=ts-day][data-day=sat]');
  await sat.locator('[data-testid=ts-add-span]').click();
  await sat.locator('[data-testid=ts-open]').fill('10:00');
  await sat.locator('[data-testid=ts-close]').fill('14:00');
  await page.click('[data-testid=ts-add-holiday]');
  await page.fill('[data-testid=ts-holiday]', '2026-12-25');

  // SLA: a first response target below the server's minimum is refused on its field.
  await page.check('[data-testid=ts-sla-on]');
  await page.fill('[data-testid=ts-first-n]', '5');
  await page.selectOption('[data-testid=ts-first-unit]', '1');
  await page.fill('[data-testid=ts-next-n]', '10');
  await page.selectOption('[data-testid=ts-next-unit]', '60');
  await page.fill('[data-testid=ts-resolution-n]', '4');
  await page.selectOption('[data-testid=ts-resolution-unit]', '3600');
  await page.check('[data-testid=ts-wall-time]');
  await page.click('[data-testid=ts-save]');
  const first = page.locator('[data-field="sla.first_response_seconds"] .field-error');
  await first.waitFor();
  assert.match(await first.textContent(), /10 to 31536000/);
  assert.equal(await mon.locator('.field-error').count(), 0, 'the fixed day shows no error');
  await page.fill('[data-testid=ts-first-n]', '2');
  await page.selectOption('[data-testid=ts-first-unit]', '60');

  // Escalation rules and capacity.
  await page.check('[data-testid=ts-qw-on]');
  await page.fill('[data-testid=ts-qw-after-n]', '3');
  await page.selectOption('[data-testid=ts-qw-action]', 'team');
  await page.selectOption('[data-testid=ts-qw-team]', String(billing));
  await page.check('[data-testid=ts-re-on]');
  await page.fill('[data-testid=ts-re-after-n]', '90');
  await page.selectOption('[data-testid=ts-re-after-unit]', '1');
  await page.check('[data-testid=ts-idle-on]');
  await page.fill('[data-testid=ts-idle-after-n]', '30');
  await page.fill('[data-testid=ts-idle-message]', 'Closing this chat for now — write again any time.');
  await page.check('[data-testid=ts-capacity]');
  await page.click('[data-testid=ts-save]');
  await page.waitForSelector('.toast:has-text("Settings saved")');
  assert.equal(await page.locator('[data-testid=team-settings] .field-error').count(), 0);

  const saved = await teamOf(team);
  assert.deepEqual(saved.business_hours, {
    timezone: 'Europe/Berlin',
    week: {
      mon: [
        ['08:00', '12:00'],
        ['13:00', '18:00'],
      ],
      tue: [['09:00', '17:00']],
      wed: [['09:00', '17:00']],
      thu: [['09:00', '17:00']],
      fri: [['09:00', '17:00']],
      sat: [['10:00', '14:00']],
    },
    holidays: ['2026-12-25'],
  });
  assert.deepEqual(saved.sla, { first_response_seconds: 120, next_response_seconds: 600, resolution_seconds: 14400, business_time: false });
  assert.deepEqual(saved.escalation, {
    queue_wait: { after_seconds: 180, to_team_id: billing },
    reassign_after_seconds: 90,
    visitor_idle: { after_seconds: 1800, message: 'Closing this chat for now — write again any time.' },
  });
  assert.equal(saved.collaborators_use_capacity, true);

  // Read back after a reload.
  await page.reload();
  await page.waitForSelector('[data-testid=team-settings]');
  assert.equal(await page.inputValue('[data-testid=ts-timezone]'), 'Europe/Berlin');
  assert.equal(await mon.locator('[data-testid=ts-close]').nth(1).inputValue(), '18:00');
  assert.equal(await page.inputValue('[data-testid=ts-holiday]'), '2026-12-25');
  assert.equal(await page.inputValue('[data-testid=ts-first-n]'), '2');
  assert.equal(await page.inputValue('[data-testid=ts-first-unit]'), '60');
  assert.equal(await page.inputValue('[data-testid=ts-resolution-n]'), '4');
  assert.equal(await page.inputValue('[data-testid=ts-resolution-unit]'), '3600');
  assert.ok(await page.isChecked('[data-testid=ts-wall-time]'));
  assert.equal(await page.inputValue('[data-testid=ts-qw-team]'), String(billing));
  assert.equal(await page.inputValue('[data-testid=ts-re-after-n]'), '90');
  assert.ok(await page.isChecked('[data-testid=ts-capacity]'));
  assert.deepEqual(await C.problems(), []);
  await C.context.close();

  await shots(
    'team-settings',
    admin,
    async (p) => {
      await p.evaluate((id) => {
        location.hash = `#/admin/teams/${id}`;
      }, team);
      await p.waitForSelector('[data-testid=team-settings]');
    },
    async (p) => {
      await p.locator('[data-testid=ts-qw-on]').scrollIntoViewIfNeeded();
    },
  );
});

test('SLA clock: counts down in the header and the list, turns overdue, stops when the agent answers', { timeout: 120000 }, async () => {
  const team = await createTeam(fx.pg, 'Clocks');
  await patchTeam(team, { sla: { first_response_seconds: 12, next_response_seconds: 10, business_time: false } });
  const site = await createSite(fx.pg, { teamId: team });
  const ann = await createAgent(fx.pg, { name: 'Ann Clock', teams: [team] });
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, ann);
  await page.click('.status-opt.status-online');
  await page.waitForSelector('.status-opt.status-online[aria-checked=true]');

  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v, { prechat: { name: 'Cleo Clock' } });
  await sendMessage(v, cid, 'My order has not arrived');
  const item = page.locator(`[data-testid=conv-item][data-id="${cid}"]`);
  await item.click();
  const head = page.locator('.conv-head [data-testid=sla-clock]');
  const row = item.locator('[data-testid=sla-clock]');
  await head.waitFor({ timeout: 10000 });
  await row.waitFor();
  assert.equal(await head.getAttribute('data-kind'), 'first_response');
  assert.equal(await head.getAttribute('data-state'), 'running');
  assert.match(await head.textContent(), /^First response in 0:(0\d|1[0-2])$/);
  // It ticks.
  const before = await head.textContent();
  await waitFor(async () => (await head.textContent()) !== before, { timeoutMs: 3000, what: 'the clock ticking' });
  await shots('sla-clock', ann, async (p) => {
    await p.evaluate((id) => {
      location.hash = `#/mine/${id}`;
    }, cid);
    await p.waitForSelector('.conv-head [data-testid=sla-clock]');
  });

  // Missed: overdue, in the header and in the row.
  await page.waitForSelector('.conv-head [data-testid=sla-clock][data-state=breached]', { timeout: 20000 });
  await item.locator('[data-testid=sla-clock][data-state=breached]').waitFor();
  assert.match(await head.textContent(), /^First response overdue 0:\d\d$/);
  assert.match(await head.getAttribute('class'), /sla-breached/);
  await shot(page, 'console-sla-clock-breached-desktop-en');

  // The agent answers: the clock stops at once.
  const input = page.locator('[data-testid=composer-input]');
  await input.click();
  await input.type('Let me look into it.');
  await input.press('Enter');
  await head.waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await row.count(), 0);

  // The visitor writes again: the next response clock runs (10 s) ...
  await sendMessage(v, cid, 'Any news?');
  await page.waitForSelector('.conv-head [data-testid=sla-clock][data-kind=next_response]', { timeout: 10000 });
  assert.match(await head.textContent(), /^Next response in 0:(0\d|10)$/);
  // ... and stops when the agent answers, though no conversation.updated says so.
  await input.click();
  await input.type('It ships today.');
  await input.press('Enter');
  await head.waitFor({ state: 'detached', timeout: 5000 });
  await page.waitForTimeout(1500);
  assert.equal(await page.locator('.conv-head [data-testid=sla-clock]').count(), 0);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('live board: a new visitor appears waiting and an agent’s load changes without a reload', { timeout: 150000 }, async () => {
  const team = await createTeam(fx.pg, 'Live Desk');
  await patchTeam(team, { sla: { first_response_seconds: 20, business_time: false } });
  const site = await createSite(fx.pg, { teamId: team });
  const bo = await createAgent(fx.pg, { name: 'Bo Board', teams: [team], maxChats: 3 });
  const w = await connectAgent(fx.srv, bo, { status: 'away' });
  const sup = await createAgent(fx.pg, { name: 'Sue Supervisor', role: 'supervisor' });

  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, sup);
  await page.click('[data-testid=nav-board]');
  await page.waitForSelector('[data-testid=board]');
  assert.match(page.url(), /#\/board$/);
  const col = page.locator(`[data-testid=board-team][data-id="${team}"]`);
  await col.waitFor();
  await col.locator('text=Nobody is waiting.').waitFor();
  const agentRow = col.locator(`[data-testid=board-agent][data-id="${bo.id}"]`);
  assert.equal((await agentRow.locator('[data-testid=board-load]').textContent()).trim(), '0/3');

  // A visitor arrives: waiting, ticking, and at risk of the first-response target.
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v, { prechat: { name: 'Wanda Waiting' } });
  const waiting = col.locator(`[data-testid=board-waiting][data-id="${cid}"]`);
  await waiting.waitFor({ timeout: 5000 });
  assert.match(await waiting.textContent(), /Wanda Waiting/);
  const t0 = await waiting.locator('[data-testid=board-wait]').textContent();
  await waitFor(async () => (await waiting.locator('[data-testid=board-wait]').textContent()) !== t0, { timeoutMs: 3000, what: 'the wait ticking' });
  await col.locator(`[data-testid=board-risk][data-id="${cid}"][data-state=running]`).waitFor({ timeout: 5000 });

  // The agent takes it: it leaves the queue and the load shows.
  await w.ack({ type: 'conversation.accept', conversation_id: cid });
  await waiting.waitFor({ state: 'detached', timeout: 5000 });
  await waitFor(async () => (await agentRow.getAttribute('data-load')) === '1', { timeoutMs: 5000, what: 'the load' });
  assert.equal((await agentRow.locator('[data-testid=board-load]').textContent()).trim(), '1/3');
  // Another visitor waits meanwhile (for the screenshots), and the first target is missed.
  const v2 = await connectVisitor(fx.srv, site);
  const cid2 = await startConversation(v2, { prechat: { name: 'Walt Waiting' } });
  await col.locator(`[data-testid=board-waiting][data-id="${cid2}"]`).waitFor({ timeout: 5000 });
  await col.locator(`[data-testid=board-risk][data-id="${cid}"][data-state=breached]`).waitFor({ timeout: 30000 });
  assert.deepEqual(await C.problems(), []);
  await C.context.close();

  await shots('board', sup, async (p) => {
    await p.click('[data-testid=nav-board]');
    await p.waitForSelector(`[data-testid=board-team][data-id="${team}"] [data-testid=board-waiting]`);
    await p.locator(`[data-testid=board-team][data-id="${team}"]`).scrollIntoViewIfNeeded();
  });
});

const isoDay = (d) => d.toISOString().slice(0, 10);

test('widget outside business hours: the offline form and when the team is back, in the visitor’s time', { timeout: 120000 }, async () => {
  // Open all day every day, but today and tomorrow (UTC) are holidays.
  const team = await createTeam(fx.pg, 'Closed Desk');
  const week = {};
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) week[d] = [['00:00', '24:00']];
  const now = Date.now();
  await patchTeam(team, { business_hours: { timezone: 'UTC', week, holidays: [isoDay(new Date(now)), isoDay(new Date(now + 86400e3))] } });
  const backAt = `${isoDay(new Date(now + 2 * 86400e3))}T00:00:00Z`;
  // Someone is online: only the hours make the widget offline.
  const on = await createAgent(fx.pg, { name: 'Olli Online', teams: [team] });
  await connectAgent(fx.srv, on, { status: 'online' });
  const site = await createSite(fx.pg, { teamId: team, origins: [host.origin] });
  hostConfig.siteKey = site.key;
  const zone = 'America/New_York';
  const expected = {
    en: `We're back at ${new Intl.DateTimeFormat('en', { weekday: 'long', hour: 'numeric', minute: '2-digit', timeZone: zone }).format(new Date(backAt))}.`,
    zh: `我们将于${new Intl.DateTimeFormat('zh-CN', { weekday: 'long', hour: 'numeric', minute: '2-digit', timeZone: zone }).format(new Date(backAt))}恢复服务。`,
  };
  for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
    const ctx = await fx.browser.newContext({ viewport, locale, timezoneId: zone });
    const page = await ctx.newPage();
    watchPage(page);
    await page.goto(host.url);
    const frame = await openWidget(page);
    const back = frame.locator('[data-testid=back-at]');
    await back.waitFor();
    assert.equal((await back.textContent()).trim(), expected[tag]);
    await frame.getByText(tag === 'en' ? 'We are away right now' : '客服暂时不在').waitFor();
    await frame.getByRole('button', { name: tag === 'en' ? 'Send message' : '发送留言' }).waitFor();
    await page.waitForTimeout(400);
    await shot(page, `widget-back-at-${size}-${tag}`);
    await ctx.close();
  }
});
