'use strict';
// Visitors online and invitations, end to end in Chromium: the loader on a
// page of another origin beats (page views, the server's interval, a beacon
// when the page is left), the console's visitor list and journey see it, an
// agent's invitation opens the widget by itself and the visitor's answer
// starts the conversation, an automatic rule does not open the widget of a
// visitor who closed it in this browser session, and closing an invitation
// counts as ignored. Screenshots of the invitation (desktop and phone, en and
// zh-CN) go to test-results/screenshots/widget-invite-*.png.

const assert = require('node:assert/strict');

const { createAgent, connectAgent, agentSession, conversationRow, waitFor } = require('../helpers/fixtures');
const { request } = require('../helpers/http');
const { widgetSuite, widgetFrame, launcher, openWidget, screenshot, bubbleTexts } = require('../helpers/widget');

// The server's beat interval for this suite (PARLEY_VISITOR_BEAT_SECONDS):
// neither the client's floor (2, the server's own minimum) nor the default (15), so
// that honouring it shows.
const EVERY = 3;

let admin;
let ann;
let agent;
const stack = widgetSuite({ env: { PARLEY_VISITOR_BEAT_SECONDS: String(EVERY) } });
const { test } = stack;

stack.setup(async () => {
  admin = await createAgent(stack.pg, { name: 'Ada Admin', role: 'admin' });
  ann = await createAgent(stack.pg, { name: 'Ana Souza', teams: [stack.team] });
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
});

/** A console REST call as an agent fixture (session cookie + CSRF). */
async function as(who, method, path, json) {
  const s = await agentSession(stack.srv, who);
  return request(stack.srv, {
    method,
    path,
    json,
    origin: stack.srv.origin,
    headers: { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf },
  });
}

async function online(query = {}) {
  const q = new URLSearchParams({ site_id: String(stack.site.id), ...query });
  const r = await as(admin, 'GET', `/api/visitors/online?${q}`);
  assert.equal(r.status, 200, r.body);
  return r.json.visitors;
}

/** The online visitor whose current page is `url` (waits for it). */
async function visitorOn(url, what = url) {
  let found = null;
  await waitFor(
    async () => {
      found = (await online()).find((v) => v.page && v.page.url === url);
      return !!found;
    },
    { timeoutMs: 10000, intervalMs: 250, what: `the visitor on ${what} in /api/visitors/online` },
  );
  return found;
}

/** Every beat a page sends: {at, body (parsed), type (content type)}. */
function recordBeats(page) {
  const beats = [];
  page.on('request', (r) => {
    if (!r.url().endsWith('/api/widget/beat')) return;
    let body = null;
    try {
      body = JSON.parse(r.postData());
    } catch {
      /* not JSON */
    }
    beats.push({ at: Date.now(), body, type: r.headers()['content-type'] || '' });
  });
  return beats;
}

const isOpen = async (page) => (await launcher(page).getAttribute('aria-expanded')) === 'true';

test('a page view on another origin reaches the server; a second page makes a journey of two', async () => {
  const page = await stack.newPage({ timezoneId: 'America/Sao_Paulo' });
  const beats = recordBeats(page);
  stack.host.config.title = 'Acme Outdoor';
  const v = await visitorOn(stack.host.url);
  assert.equal(v.page.title, 'Acme Outdoor');
  assert.equal(v.site_id, stack.site.id);
  assert.equal(v.chatting, null);
  assert.equal(v.widget_closed, false);
  assert.ok(!page.frames().some((f) => f.url().includes('/widget/frame.html')), 'a beat needs no chat frame');

  // A simple CORS request: text/plain, no preflight; the first beat is a view.
  await waitFor(() => beats.length >= 1, { what: 'the first beat' });
  const first = beats[0];
  assert.match(first.type, /^text\/plain/);
  assert.equal(first.body.v, 1);
  assert.equal(first.body.u, stack.host.url);
  assert.equal(first.body.n, 'Acme Outdoor');
  assert.equal(first.body.s, await page.evaluate(() => `${screen.width}x${screen.height}`));
  assert.equal(first.body.l, 'en-US');
  assert.equal(first.body.z, 'America/Sao_Paulo');
  assert.equal(v.location.time_zone, 'America/Sao_Paulo', "the visitor's local time comes from the browser");
  assert.equal(typeof first.body.b, 'string');
  assert.equal(first.body.x, undefined);

  // The next page of the visit.
  stack.host.config.title = 'Summit Jacket — Acme Outdoor';
  const second = `${stack.host.origin}/products/summit-jacket`;
  await page.goto(second);
  const again = await visitorOn(second);
  assert.equal(again.visitor_id, v.visitor_id, 'the same visitor');
  assert.equal(again.page.title, 'Summit Jacket — Acme Outdoor');
  assert.equal(again.pages_this_visit, 2);

  const ctx = await as(admin, 'GET', `/api/visitors/${v.visitor_id}/context`);
  assert.equal(ctx.status, 200, ctx.body);
  const visit = ctx.json.visits[0];
  assert.deepEqual(
    visit.pages.map((p) => [p.url, p.title]),
    [
      [stack.host.url, 'Acme Outdoor'],
      [second, 'Summit Jacket — Acme Outdoor'],
    ],
  );
  assert.equal(visit.pages[1].seconds, null, 'the page still open has no time on page yet');
  assert.equal(ctx.json.visitor.online, true);
  stack.host.config.title = '';
  await page.context().close();
});

test('the beat interval comes from the server; a single-page app navigation is a page view', async () => {
  const page = await stack.newPage();
  const beats = recordBeats(page);
  await waitFor(() => beats.length >= 3, { timeoutMs: 3 * EVERY * 1000 + 5000, what: 'three beats' });
  const gaps = beats.slice(1, 3).map((b, i) => (b.at - beats[i].at) / 1000);
  for (const g of gaps) assert.ok(g > EVERY - 1 && g < EVERY + 2, `beats ${g.toFixed(1)} s apart, the server says ${EVERY} s`);
  // After the page view, plain beats: URL and title only.
  assert.equal(beats[1].body.v, undefined);
  assert.equal(beats[1].body.r, undefined);
  assert.equal(beats[1].body.u, stack.host.url);

  // history.pushState: the next beat is a view of the new URL.
  const spa = `${stack.host.origin}/checkout#step-2`;
  await page.evaluate((u) => history.pushState({}, '', u), spa);
  const n = beats.length;
  await waitFor(() => beats.length > n, { timeoutMs: EVERY * 1000 + 3000, what: 'the beat after the navigation' });
  assert.equal(beats[n].body.v, 1);
  assert.equal(beats[n].body.u, spa);
  const v = await visitorOn(spa);
  const ctx = await as(admin, 'GET', `/api/visitors/${v.visitor_id}/context`);
  assert.deepEqual(
    ctx.json.visits[0].pages.map((p) => p.url),
    [stack.host.url, spa],
  );

  // A hidden tab does not beat; it beats at once when visible again.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const hiddenAt = beats.length;
  await page.waitForTimeout(EVERY * 1000 + 1500);
  assert.equal(beats.length, hiddenAt, 'no beat while hidden');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await waitFor(() => beats.length > hiddenAt, { timeoutMs: 2000, what: 'a beat on becoming visible' });
  await page.context().close();
});

/** The invitation bubble in the frame (the first message). */
const inviteBubble = (frame) => frame.locator('.pw-row.pw-inv .pw-bubble');

test('an agent invites: the widget opens by itself, the answer starts a conversation assigned to the agent', async () => {
  stack.host.config.title = 'Invited by Ana';
  const page = await stack.newPage();
  const v = await waitForTitle('Invited by Ana');
  stack.host.config.title = '';
  assert.equal(await isOpen(page), false);

  const text = 'Hi! Can I help you choose a size?';
  const r = await as(ann, 'POST', `/api/visitors/${v.visitor_id}/invitations`, { message: text });
  assert.equal(r.status, 201, r.body);
  const inv = r.json.invitation;
  assert.equal(inv.status, 'pending');
  // A second one while the first waits is refused.
  assert.equal((await as(ann, 'POST', `/api/visitors/${v.visitor_id}/invitations`, { message: 'again' })).status, 409);

  // At the next beat the widget opens with the message, from Ana, composer focused.
  await waitFor(() => isOpen(page), { timeoutMs: EVERY * 1000 + 5000, what: 'the widget to open by itself' });
  const frame = await widgetFrame(page);
  await inviteBubble(frame).waitFor({ timeout: 10000 });
  assert.deepEqual(await bubbleTexts(frame), [text]);
  assert.equal(await frame.locator('.pw-inv .pw-author').textContent(), 'Ana Souza');
  assert.equal(await frame.locator('.pw-inv .pw-av').textContent(), 'A');
  assert.equal(await frame.locator('.pw-title').textContent(), 'Ana Souza');
  assert.equal(await frame.locator('#pf-name').count(), 0, 'no pre-chat form for an invited visitor');
  await waitFor(() => frame.evaluate(() => document.activeElement && document.activeElement.id === 'pw-text'), { what: 'focus in the composer' });
  await agent.next((m) => m.type === 'invitation.updated' && m.invitation.id === inv.id && m.invitation.status === 'shown', 10000, 'shown');
  await screenshot(page, 'invite-desktop-en');

  await frame.locator('#pw-text').fill('Yes please, I am between M and L.');
  await frame.locator('#pw-text').press('Enter');
  const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === 'Yes please, I am between M and L.', 10000, 'the answer at the agent');
  const cid = ev.message.conversation_id;
  const sync = await agent.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  const said = sync.messages.filter((m) => m.kind === 'message');
  assert.deepEqual(
    said.map((m) => [m.author.kind, m.body]),
    [
      ['agent', text],
      ['visitor', 'Yes please, I am between M and L.'],
    ],
  );
  assert.equal(said[0].author.name, 'Ana Souza');
  const row = await conversationRow(stack.pg, cid);
  assert.equal(row.status, 'assigned');
  assert.equal(Number(row.assignee_id), ann.id, 'assigned to the inviting agent');
  const upd = await agent.next((m) => m.type === 'invitation.updated' && m.invitation.id === inv.id && m.invitation.status === 'accepted', 10000, 'accepted');
  assert.equal(upd.invitation.conversation_id, cid);

  // The visitor sees the conversation: the invitation, then the answer, once each.
  await frame.locator('.pw-receipt').waitFor({ timeout: 10000 });
  assert.deepEqual(await bubbleTexts(frame), [text, 'Yes please, I am between M and L.']);
  await screenshot(page, 'invite-answered-desktop-en');
  const listed = (await online()).find((x) => x.visitor_id === v.visitor_id);
  assert.equal(listed.chatting, cid);
  await page.context().close();
});

test('screenshots: the invitation on a desktop and a phone, in English and Chinese', async () => {
  const cases = [
    { name: 'desktop-zh', locale: 'zh-CN', viewport: { width: 1280, height: 800 }, text: '你好！需要帮你挑选尺码吗？我们今天下单包邮。' },
    { name: 'mobile-en', locale: 'en-US', viewport: { width: 390, height: 844 }, text: 'Hi! Can I help you choose a size? Orders placed today ship free.' },
    { name: 'mobile-zh', locale: 'zh-CN', viewport: { width: 390, height: 844 }, text: '你好！需要帮你挑选尺码吗？我们今天下单包邮。' },
  ];
  for (const c of cases) {
    stack.host.config.title = `Acme ${c.name}`;
    const page = await stack.newPage({ locale: c.locale, viewport: c.viewport });
    const v = await waitForTitle(`Acme ${c.name}`);
    const r = await as(ann, 'POST', `/api/visitors/${v.visitor_id}/invitations`, { message: c.text });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => isOpen(page), { timeoutMs: EVERY * 1000 + 5000, what: `the ${c.name} widget to open` });
    const frame = await widgetFrame(page);
    await inviteBubble(frame).waitFor({ timeout: 10000 });
    if (c.locale === 'zh-CN') assert.equal(await frame.locator('#pw-text').getAttribute('placeholder'), '输入回复…');
    else assert.equal(await frame.locator('#pw-text').getAttribute('placeholder'), 'Write a reply…');
    if (c.viewport.width < 480) {
      const box = await page.evaluate(() => {
        const r2 = document.getElementById('parley-widget').shadowRoot.querySelector('iframe').getBoundingClientRect();
        return [r2.width, r2.height];
      });
      assert.deepEqual(box, [c.viewport.width, c.viewport.height], 'full screen on a phone');
    }
    await screenshot(page, `invite-${c.name}`);
    // Leave without answering: it is ignored when closed.
    await frame
      .getByRole('button', { name: c.locale === 'zh-CN' ? '最小化聊天窗口' : 'Minimise chat' })
      .first()
      .click();
    await waitFor(async () => !(await isOpen(page)), { what: 'closed' });
    await page.context().close();
  }
  stack.host.config.title = '';
});

async function waitForTitle(title) {
  let found = null;
  await waitFor(
    async () => {
      found = (await online()).find((v) => v.page && v.page.title === title);
      return !!found;
    },
    { timeoutMs: 10000, intervalMs: 250, what: `the visitor on "${title}"` },
  );
  return found;
}

test('a rule invites automatically, not a visitor who closed the widget in this session; closing it counts as ignored', async () => {
  // Visitor A opens and closes the widget before the rule exists.
  const a = await stack.newPage();
  const aBeats = recordBeats(a);
  await openWidget(a);
  await launcher(a).click();
  assert.equal(await isOpen(a), false);
  assert.equal(await a.evaluate(() => Object.keys(sessionStorage).length), 1, 'the closed flag is in sessionStorage');

  const made = await as(admin, 'POST', '/api/invitation-rules', {
    site_id: stack.site.id,
    name: 'Everyone, at once',
    enabled: true,
    position: 0,
    message: 'Looking for something? We are here to help.',
    sender_name: 'Acme team',
    conditions: { time_on_page_seconds: 0 },
  });
  assert.equal(made.status, 201, made.body);
  const rule = made.json.rule;

  try {
    // A new page of A's (same tab, same browser session) and a new visitor B.
    stack.host.config.title = 'Rule page A';
    await a.goto(`${stack.host.origin}/rule-a`);
    stack.host.config.title = 'Rule page B';
    const b = await stack.newPage({}, { url: `${stack.host.origin}/rule-b` });
    const bBeats = recordBeats(b);

    await waitFor(() => isOpen(b), { timeoutMs: 2 * EVERY * 1000 + 5000, what: 'the rule to open B' });
    const fb = await widgetFrame(b);
    await inviteBubble(fb).waitFor({ timeout: 10000 });
    assert.deepEqual(await bubbleTexts(fb), ['Looking for something? We are here to help.']);
    assert.equal(await fb.locator('.pw-inv .pw-author').textContent(), 'Acme team');
    assert.equal(
      bBeats.every((x) => x.body.x === undefined),
      true,
    );

    // A beat twice more and stay closed; the server knows A closed it.
    const n = aBeats.length;
    await waitFor(() => aBeats.length >= n + 2, { timeoutMs: 3 * EVERY * 1000, what: 'two more beats of A' });
    assert.ok(
      aBeats.slice(n).every((x) => x.body.x === 1),
      'A says it closed the widget',
    );
    assert.equal(await isOpen(a), false, 'A is not invited');
    const listedA = (await online()).find((v) => v.page && v.page.url === `${stack.host.origin}/rule-a`);
    assert.equal(listedA.widget_closed, true);
    assert.equal(listedA.invitation, null);

    // B closes the invitation without answering: ignored.
    await fb.getByRole('button', { name: 'Minimise chat' }).first().click();
    await waitFor(async () => !(await isOpen(b)), { what: 'B closed' });
    await waitFor(
      async () => {
        const list = await as(admin, 'GET', '/api/invitation-rules');
        const r = list.json.rules.find((x) => x.id === rule.id);
        return r.stats.ignored === 1 && r.stats.sent === 1 && r.stats.accepted === 0;
      },
      { what: 'rule stats sent 1, ignored 1' },
    );
    // Reopened by the visitor: the home screen, not the dismissed invitation.
    await launcher(b).click();
    await fb.locator('.pw-home').waitFor();
    assert.equal(await fb.locator('.pw-inv').count(), 0);
    await a.context().close();
    await b.context().close();

    // Visitor C answers the rule's invitation: the conversation starts with the
    // rule's message, still from its sender name.
    stack.host.config.title = 'Rule page C';
    const c = await stack.newPage({}, { url: `${stack.host.origin}/rule-c` });
    await waitFor(() => isOpen(c), { timeoutMs: 2 * EVERY * 1000 + 5000, what: 'the rule to open C' });
    const fc = await widgetFrame(c);
    await inviteBubble(fc).waitFor({ timeout: 10000 });
    await fc.locator('#pw-text').fill('Do you have this in blue?');
    await fc.locator('#pw-text').press('Enter');
    await fc.locator('.pw-receipt').waitFor({ timeout: 10000 });
    assert.deepEqual(await bubbleTexts(fc), ['Looking for something? We are here to help.', 'Do you have this in blue?']);
    assert.equal(await fc.locator('.pw-theirs .pw-author').first().textContent(), 'Acme team');
    await waitFor(
      async () => {
        const list = await as(admin, 'GET', '/api/invitation-rules');
        const r = list.json.rules.find((x) => x.id === rule.id);
        return r.stats.sent === 2 && r.stats.accepted === 1;
      },
      { what: 'rule stats sent 2, accepted 1' },
    );
    await c.context().close();
  } finally {
    await as(admin, 'DELETE', `/api/invitation-rules/${rule.id}`);
    stack.host.config.title = '';
  }
});

test('a ticket the server refuses (401) gets one new session, then the beats go on', async () => {
  const page = await stack.newPage({}, { url: `${stack.host.origin}/stale` });
  await visitorOn(`${stack.host.origin}/stale`);
  // A stored ticket that is still "unexpired" here but not valid there.
  await page.evaluate((key) => {
    const rec = JSON.parse(localStorage.getItem(key));
    localStorage.setItem(key, JSON.stringify({ ...rec, b: 'not-a-ticket' }));
  }, `parley:${stack.site.key}`);
  const seen = [];
  page.on('response', (r) => {
    const u = r.url();
    if (u.endsWith('/api/widget/beat') || u.endsWith('/api/widget/session')) seen.push(`${u.endsWith('/beat') ? 'beat' : 'session'} ${r.status()}`);
  });
  stack.host.config.title = 'Stale ticket';
  await page.goto(`${stack.host.origin}/stale-2`);
  const v = await waitForTitle('Stale ticket');
  stack.host.config.title = '';
  assert.deepEqual(seen.slice(0, 3), ['beat 401', 'session 200', 'beat 200']);
  const rec = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)), `parley:${stack.site.key}`);
  assert.notEqual(rec.b, 'not-a-ticket', 'the new ticket is stored');
  assert.equal(v.pages_this_visit, 2, 'the same visitor, one visit');
  await page.context().close();
});

test("pagehide's beacon takes the visitor off the online list at once", async () => {
  const page = await stack.newPage({}, { url: `${stack.host.origin}/leaving` });
  const beats = recordBeats(page);
  const v = await visitorOn(`${stack.host.origin}/leaving`);
  // Right after a beat, so that the next one is far.
  await waitFor(() => beats.length >= 1, { what: 'a beat' });
  await page.goto('about:blank');
  const left = Date.now();
  await waitFor(async () => !(await online()).some((x) => x.visitor_id === v.visitor_id), {
    timeoutMs: 3000,
    what: 'the visitor to leave the online list',
  });
  assert.ok(Date.now() - left < 3000);
  await page.context().close();
});
