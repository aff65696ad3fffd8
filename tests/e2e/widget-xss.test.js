'use strict';
// Everything the widget shows that others wrote (messages, agent and visitor
// names, attribute values, site settings) is text, never markup. Every
// payload below would call a function exposed to all frames of the page
// (window.__pwnedHit) if it ran; it must never be called, no element from a
// payload may exist, and a javascript: URL must never become a link.
// The host page has no CSP, so anything the loader interpreted as HTML would
// run there; in the frame the strict CSP would block it but report a
// violation, which counts as a failure too.

const assert = require('node:assert/strict');

const { createAgent, connectAgent } = require('../helpers/fixtures');
const { widgetSuite, launcher, openWidget, bubbleTexts, cspViolations, screenshot } = require('../helpers/widget');

const IMG = `<img src=x onerror="window.__pwnedHit('img')">`;
const SCRIPT = `<script>window.__pwnedHit('script')</script>`;
const SVG = `<svg onload="window.__pwnedHit('svg')"></svg>`;
const JS_URL = `javascript:window.__pwnedHit('js')`;
const A_TAG = `<a href="javascript:window.__pwnedHit('a')">here</a>`;
const MD_LINK = `[x](javascript:window.__pwnedHit('md'))`;
const LAUNCHER = `<img src=x onerror=__pwnedHit()>`; // fits the 40 characters
const AGENT = `Eve <img src=x onerror=__pwnedHit('agent')>`;
const LABEL = `<b onmouseover="__pwnedHit('label')">Order</b>`;

const SETTINGS = {
  color: "red;background:url(javascript:__pwnedHit('css'))",
  position: '"><script>__pwnedHit()</script>',
  launcher_text: LAUNCHER,
  greeting: `${SCRIPT}${IMG}`,
  prechat_fields: [
    { name: 'name', label: 'Name', type: 'text', required: true },
    { name: 'order', label: LABEL, type: 'text' },
  ],
};

let agent;
const hits = [];
const stack = widgetSuite({ settings: SETTINGS });
const { test } = stack;

stack.setup(async () => {
  const eve = await createAgent(stack.pg, { name: AGENT, email: 'eve@example.com', teams: [stack.team] });
  agent = await connectAgent(stack.srv, eve, { status: 'online' });
  // The page identifies the visitor and sets attributes with payloads.
  // (JSON with "<" escaped, so that "</script>" cannot end the page's script.)
  const js = (v) => JSON.stringify(v).replace(/</g, '\\u003c');
  stack.host.config.head = `<script>
    parley('identify', { name: ${js(IMG)}, email: 'vic@example.com' });
    parley('set', { attributes: { order: ${js(SCRIPT)}, plan: ${js(SVG)} } });
  </script>`;
});

test('payloads in settings, names, attributes and messages render as inert text', async () => {
  const ctx = await stack.newContext();
  await ctx.exposeBinding('__pwnedHit', (source, what) => hits.push({ what, url: source.frame.url() }));
  const page = await stack.newPage({}, { ctx });

  // The loader, on a page without any CSP.
  await launcher(page).waitFor();
  assert.equal((await launcher(page).textContent()).trim(), LAUNCHER);
  assert.equal(await launcher(page).evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(79, 70, 229)', 'an invalid colour falls back to the default');
  assert.equal(await launcher(page).evaluate((b) => getComputedStyle(b).right), '20px', 'an invalid position falls back to the right');

  const frame = await openWidget(page);
  await frame.locator('.pw-hi').waitFor();
  assert.equal(await frame.locator('.pw-hi').textContent(), `Hi ${IMG}`);
  assert.equal(await frame.locator('.pw-greet').textContent(), `${SCRIPT}${IMG}`);
  assert.equal(await frame.locator('label[for="pf-order"]').textContent(), `${LABEL} (optional)`);
  assert.equal(await frame.locator('#pf-name').inputValue(), IMG, 'identify() pre-fills the name');
  assert.equal(await frame.locator('#pf-order').inputValue(), SCRIPT, 'the attribute pre-fills the field of that name');
  await frame.locator('label[for="pf-order"]').hover();

  const body = `${IMG} ${SCRIPT} ${SVG} click ${JS_URL} or ${A_TAG} ${MD_LINK}`;
  await frame.locator('#pw-first').fill(body);
  await frame.getByRole('button', { name: 'Start conversation' }).click();
  const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === body, 10000, 'the payload message');
  const cid = ev.message.conversation_id;

  const reply = `${SCRIPT} see ${JS_URL} and https://safe.example/ok?${IMG} ${A_TAG}`;
  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'x-1', body: reply });
  await frame.locator('.pw-theirs .pw-bubble').waitFor();
  await frame.locator('.pw-title', { hasText: 'Eve' }).waitFor();

  // The texts are the payloads, character for character.
  assert.deepEqual(await bubbleTexts(frame), [body, reply]);
  assert.equal(await frame.locator('.pw-title').textContent(), AGENT);
  assert.equal(await frame.locator('.pw-author').first().textContent(), AGENT);
  await frame.getByText(`${AGENT} joined the conversation`).waitFor();

  // No element came out of a payload.
  for (const f of [page, frame]) {
    const found = await f.evaluate(() => {
      const all = [document];
      const host = document.getElementById('parley-widget');
      if (host && host.shadowRoot) all.push(host.shadowRoot);
      const bad = [];
      for (const root of all) {
        for (const el of root.querySelectorAll(
          'img, object, embed, iframe:not(#parley-frame), [onerror], [onload], [onmouseover], [onclick], [src^="javascript:" i], [href^="javascript:" i]',
        )) {
          bad.push(el.outerHTML.slice(0, 120));
        }
        for (const s of root.querySelectorAll('script')) if (!s.src) bad.push('inline script in the widget');
        for (const s of root.querySelectorAll('svg:not([aria-hidden="true"])')) bad.push(s.outerHTML.slice(0, 120));
      }
      return bad;
    });
    // The host page has its own inline script (the parley() queue stub and
    // identify call); count only what is inside the widget or the frame.
    assert.deepEqual(
      found.filter((x) => x !== 'inline script in the widget' || f === frame),
      [],
      `markup from a payload in ${f === page ? 'the host page' : 'the frame'}`,
    );
  }

  // Only the http(s) URL became a link; javascript: stays text and is not clickable.
  const hrefs = await frame.$$eval('a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target })));
  assert.deepEqual(hrefs, [{ href: 'https://safe.example/ok', text: 'https://safe.example/ok', rel: 'noopener noreferrer', target: '_blank' }]);
  const jsText = frame.locator('.pw-theirs .pw-bubble');
  const inLink = await jsText.evaluate((el, needle) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.includes(needle)) return !!n.parentElement.closest('a');
    return null;
  }, JS_URL);
  assert.equal(inLink, false, 'the javascript: URL is plain text');
  const pagesBefore = ctx.pages().length;
  await frame.getByText(JS_URL).first().click();
  await frame.getByText('here').first().click();
  // Waiting is the test here: nothing may open within a while of the clicks.
  await page.waitForTimeout(500);
  assert.equal(ctx.pages().length, pagesBefore, 'clicking the javascript: text opened nothing');

  // What reached the server is the same text; the visitor's name and attributes too.
  const v = (await stack.pg.query('SELECT v.name, v.attributes FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1', [cid])).rows[0];
  assert.equal(v.name, IMG);
  assert.deepEqual(v.attributes, { order: SCRIPT, plan: SVG });

  // The page's message event carries the text as it is.
  const events = await page.evaluate(() => window.__parleyEvents.filter((e) => e.event === 'message').map((e) => e.data.body));
  assert.deepEqual(events, [reply]);

  await screenshot(page, 'desktop-xss-inert');
  assert.deepEqual(hits, [], 'a payload ran');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(cspViolations(page), [], 'markup was interpreted (and blocked by the CSP)');
});
