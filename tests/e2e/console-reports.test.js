'use strict';
// The console's Reports section (docs/reports.md) against the real report
// functions, on conversations seeded with known timelines:
//  - the cards show the seeded figures and the previous period's, with the
//    change (up or down, coloured by whether it is good news);
//  - a click on an agent's bar, a day's point or an hour of the heatmap
//    lists exactly the conversations behind it, and a row opens the
//    conversation in the inbox; the CSV export is the same conversations;
//  - in Chinese, the toolbar, the cards and the headings have no English;
//  - an agent sees "My reports": their own figures only, no agent filter.
// Screenshots at 1280×800 and 390×844, in English and Chinese.
//
// The seeding writes the record the reports are computed from
// (conversation_events) with chosen times, its triggers off
// (session_replication_role = replica), then has parley_report_rebuild
// compute report_conversations from it.

const assert = require('node:assert/strict');
const pg = require('pg');

const { suite } = require('../helpers/suite');
const { createAgent } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, screenshotPairs, SIZES, LOCALES } = require('../helpers/browser');

const fx = suite({ browser: 'console', env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

const DAY = 86400000;
const TODAY = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
/** An instant `days` days before today (UTC), at hh:mm. */
const at = (days, hh, mm = 0) => TODAY - days * DAY + (hh * 60 + mm) * 60000;
const FROM = isoDay(TODAY - 6 * DAY);
const TO = isoDay(TODAY);

let admin;
let alice;
let bob;
let team;
let site;
const ids = {};
const plansStart = {}; // name -> start (ms)

/**
 * One conversation and its record: started at `start` (ms), then (seconds
 * after the start) assigned to `agent`, answered by them, closed (by whom),
 * missed, rated; offline: an offline message.
 */
function plan(name, start, { agent = null, assign, reply, close, by = 'agent', missed = false, offline = false, rating = null, comment = null } = {}) {
  const ev = [['started', start, null, 'team', { channel: 'widget', offline }]];
  if (offline) ev.push(['offline', start, null, 'team', null]);
  else ev.push(['queued', start, null, 'team', null]);
  if (assign !== undefined) ev.push(['assigned', start + assign * 1000, agent, 'team', null]);
  if (reply !== undefined) ev.push(['first_reply', start + reply * 1000, agent, null, null]);
  if (close !== undefined) ev.push(['closed', start + close * 1000, null, null, { by }]);
  if (missed) ev.push(['missed', start + close * 1000, null, null, null]);
  if (rating) ev.push(['rated', start + close * 1000, null, null, { rating, comment: Boolean(comment) }]);
  return { name, start, agent, assign, close, by, offline, rating, comment, ev };
}

/** Agents' states over time: [agent, state, at (ms)], each until the agent's next. */
async function seedActivity(c, rows) {
  for (const [agent, state, when] of rows)
    await c.query('INSERT INTO agent_activity (agent_id, state, at) VALUES ($1, $2, $3)', [agent, state, new Date(when)]);
}

async function seed(plans, activity) {
  const c = new pg.Client({ connectionString: fx.pg.url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica');
    for (const p of plans) {
      const v = await c.query('INSERT INTO visitors (site_id, name) VALUES ($1, $2) RETURNING id', [site.id, p.name]);
      const closed = p.close !== undefined;
      const r = await c.query(
        `INSERT INTO conversations (site_id, visitor_id, team_id, assignee_id, status, queued_at, assigned_at, closed_at,
                                    closed_by_kind, offline, rating, prechat, created_at, updated_at, rating_comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $6, $6, $13) RETURNING id`,
        [
          site.id,
          v.rows[0].id,
          team,
          closed ? p.agent : null,
          closed ? 'closed' : 'queued',
          new Date(p.start),
          p.assign !== undefined ? new Date(p.start + p.assign * 1000) : null,
          closed ? new Date(p.start + p.close * 1000) : null,
          closed ? p.by : null,
          p.offline,
          p.rating,
          { name: p.name },
          p.comment,
        ],
      );
      const id = Number(r.rows[0].id);
      ids[p.name] = id;
      plansStart[p.name] = p.start;
      for (const [kind, when, agent, teamOf, data] of p.ev) {
        await c.query('INSERT INTO conversation_events (conversation_id, at, kind, agent_id, team_id, data) VALUES ($1, $2, $3, $4, $5, $6)', [
          id,
          new Date(when),
          kind,
          agent,
          teamOf ? team : null,
          data,
        ]);
      }
    }
    await seedActivity(c, activity);
    await c.query('COMMIT');
    await c.query('SELECT parley_report_rebuild($1::bigint[])', [plans.map((p) => ids[p.name])]);
  } finally {
    await c.end();
  }
}

fx.setup(async () => {
  const made = await fx.teamWithSite({ agents: [{ name: 'Alice Answer' }, { name: 'Bob Reply' }] });
  team = made.team;
  site = made.site;
  [alice, bob] = made.agents;
  admin = await createAgent(fx.pg, { name: 'Rita Reports', role: 'admin', teams: [team] });
  await seed(
    [
      // This period (the last 7 days): 6 started, 4 answered, 1 missed, 1 offline.
      plan('c1', at(2, 10), { agent: alice.id, assign: 20, reply: 50, close: 600, rating: 'good' }),
      plan('c2', at(2, 11), { agent: alice.id, assign: 10, reply: 30, close: 300, rating: 'bad', comment: 'Waited too long <b>x</b>' }),
      plan('c3', at(3, 14), { agent: bob.id, assign: 40, reply: 90, close: 1200 }),
      plan('c4', at(3, 15), { close: 180, by: 'visitor', missed: true }),
      plan('c5', at(1, 9), { offline: true }),
      plan('c6', at(2, 16), { agent: bob.id, assign: 5, reply: 70, close: 1800, rating: 'good' }),
      // The 7 days before: 4 started, 2 answered, 2 missed.
      plan('p1', at(9, 10), { agent: alice.id, assign: 60, reply: 120, close: 900, rating: 'good' }),
      plan('p2', at(10, 10), { close: 300, by: 'system', missed: true }),
      plan('p3', at(10, 12), { close: 60, by: 'visitor', missed: true }),
      plan('p4', at(11, 10), { agent: bob.id, assign: 30, reply: 60, close: 400 }),
    ],
    [
      // Alice: online 9:00–11:00 and 11:30–17:00, away in between, two days ago; Bob 13:00–18:00 three days ago.
      [alice.id, 'online', at(2, 9)],
      [alice.id, 'away', at(2, 11)],
      [alice.id, 'online', at(2, 11, 30)],
      [alice.id, 'offline', at(2, 17)],
      [bob.id, 'online', at(3, 13)],
      [bob.id, 'offline', at(3, 18)],
    ],
  );
});

const kpi = (page, key) => page.locator(`[data-testid=rep-kpi][data-kpi=${key}]`);
const sorted = (list) => [...list].sort((a, b) => a - b);

/** The ids the drill-down lists (all pages). */
async function drillIds(page) {
  const drill = page.locator('[data-testid=rep-drill]');
  await drill.waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid=rep-drill] [role=progressbar]'));
  while (await page.locator('[data-testid=rep-drill-more]').count()) {
    const n = await page.locator('[data-testid=rep-drill-row]').count();
    await page.click('[data-testid=rep-drill-more]');
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=rep-drill-row]').length > k, n);
  }
  const rows = await page.locator('[data-testid=rep-drill-row]').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  return sorted(rows);
}

async function closeDrill(page) {
  await page.keyboard.press('Escape');
  await page.locator('[data-testid=rep-drill]').waitFor({ state: 'detached' });
}

/** The reports page for the last 7 days in UTC (the seeded days are UTC days). */
async function openReports(page) {
  await page.click('[data-testid=nav-reports]');
  await page.waitForSelector('[data-testid=reports]');
  await page.selectOption('[data-testid=rep-tz]', 'UTC');
  await page.selectOption('[data-testid=rep-preset]', '7d');
  await page.waitForSelector('[data-testid=reports][aria-busy=false] :is([data-testid=rep-kpi], [data-testid=rep-error])');
  const error = page.locator('[data-testid=rep-error]');
  if (await error.count()) assert.fail(await error.textContent());
}

/** A console signed in as `person`, on the reports of the last 7 days in UTC. */
async function reportsAs(person, { locale = 'en-US', viewport = { width: 1280, height: 800 } } = {}) {
  const C = await openConsole(fx.browser, fx.srv, { viewport, locale });
  await loginUI(C.page, person);
  await openReports(C.page);
  return C;
}

test('reports: the seeded figures, the previous period, and the conversations behind a bar, a point and an hour', { timeout: 180000 }, async () => {
  const C = await reportsAs(admin);
  const page = C.page;
  assert.match(page.url(), /#\/reports$/);
  assert.equal(await page.locator('h1').textContent(), 'Reports');

  // The cards: this period's figures, the previous period's, the change.
  const expect = {
    started: ['6', '4', 'up', 'neutral'],
    answered: ['4', '2', 'up', 'good'],
    missed: ['1', '2', 'down', 'good'],
    offline: ['1', '0', 'up', 'bad'],
    first_median: ['60', '90', 'down', 'good'], // 30 50 70 90 s; before 60 120 s
    wait: ['15', '45', 'down', 'good'], // 5 10 20 40 s; before 30 60 s
  };
  for (const [key, [value, prev, dir, tone]] of Object.entries(expect)) {
    const card = kpi(page, key);
    assert.equal(Number(await card.getAttribute('data-value')), Number(value), `${key} value`);
    assert.equal(Number(await card.getAttribute('data-prev')), Number(prev), `${key} previous`);
    const ch = card.locator('[data-testid=rep-change]');
    assert.equal(await ch.getAttribute('data-dir'), dir, `${key} direction`);
    assert.equal(await ch.getAttribute('data-tone'), tone, `${key} tone`);
  }
  assert.equal((await kpi(page, 'started').locator('[data-testid=rep-kpi-value]').textContent()).trim(), '6');
  assert.match(await kpi(page, 'started').textContent(), /▲.*50%.*before: 4/s);
  assert.match(await kpi(page, 'missed').textContent(), /▼.*50%.*before: 2/s);
  assert.equal((await kpi(page, 'first_median').locator('[data-testid=rep-kpi-value]').textContent()).trim(), '1m 00s');
  assert.match(await kpi(page, 'first_median').locator('[data-testid=rep-kpi-prev]').textContent(), /before: 1m 30s/);
  assert.equal((await kpi(page, 'first_p90').locator('[data-testid=rep-kpi-value]').textContent()).trim(), '1m 24s'); // 70 + 0.7 × 20
  assert.equal((await kpi(page, 'csat').locator('[data-testid=rep-kpi-value]').textContent()).trim(), '67%');
  assert.match(await kpi(page, 'csat').textContent(), /3 ratings/);
  assert.match(await page.locator('[data-testid=rep-period]').textContent(), /compared with/);

  // A card lists its conversations: the missed one.
  await kpi(page, 'missed').click();
  assert.deepEqual(await drillIds(page), [ids.c4]);
  await closeDrill(page);

  // One agent's bar: exactly the conversations they answered.
  const bars = page.locator('[data-testid=rep-agent-bar-row]');
  assert.equal(await bars.count(), 2);
  await page.click(`[data-testid=rep-agent-bar-row][data-id="${alice.id}"]`);
  assert.deepEqual(await drillIds(page), sorted([ids.c1, ids.c2]));
  await closeDrill(page);
  // ... by the keyboard too.
  await page.focus(`[data-testid=rep-agent-bar-row][data-id="${bob.id}"]`);
  await page.keyboard.press('Enter');
  assert.deepEqual(await drillIds(page), sorted([ids.c3, ids.c6]));
  await closeDrill(page);

  // One day's point (3 days ago: the 4th of the 7 buckets): every conversation started that day.
  const points = page.locator('[data-testid=rep-line-point]');
  assert.equal(await points.count(), 7);
  await points.nth(3).click();
  assert.deepEqual(await drillIds(page), sorted([ids.c3, ids.c4]));
  // The outcome narrows it to the number behind a series.
  await page.selectOption('[data-testid=rep-drill-outcome]', 'answered');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=rep-drill-row]').length === 1);
  assert.deepEqual(await drillIds(page), [ids.c3]);
  await closeDrill(page);
  // The arrow keys walk the points; Enter picks one (2 days ago: c1, c2, c6).
  await points.nth(0).focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  assert.deepEqual(await drillIds(page), sorted([ids.c1, ids.c2, ids.c6]));
  // A rating's comment shows beside it, as text.
  const comment = page.locator(`[data-testid=rep-drill-row][data-id="${ids.c2}"] [data-testid=rep-drill-comment]`);
  assert.equal(await comment.textContent(), 'Waited too long <b>x</b>');
  assert.equal(await page.locator('[data-testid=rep-drill] b').count(), 0, 'never markup');
  await closeDrill(page);

  // The heatmap: c4's hour (15:00 on its weekday) holds it alone.
  const wd = (new Date(at(3, 15)).getUTCDay() + 6) % 7;
  const cell = page.locator(`[data-testid=rep-heat-cell][data-day="${wd}"][data-hour="15"]`);
  assert.match(await cell.getAttribute('aria-label'), /: 1 chats started/);
  await cell.click();
  assert.deepEqual(await drillIds(page), [ids.c4]);

  // Bob was online at c4's hour: it is not marked as an hour with chats and nobody there.
  assert.match(await cell.getAttribute('aria-label'), /1 agents online on average/);
  assert.doesNotMatch(await cell.locator('rect').getAttribute('class'), /rep-cell-marked/);

  // The agents' activity: time online and away.
  const activity = async (id) => page.locator(`[data-testid=rep-activity-row][data-id="${id}"] td`).allTextContents();
  assert.deepEqual((await activity(alice.id)).slice(1, 3), ['7h 30m', '30m 00s']);
  assert.deepEqual((await activity(bob.id)).slice(1, 3), ['5h 00m', '0s']);

  // A row opens the conversation in the inbox.
  await page.click(`[data-testid=rep-drill-row][data-id="${ids.c4}"]`);
  await page.waitForFunction((id) => location.hash === `#/closed/${id}`, ids.c4);
  await page.waitForSelector('.conv-head');
  assert.match(await page.locator('.conv-head').textContent(), /c4/);

  // The CSV export: the period's conversations, with the session cookie.
  await openReports(page);
  const href = await page.getAttribute('[data-testid=rep-export]', 'href');
  assert.match(href, new RegExp(`^/api/reports/export\\?from=${FROM}&to=${TO}&tz=UTC$`));
  const csv = await page.evaluate(async (h) => {
    const r = await fetch(h);
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  }, href);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  const lines = csv.text.trim().split(/\r?\n/);
  assert.match(lines[0], /^conversation_id,started_at,/);
  assert.deepEqual(sorted(lines.slice(1).map((l) => Number(l.split(',')[0]))), sorted(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((n) => ids[n])));
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('reports: custom dates, drawn by the hour (two days) or by the week (over 92 days)', { timeout: 120000 }, async () => {
  const C = await reportsAs(admin);
  const page = C.page;
  const busy = () => page.waitForSelector('[data-testid=reports][aria-busy=false] [data-testid=rep-kpi]');

  // Two days (3 and 2 days ago): 48 hours; c4's hour (15:00 three days ago) holds it alone.
  await page.selectOption('[data-testid=rep-preset]', 'custom');
  await page.fill('[data-testid=rep-from]', isoDay(at(3, 0)));
  await page.fill('[data-testid=rep-to]', isoDay(at(2, 0)));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=rep-line-point]').length === 48);
  await busy();
  assert.equal(await kpi(page, 'started').getAttribute('data-value'), '5'); // c1 c2 c3 c4 c6
  await page.locator('[data-testid=rep-over-time]').scrollIntoViewIfNeeded();
  await shot(page, 'console-reports-hours-desktop-en');
  await page.locator('[data-testid=rep-line-point]').nth(15).click();
  assert.deepEqual(await drillIds(page), [ids.c4]);
  await closeDrill(page);

  // A start after the end is refused in the toolbar, and nothing is asked.
  await page.fill('[data-testid=rep-from]', isoDay(at(1, 0)));
  await page.locator('.rep-range-error').waitFor();
  assert.equal(await kpi(page, 'started').getAttribute('data-value'), '5');

  // 120 days: weeks; the last week's point lists its conversations within the period.
  await page.fill('[data-testid=rep-to]', TO);
  await page.fill('[data-testid=rep-from]', isoDay(at(119, 0)));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=rep-line-point]').length >= 18);
  await busy();
  assert.equal(await kpi(page, 'started').getAttribute('data-value'), '10');
  const weeks = await page.locator('[data-testid=rep-line-point]').count();
  await page.locator('[data-testid=rep-over-time]').scrollIntoViewIfNeeded();
  await shot(page, 'console-reports-weeks-desktop-en');
  await page
    .locator('[data-testid=rep-line-point]')
    .nth(weeks - 1)
    .click();
  const monday = TODAY - ((new Date(TODAY).getUTCDay() + 6) % 7) * DAY;
  const expected = Object.entries(ids)
    .filter(([n]) => plansStart[n] >= monday)
    .map(([, id]) => id);
  assert.deepEqual(await drillIds(page), sorted(expected));
  await closeDrill(page);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

/** Latin words in a text (what people wrote aside, there should be none in Chinese). */
const latin = (s) => (s.match(/[A-Za-z]{2,}/g) || []).join(' ');

/**
 * Every word a person reads or hears in an element: its text (of a select,
 * the chosen option), its aria-labels and titles, with the names of people
 * left out.
 */
function wordsIn(page, selector, names) {
  return page.evaluate(
    ([sel, skip]) => {
      const root = document.querySelector(sel);
      const out = [];
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) if (!n.parentElement.closest('select')) out.push(n.nodeValue);
      for (const s of root.querySelectorAll('select')) out.push(s.options[s.selectedIndex].text);
      for (const e of [root, ...root.querySelectorAll('[aria-label], [title]')]) out.push(e.getAttribute('aria-label') || '', e.getAttribute('title') || '');
      return out.map((s) => skip.reduce((x, name) => x.split(name).join(''), s)).filter((s) => s.trim());
    },
    [selector, names],
  );
}

test('reports in Chinese: no English on the page or in its drill-down', { timeout: 120000 }, async () => {
  const C = await reportsAs(admin, { locale: 'zh-CN' });
  const page = C.page;
  assert.equal(await page.locator('h1').textContent(), '报表');
  assert.equal((await page.locator('[data-testid=nav-reports]').textContent()).trim(), '报表');
  // People's names and words (a visitor's comment) stay as they wrote them.
  const names = [alice.name, bob.name, admin.name, 'Waited too long <b>x</b>'];
  const words = await wordsIn(page, '[data-testid=reports]', names);
  assert.ok(words.length > 100, `${words.length} texts`);
  for (const s of words) assert.equal(latin(s), '', `English in "${s}"`);
  assert.equal((await kpi(page, 'first_median').locator('[data-testid=rep-kpi-value]').textContent()).trim(), '1分00秒');
  // The other views of the cards, and the drill-down.
  await page.click('[data-testid=rep-busy-hours-view] [data-value=load]');
  await page.click('[data-testid=rep-by-agent-view] [data-value=first]');
  for (const s of await wordsIn(page, '[data-testid=reports]', names)) assert.equal(latin(s), '', `English in "${s}"`);
  await kpi(page, 'answered').click();
  await page.waitForSelector('[data-testid=rep-drill-row]');
  for (const s of await wordsIn(page, '[role=dialog]', names)) assert.equal(latin(s), '', `English in "${s}"`);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('an agent sees "My reports": their own figures, no agent filter', { timeout: 120000 }, async () => {
  const C = await reportsAs(alice);
  const page = C.page;
  assert.equal((await page.locator('[data-testid=nav-reports]').textContent()).trim(), 'My reports');
  assert.equal(await page.locator('h1').textContent(), 'My reports');
  assert.equal(await page.locator('[data-testid=rep-agent]').count(), 0, 'no agent filter');
  assert.equal(await page.locator('[data-testid=rep-by-agent]').count(), 0, 'no bars per agent');
  // Alice answered c1 and c2 this period and p1 before.
  assert.equal(await kpi(page, 'started').getAttribute('data-value'), '2');
  assert.equal(await kpi(page, 'answered').getAttribute('data-value'), '2');
  assert.equal(await kpi(page, 'missed').getAttribute('data-value'), '0');
  assert.equal(await kpi(page, 'started').getAttribute('data-prev'), '1');
  await kpi(page, 'started').click();
  assert.deepEqual(await drillIds(page), sorted([ids.c1, ids.c2]));
  await closeDrill(page);
  // Her activity only.
  const rows = await page.locator('[data-testid=rep-activity-row]').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  assert.ok(
    rows.every((id) => id === alice.id),
    `activity rows ${rows}`,
  );
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('reports: screenshots at both sizes in both languages', { timeout: 180000 }, async () => {
  for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
    const C = await reportsAs(admin, { viewport, locale });
    const page = C.page;
    await page.waitForTimeout(300);
    await shot(page, `console-reports-${size}-${tag}`);
    await page.locator('[data-testid=rep-busy-hours]').scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    await shot(page, `console-reports-charts-${size}-${tag}`);
    await page.click('[data-testid=rep-busy-hours-view] [data-value=load]');
    await page.waitForTimeout(100);
    await shot(page, `console-reports-load-${size}-${tag}`);
    await page.locator('[data-testid=rep-line-point]').nth(4).click();
    await page.waitForSelector('[data-testid=rep-drill-row]');
    await page.waitForTimeout(200);
    await shot(page, `console-reports-drill-${size}-${tag}`);
    assert.deepEqual(await C.problems(), [], `${size} ${tag}`);
    await C.context.close();
  }
});
