'use strict';
// Bidi controls and right-to-left text in the widget, checked on the real
// layout, in English and in Chinese: the agent's name was stored before
// the text policy (a stray PDI, then U+202E: "exe.png" when it leaks), the
// page identifies the visitor with such a name, the visitor's first message
// starts with U+202E and the agent answers in Arabic. The words around a
// name ("Hi …", "… joined the conversation", "… is typing", "…，你好") must
// still be drawn after it, names sit in <bdi>, bodies in dir="auto" blocks.
// Screenshots at 1280x800 and 390x844 go to build/screenshots/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT } = require('../helpers/common');
const { createAgent, connectAgent, sendMessage } = require('../helpers/fixtures');
const { widgetSuite, openWidget, cspViolations } = require('../helpers/widget');
const { RLO, HOSTILE, assertDrawnAfter, assertIsolated } = require('../helpers/bidi');

const SHOTS = path.join(REPO_ROOT, 'build', 'screenshots');
const ARABIC_REPLY = 'مرحبا، طلبك رقم 42 في الطريق';

let agent;
const stack = widgetSuite();
const { test } = stack;

stack.setup(async () => {
  const hal = await createAgent(stack.pg, { name: 'Hal', teams: [stack.team] });
  await stack.pg.query('UPDATE agents SET name = $2 WHERE id = $1', [hal.id, HOSTILE]);
  agent = await connectAgent(stack.srv, hal, { status: 'online' });
  // JSON with "<" escaped, so that nothing can end the page's script.
  stack.host.config.head = `<script>parley('identify', { name: ${JSON.stringify(HOSTILE).replace(/</g, '\\u003c')} });</script>`;
});

const WORDS = {
  'en-US': { lang: 'en', hi: (f) => assertDrawnAfter(f, '.pw-hi', 'Hi', 'gnp.exe', 'greeting'), joined: 'joined the conversation', typing: 'is typing' },
  'zh-CN': { lang: 'zh-CN', hi: (f) => assertDrawnAfter(f, '.pw-hi', 'gnp.exe', '你好', 'greeting'), joined: '加入了对话', typing: '正在输入' },
};

for (const [locale, words] of Object.entries(WORDS)) {
  test(`${locale}: a hostile agent name, visitor name and body do not reorder the widget's text`, { timeout: 90000 }, async () => {
    const page = await stack.newPage({ locale, viewport: { width: 1280, height: 800 } });
    const frame = await openWidget(page);

    // Home: the visitor's own name from identify(), inside the greeting.
    await frame.locator('.pw-hi').waitFor();
    await words.hi(frame);
    await assertDrawnAfter(frame, '.pw-hi', 'gnp', 'exe', 'the name itself is not reversed');

    // The first message starts with an override: it reverses nothing.
    const body = `${RLO}gnp.exe is what I downloaded`;
    await frame.locator('#pw-first').fill(body);
    await frame.locator('button[type=submit]').click();
    const ev = await agent.next((m) => m.type === 'message.created' && /is what I downloaded/.test(m.message.body), 10000, 'the first message');
    const cid = ev.message.conversation_id;
    assert.equal(ev.message.body, 'gnp.exe is what I downloaded', 'the server removed the unpaired override');
    await assertDrawnAfter(frame, '.pw-mine .pw-bubble', 'gnp', '.exe is what', 'own message');

    // The agent's name in the event line and the typing line.
    const joined = frame.locator('.pw-event', { hasText: words.joined });
    await joined.waitFor();
    await assertDrawnAfter(frame, `.pw-event:has-text("${words.joined}")`, 'gnp.exe', words.joined, 'event line');
    agent.send({ type: 'typing', conversation_id: cid, on: true });
    await frame.locator('.pw-typing .pw-meta').waitFor();
    await assertDrawnAfter(frame, '.pw-typing .pw-meta', 'gnp.exe', words.typing, 'typing line');

    // An Arabic answer reads right to left in its own isolated bubble.
    await sendMessage(agent, cid, ARABIC_REPLY);
    // Not the typing bubble (also .pw-theirs): the message removes it, and
    // a removed element has no computed direction.
    const theirs = frame.locator('.pw-theirs:not(.pw-typing) .pw-bubble');
    await theirs.waitFor();
    assert.equal(await theirs.evaluate((el) => getComputedStyle(el).direction), 'rtl');
    await assertIsolated(frame.locator('.pw-bubble'), 'message body');
    await assertIsolated(frame.locator('.pw-author'), 'author label');
    await assertIsolated(frame.locator('.pw-title bdi'), 'header name');
    await assertIsolated(frame.locator('.pw-event bdi'), 'name in the event line');
    assert.equal((await frame.locator('.pw-title').textContent()).trim(), 'gnp.exe', 'the header shows the name without its controls');

    // Screenshots, wide and narrow.
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.waitForTimeout(400);
    await page.screenshot({ path: path.join(SHOTS, `widget-bidi-${words.lang}-1280x800.png`) });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    await assertDrawnAfter(frame, `.pw-event:has-text("${words.joined}")`, 'gnp.exe', words.joined, 'event line, narrow');
    await page.screenshot({ path: path.join(SHOTS, `widget-bidi-${words.lang}-390x844.png`) });

    assert.deepEqual(cspViolations(page), []);
    await page.context().close();
  });
}
