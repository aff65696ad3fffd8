'use strict';
// Admin → Automation in the console, against the real server: an admin
// builds a rule in the editor (page URL contains "pricing" → priority high,
// a label, an automatic message) and a real visitor starting a chat on the
// pricing page gets the message while the conversation gets the label and
// the priority; a rule is edited, reordered, switched off (and then does
// nothing) and deleted after a confirmation; the editor's own checks and the
// server's refusals land on the row they name, and the "add" buttons stop
// at the bounds of rules.h; agents do not see the page. Screenshots of the
// list and the editor, 1280×800 and 390×844, in English and Chinese, go to
// test-results/screenshots/.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createAgent, createTeam, createSite, connectVisitor, startConversation, sendMessage, msgCreated, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, screenshotPairs } = require('../helpers/browser');

const fx = suite({ browser: 'console', env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;
const F = {};

fx.setup(async () => {
  F.admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  F.agent = await createAgent(fx.pg, { name: 'Andy Agent', role: 'agent' });
  F.team = await createTeam(fx.pg, 'Front desk');
  F.sales = await createTeam(fx.pg, 'Sales');
  F.site = await createSite(fx.pg, { teamId: F.team });
  const s = await login(fx.srv, F.admin.email, F.admin.password);
  F.api = (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
  F.vip = (await F.api('POST', '/api/labels', { name: 'VIP' })).json.label;
  F.refund = (await F.api('POST', '/api/labels', { name: 'Refund' })).json.label;
});

const text = async (loc) => (await loc.innerText()).trim();
/** Text without the isolates (U+2066..U+2069) names and values are wrapped in. */
const plain = async (loc) => (await text(loc)).replace(/[\u2066-\u2069]/g, '');
const summary = (row, which) => plain(row.locator(`[data-testid=au-rule-${which}] .au-sum-v`));
const ruleRow = (page, id) => page.locator(`[data-testid=au-rule][data-id="${id}"]`);
const cond = (page, i) => page.locator(`[data-testid=au-cond][data-index="${i}"]`);
const act = (page, i) => page.locator(`[data-testid=au-act][data-index="${i}"]`);

async function rules() {
  const r = await F.api('GET', '/api/automation-rules');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.rules;
}

async function adminPage({ width = 1280, height = 800, locale = 'en-US' } = {}) {
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width, height }, locale });
  await loginUI(C.page, F.admin);
  return C;
}

async function clearRules() {
  for (const r of await rules()) await F.api('DELETE', `/api/automation-rules/${r.id}`);
}

/** A visitor starting a chat on url; resolves the socket and the conversation id. */
async function visitorOn(url) {
  const v = await connectVisitor(fx.srv, F.site);
  const cid = await startConversation(v, { page_url: url });
  return { v, cid };
}

const systemMessages = async (cid) =>
  (await fx.pg.query("SELECT body FROM messages WHERE conversation_id = $1 AND kind = 'message' AND author_kind = 'system' ORDER BY seq", [cid])).rows.map(
    (r) => r.body,
  );

test('an admin builds a rule in the editor and a visitor from the pricing page gets its message, label and priority', { timeout: 120000 }, async () => {
  await clearRules();
  const C = await adminPage();
  const page = C.page;
  await page.click('[data-testid=nav-admin-automation]');
  await page.locator('[data-testid=au-empty]').waitFor();

  await page.click('[data-testid=au-new]');
  await page.locator('[data-testid=au-form]').waitFor();
  await page.fill('[data-testid=au-name]', 'Pricing <b>visitors</b>');
  assert.equal(await page.locator('[data-testid="au-trigger-conversation.created"]').isChecked(), true);
  // Message text is only offered for rules that run on messages.
  await page.click('[data-testid=au-add-condition]');
  assert.equal(await cond(page, 0).locator('[data-testid=au-cond-field] option[value=message]').isDisabled(), true);
  assert.equal(await cond(page, 0).locator('[data-testid=au-cond-field]').inputValue(), 'page_url');
  await cond(page, 0).locator('[data-testid=au-cond-op]').selectOption('contains');
  await cond(page, 0).locator('[data-testid=au-cond-value]').fill('pricing');

  // Action 1 is there already: priority, high.
  assert.equal(await act(page, 0).locator('[data-testid=au-act-type]').inputValue(), 'set_priority');
  await act(page, 0).locator('[data-testid=au-act-value]').selectOption('high');
  await page.click('[data-testid=au-add-action]');
  await act(page, 1).locator('[data-testid=au-act-type]').selectOption('add_label');
  await act(page, 1).locator('[data-testid=au-act-value]').selectOption({ label: 'VIP' });
  await page.click('[data-testid=au-add-action]');
  assert.equal(await act(page, 2).locator('[data-testid=au-act-type]').inputValue(), 'send_message');
  await act(page, 2).locator('[data-testid=au-act-value]').fill('Thanks for looking at our plans! <i>Sales</i> will be right with you.');
  await page.click('[data-testid=au-save]');

  await page.locator('[data-testid=au-rule]').waitFor();
  const [made] = await rules();
  assert.equal(made.name, 'Pricing <b>visitors</b>');
  assert.equal(made.enabled, true);
  assert.deepEqual(made.rule, {
    trigger: 'conversation.created',
    match: 'all',
    conditions: [{ field: 'page_url', op: 'contains', value: 'pricing' }],
    actions: [
      { type: 'set_priority', priority: 'high' },
      { type: 'add_label', label_id: F.vip.id },
      { type: 'send_message', body: 'Thanks for looking at our plans! <i>Sales</i> will be right with you.' },
    ],
  });
  const row = ruleRow(page, made.id);
  assert.equal(await text(row.locator('[data-testid=au-rule-name]')), 'Pricing <b>visitors</b>', 'names are text');
  assert.equal(await row.locator('[data-testid=au-rule-name] b').count(), 0);
  assert.equal(await text(row.locator('[data-testid=au-rule-trigger]')), 'A visitor starts a chat');
  assert.equal(await summary(row, 'when'), 'Page URL contains “pricing”');
  assert.equal(await summary(row, 'then'), 'Priority: High, Add label VIP, Send “Thanks for looking at our plans!…”');
  assert.equal(await row.locator('[data-testid=au-rule-enabled]').isChecked(), true);

  // A visitor on the pricing page: the automatic message, the label, the priority.
  const { v, cid } = await visitorOn('https://shop.example/en/pricing?plan=pro');
  const hello = await v.next(
    msgCreated(cid, (m) => m.author.kind === 'system' && m.kind === 'message'),
    5000,
    'the automatic message',
  );
  assert.equal(hello.message.body, 'Thanks for looking at our plans! <i>Sales</i> will be right with you.');
  await waitFor(async () => (await fx.pg.query('SELECT priority FROM conversations WHERE id = $1', [cid])).rows[0].priority === 2, {
    what: 'priority high',
  });
  const labels = (await fx.pg.query('SELECT label_id FROM conversation_labels WHERE conversation_id = $1', [cid])).rows.map((r) => Number(r.label_id));
  assert.deepEqual(labels, [F.vip.id]);
  v.close();

  // A visitor elsewhere: nothing.
  const other = await visitorOn('https://shop.example/en/about');
  await sendMessage(other.v, other.cid, 'hello');
  assert.deepEqual(await systemMessages(other.cid), []);
  assert.deepEqual((await fx.pg.query('SELECT label_id FROM conversation_labels WHERE conversation_id = $1', [other.cid])).rows, []);
  other.v.close();
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('a rule is edited, reordered, switched off (then it does nothing) and deleted after a confirmation', { timeout: 120000 }, async () => {
  await clearRules();
  const docs = (
    await F.api('POST', '/api/automation-rules', {
      name: 'Docs greeting',
      position: 10,
      rule: {
        trigger: 'conversation.created',
        conditions: [{ field: 'page_url', op: 'contains', value: '/docs' }],
        actions: [{ type: 'send_message', body: 'Docs hello' }],
      },
    })
  ).json.rule;
  const refunds = (
    await F.api('POST', '/api/automation-rules', {
      name: 'Refund words',
      position: 20,
      rule: {
        trigger: 'message.created',
        match: 'any',
        conditions: [
          { field: 'message', op: 'contains', value: 'refund' },
          { field: 'prechat.topic', op: 'in', value: ['billing', 'refunds'] },
        ],
        actions: [
          { type: 'add_label', label_id: F.refund.id },
          { type: 'assign_team', team_id: F.sales },
        ],
      },
    })
  ).json.rule;
  const C = await adminPage();
  const page = C.page;
  await page.click('[data-testid=nav-admin-automation]');
  await ruleRow(page, refunds.id).waitFor();
  assert.equal(await summary(ruleRow(page, refunds.id), 'when'), 'Message text contains “refund” or Pre-chat “topic” is one of “billing”, “refunds”');
  assert.equal(await summary(ruleRow(page, refunds.id), 'then'), 'Add label Refund, Assign to team Sales');
  assert.equal(await text(ruleRow(page, refunds.id).locator('[data-testid=au-rule-trigger]')), 'A visitor sends a message');

  // A message-text condition is only for rules on messages: switching the trigger says so at once, on that row.
  await ruleRow(page, refunds.id).locator('[data-testid=au-rule-edit]').click();
  await page.click('[data-testid="au-trigger-conversation.created"]');
  assert.equal(await text(cond(page, 0).locator('[data-testid=au-cond-warning]')), 'Message text is only known when the rule runs on messages.');
  assert.equal(await cond(page, 1).locator('[data-testid=au-cond-warning]').count(), 0);
  await page.click('[data-testid=au-save]');
  assert.equal(await text(cond(page, 0).locator('[data-testid=au-cond-error]')), 'Message text is only known when the rule runs on messages.');
  await page.click('[data-testid="au-trigger-message.created"]');
  // Back as it was: leaving asks nothing.
  await page.click('[data-testid=au-cancel]');
  await page.waitForFunction(() => location.hash === '#/admin/automation');
  assert.equal(await page.locator('.modal[role=dialog]').count(), 0);

  // Edit: the form holds the stored rule; change the message and add a condition.
  await ruleRow(page, docs.id).locator('[data-testid=au-rule-edit]').click();
  await page.waitForFunction((id) => location.hash === `#/admin/automation/${id}`, docs.id);
  assert.equal(await page.locator('[data-testid=au-name]').inputValue(), 'Docs greeting');
  assert.equal(await cond(page, 0).locator('[data-testid=au-cond-value]').inputValue(), '/docs');
  assert.equal(await act(page, 0).locator('[data-testid=au-act-value]').inputValue(), 'Docs hello');
  await act(page, 0).locator('[data-testid=au-act-value]').fill('Docs hello, edited');
  await page.click('[data-testid=au-add-condition]');
  await cond(page, 1).locator('[data-testid=au-cond-field]').selectOption('business_hours');
  assert.equal(await cond(page, 1).locator('[data-testid=au-cond-op]').count(), 0, 'business hours: no operator to choose');
  await cond(page, 1).locator('[data-testid=au-cond-value]').selectOption('open');
  await cond(page, 1).locator('[data-testid=au-remove]').click();
  await page.click('[data-testid=au-save]');
  await page.waitForFunction(() => location.hash === '#/admin/automation');
  await waitFor(async () => (await rules()).find((r) => r.id === docs.id).rule.actions[0].body === 'Docs hello, edited', { what: 'the edit saved' });
  assert.equal((await rules()).find((r) => r.id === docs.id).rule.conditions.length, 1);
  const first = await visitorOn('https://shop.example/docs/start');
  const m = await first.v.next(
    msgCreated(first.cid, (x) => x.author.kind === 'system' && x.kind === 'message'),
    5000,
    'the edited message',
  );
  assert.equal(m.message.body, 'Docs hello, edited');
  first.v.close();

  // Reorder: Docs greeting runs after Refund words.
  await ruleRow(page, docs.id).locator('[data-testid=au-rule-down]').click();
  await waitFor(
    async () => {
      const list = await rules();
      return list[0].id === refunds.id && list[1].id === docs.id;
    },
    { what: 'the new order saved' },
  );
  await page.waitForFunction(
    (ids) => [...document.querySelectorAll('[data-testid=au-rule]')].map((e) => Number(e.dataset.id)).join() === ids.join(),
    [refunds.id, docs.id],
  );

  // Switch it off: a later rule matching the same page runs, this one does not.
  await ruleRow(page, docs.id).locator('[data-testid=au-rule-enabled]').click({ force: true });
  await waitFor(async () => (await rules()).find((r) => r.id === docs.id).enabled === false, { what: 'switched off' });
  // The switch shows it once the page has the server's answer (under load, a moment after the row changed).
  await waitFor(async () => (await ruleRow(page, docs.id).locator('[data-testid=au-rule-enabled]').isChecked()) === false, {
    what: 'the switch shows off',
  });
  const sentinel = (
    await F.api('POST', '/api/automation-rules', {
      name: 'Sentinel',
      position: 9000,
      rule: {
        trigger: 'conversation.created',
        conditions: [{ field: 'page_url', op: 'contains', value: '/docs' }],
        actions: [{ type: 'send_message', body: 'sentinel' }],
      },
    })
  ).json.rule;
  const second = await visitorOn('https://shop.example/docs/again');
  await second.v.next(
    msgCreated(second.cid, (x) => x.author.kind === 'system' && x.body === 'sentinel'),
    5000,
    'the later rule',
  );
  assert.deepEqual(await systemMessages(second.cid), ['sentinel'], 'the switched-off rule did nothing');
  second.v.close();
  await F.api('DELETE', `/api/automation-rules/${sentinel.id}`);

  // Delete: cancel first, then confirm.
  await ruleRow(page, docs.id).locator('[data-testid=au-rule-delete]').click();
  const dialog = page.locator('.modal[role=dialog]');
  await dialog.waitFor();
  assert.equal(await plain(dialog.locator('h2')), 'Delete the rule “Docs greeting”?');
  await dialog.locator('button:has-text("Cancel")').click();
  await dialog.waitFor({ state: 'detached' });
  assert.ok(
    (await rules()).some((r) => r.id === docs.id),
    'cancel keeps it',
  );
  await ruleRow(page, docs.id).locator('[data-testid=au-rule-delete]').click();
  await dialog.locator('button.danger').click();
  await ruleRow(page, docs.id).waitFor({ state: 'detached' });
  assert.equal(
    (await rules()).some((r) => r.id === docs.id),
    false,
  );
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('the editor’s checks and the server’s refusals land on the row they name; the add buttons stop at the bounds', { timeout: 120000 }, async () => {
  await clearRules();
  const temp = await createAgent(fx.pg, { name: 'Temp Tina', role: 'agent' });
  const C = await adminPage();
  const page = C.page;
  await page.click('[data-testid=nav-admin-automation]');
  await page.click('[data-testid=au-new]');
  await page.click('[data-testid=au-save]');
  assert.equal(await text(page.locator('.field.has-error .field-error')), 'Give the rule a name.');
  await page.fill('[data-testid=au-name]', 'Checks');

  // Two conditions, the second without a value: only the second row is marked.
  await page.click('[data-testid=au-add-condition]');
  await page.click('[data-testid=au-add-condition]');
  await cond(page, 0).locator('[data-testid=au-cond-value]').fill('/checkout');
  await cond(page, 1).locator('[data-testid=au-cond-field]').selectOption('prechat');
  await cond(page, 1).locator('[data-testid=au-cond-key]').fill('plan');
  // Closing first: refused before asking the server, on action 1.
  await act(page, 0).locator('[data-testid=au-act-type]').selectOption('close');
  await page.click('[data-testid=au-add-action]');
  await page.click('[data-testid=au-save]');
  assert.equal(await text(cond(page, 1).locator('[data-testid=au-cond-error]')), 'Enter a value.');
  assert.equal(await cond(page, 0).locator('[data-testid=au-cond-error]').count(), 0);
  assert.equal(await text(act(page, 0).locator('[data-testid=au-act-error]')), 'Closing the chat must be the last action.');
  assert.equal(await text(act(page, 1).locator('[data-testid=au-act-error]')), 'Write the text.');
  assert.equal(await page.locator('[data-testid=au-form-error]').isVisible(), true);

  // Fixed; action 2 assigns an agent who is deactivated before saving: the server's refusal is on action 2.
  await cond(page, 1).locator('[data-testid=au-cond-op]').selectOption('in');
  await cond(page, 1).locator('[data-testid=au-cond-value]').fill('pro\nenterprise\n');
  await act(page, 0).locator('[data-testid=au-act-type]').selectOption('add_note');
  await act(page, 0).locator('[data-testid=au-act-value]').fill('Checkout trouble');
  await act(page, 1).locator('[data-testid=au-act-type]').selectOption('assign_agent');
  await act(page, 1).locator('[data-testid=au-act-value]').selectOption(String(temp.id));
  await fx.pg.query('UPDATE agents SET active = false WHERE id = $1', [temp.id]);
  await page.click('[data-testid=au-save]');
  await act(page, 1).locator('[data-testid=au-act-error]').waitFor();
  assert.equal(await text(act(page, 1).locator('[data-testid=au-act-error]')), 'This agent no longer exists or was deactivated. Choose another.');
  assert.equal(await act(page, 0).locator('[data-testid=au-act-error]').count(), 0);
  assert.equal(await page.locator('[data-testid=au-cond-error]').count(), 0);
  assert.deepEqual(await rules(), [], 'nothing saved');

  await act(page, 1).locator('[data-testid=au-remove]').click();

  // Bounds: at most 20 conditions and 10 actions, then no add button.
  for (let i = 2; i < 20; i++) await page.click('[data-testid=au-add-condition]');
  assert.equal(await page.locator('[data-testid=au-cond]').count(), 20);
  assert.equal(await page.locator('[data-testid=au-add-condition]').count(), 0);
  assert.equal(await text(page.locator('[data-testid=au-conditions-full]')), 'A rule has at most 20 conditions.');
  for (let i = 1; i < 10; i++) await page.click('[data-testid=au-add-action]');
  assert.equal(await page.locator('[data-testid=au-act]').count(), 10);
  assert.equal(await page.locator('[data-testid=au-add-action]').count(), 0);
  assert.equal(await text(page.locator('[data-testid=au-actions-full]')), 'A rule has at most 10 actions.');
  // Leaving with changes asks first.
  await page.click('[data-testid=au-cancel]');
  const dialog = page.locator('.modal[role=dialog]');
  assert.equal(await text(dialog.locator('h2')), 'Discard your changes?');
  await dialog.locator('button:has-text("Keep editing")').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid=au-cond]').count(), 20, 'still editing');
  await page.click('[data-testid=au-cancel]');
  await dialog.locator('button.danger').click();
  await page.locator('[data-testid=au-empty]').waitFor();
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('agents do not see Automation; admins do', { timeout: 60000 }, async () => {
  const A = await adminPage();
  await A.page.locator('[data-testid=nav-admin-automation]').waitFor();
  await A.context.close();
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = C.page;
  await loginUI(page, F.agent);
  assert.equal(await page.locator('[data-testid=nav-admin-automation]').count(), 0);
  await page.evaluate(() => {
    location.hash = '#/admin/automation';
  });
  await page.waitForFunction(() => !document.querySelector('[data-testid=au-rules], [data-testid=au-empty], [data-testid=au-new]'));
  await page.waitForTimeout(300);
  assert.equal(await page.locator('[data-testid=au-new], [data-testid=au-rules], [data-testid=au-form]').count(), 0);
  assert.equal((await request(fx.srv, { method: 'GET', path: '/api/automation-rules' })).status, 401);
  await C.context.close();
});

// ---------------------------------------------------------------- screenshots

/** Nothing of the view is outside the window: the page does not scroll sideways. */
async function fits(page, what) {
  const { w, pageWide, over } = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('.au-page *')) {
      if (el.closest('select, datalist, option, svg')) continue;
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'hidden' && !el.classList.contains('au-sum-v'))
        out.push(el.className || el.tagName);
    }
    return { w: window.innerWidth, pageWide: document.documentElement.scrollWidth > window.innerWidth, over: out };
  });
  assert.equal(pageWide, false, `${what}: the page is wider than ${w}px`);
  assert.deepEqual(over, [], `${what}: cut off`);
}

test('screenshots of the list and the editor, in English and Chinese, 1280×800 and 390×844', { timeout: 300000 }, async () => {
  await clearRules();
  const make = async (name, rule, extra = {}) => {
    const r = await F.api('POST', '/api/automation-rules', { name, rule, ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.rule;
  };
  const big = await make(
    'Enterprise leads from the pricing page to Sales',
    {
      trigger: 'conversation.created',
      match: 'all',
      conditions: [
        { field: 'page_url', op: 'contains', value: '/pricing' },
        { field: 'prechat.company_size', op: 'in', value: ['51-200', '201-1000', '1000+'] },
        { field: 'language', op: 'starts_with', value: 'en' },
        { field: 'business_hours', op: 'equals', value: 'open' },
      ],
      actions: [
        { type: 'assign_team', team_id: F.sales },
        { type: 'set_priority', priority: 'urgent' },
        { type: 'add_label', label_id: F.vip.id },
        { type: 'send_message', body: 'Thanks for your interest in our Enterprise plan! A sales specialist will join this chat in a minute.' },
        { type: 'add_note', body: 'Lead from the pricing page; check the CRM before answering.' },
      ],
    },
    { position: 10 },
  );
  await make(
    'After hours',
    {
      trigger: 'conversation.created',
      conditions: [{ field: 'business_hours', op: 'equals', value: 'closed' }],
      actions: [{ type: 'send_message', body: 'We are closed right now; leave your email and we will answer tomorrow.' }],
    },
    { position: 20 },
  );
  await make(
    'Refund requests',
    {
      trigger: 'message.created',
      match: 'any',
      conditions: [
        { field: 'message', op: 'contains', value: 'refund' },
        { field: 'attribute.plan', op: 'is_set' },
      ],
      actions: [{ type: 'add_label', label_id: F.refund.id }],
    },
    { position: 30, enabled: false },
  );

  for (const [locale, [w, h]] of screenshotPairs(
    ['en', 'zh-CN'],
    [
      [1280, 800],
      [390, 844],
    ],
  )) {
    const tag = `automation-${locale}-${w}x${h}`;
    const C = await adminPage({ width: w, height: h, locale });
    const page = C.page;
    await page.evaluate(() => {
      location.hash = '#/admin/automation';
    });
    await ruleRow(page, big.id).waitFor();
    await fits(page, `${tag}-list`);
    await shot(page, `${tag}-list`);

    await page.evaluate((id) => {
      location.hash = `#/admin/automation/${id}`;
    }, big.id);
    await page.locator('[data-testid=au-form]').waitFor();
    await fits(page, `${tag}-editor`);
    await shot(page, `${tag}-editor`);
    await page.locator('[data-testid=au-actions]').scrollIntoViewIfNeeded();
    await shot(page, `${tag}-editor-actions`);

    // A refusal on a row.
    await cond(page, 2).locator('[data-testid=au-cond-value]').fill('');
    await act(page, 0).locator('[data-testid=au-act-type]').selectOption('close');
    await page.click('[data-testid=au-save]');
    await cond(page, 2).locator('[data-testid=au-cond-error]').waitFor();
    await fits(page, `${tag}-errors`);
    await shot(page, `${tag}-errors`);
    assert.deepEqual(await C.problems(), []);
    await C.context.close();
  }
});
