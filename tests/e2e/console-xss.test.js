'use strict';
// Everything a visitor controls reaches the console as text: message
// bodies, name, email, custom attributes (keys and values), user agent,
// referrer, page URL and pre-chat answers are filled with markup and
// script payloads. Proof that none of it ran or became markup: the payloads
// call window.__pwned (a binding exposed by the test) and set
// window.__xss; neither happens, no element from a payload exists, no CSP
// violation is reported, and the payloads are shown literally.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, sendMessage } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem, shot } = require('../helpers/browser');
const { visitorWithAgent } = require('../helpers/visitors');

const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

const P = (field) => `<img src=x onerror="window.__pwned('${field}')"><script>window.__xss='${field}'</script><svg onload="window.__pwned('${field}-svg')">`;

test('visitor-supplied fields render inert in the conversation, list, panel and notifications', { timeout: 90000 }, async () => {
  const team = await createTeam(fx.pg);
  const agent = await createAgent(fx.pg, { name: 'Xavier Safe', role: 'supervisor', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://shop.example'] });

  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  const pwned = [];
  await page.exposeBinding('__pwned', (_src, field) => pwned.push(field));
  await loginUI(page, agent);

  const v = await visitorWithAgent(fx.srv, site, { userAgent: `Mozilla/5.0 ${P('ua')} (X11; Linux x86_64) Chrome/124.0` });
  await v.ack({
    type: 'visitor.update',
    attributes: { [P('attrkey').slice(0, 64)]: P('attr').slice(0, 500), plan: '"><iframe src="javascript:window.__pwned(\'attr-iframe\')">' },
  });
  const cid = (
    await v.ack({
      type: 'conversation.start',
      prechat: { name: P('name'), email: `${P('email')}@x.example`, order: P('prechat'), [`${P('pk')}`.slice(0, 64)]: 'key' },
      page_url: `https://shop.example/"><script>window.__pwned('page')</script>?q=${encodeURIComponent('<b>')}`,
      referrer: `http://ref.example/'><img src=x onerror=window.__pwned('referrer')>`,
    })
  ).conversation.id;
  await sendMessage(v, cid, P('message'));
  await sendMessage(v, cid, "click javascript:window.__pwned('js-link') or https://ok.example/\"><img src=x onerror=window.__pwned('in-link')> now");
  await sendMessage(v, cid, '[a](javascript:alert(1)) <a href="javascript:window.__pwned(\'a\')">x</a> &lt;b&gt;');

  // Queue list (name, preview), conversation, visitor panel.
  await page.click('[data-testid=nav-queue]');
  const item = convItem(page, cid);
  await item.waitFor();
  assert.ok((await item.textContent()).includes('<img src=x onerror="window.__pwned(\'name\')">'), 'name shown literally in the list');
  await item.click();
  await page.waitForSelector('[data-testid=message]:has-text("&lt;b&gt;")');
  await page.click('[data-testid=visitor-panel] details.ua summary');
  // The same in "All open" and after accepting (a second render path).
  await page.click('[data-testid=accept]');
  await page.waitForSelector('[data-testid=conv-status]:text("assigned")');
  const input = page.locator('[data-testid=composer-input]');
  await input.type('Agent echo: <img src=x onerror="window.__pwned(\'agent\')">');
  await input.press('Enter');
  await page.waitForSelector('[data-testid=message]:has-text("Agent echo")');
  // A new message while another chat is in view goes to a notification (text).
  await page.click('[data-testid=nav-closed]');
  await sendMessage(v, cid, P('notify'));
  await page.waitForFunction(() => (window.__notifications || []).some((n) => n.body && n.body.includes('notify')));
  await page.click('[data-testid=nav-mine]');
  await convItem(page, cid).click();
  await page.waitForSelector(`[data-testid=message]:has-text("__pwned('notify')")`);
  await page.waitForTimeout(300);
  await shot(page, '20-xss-inert');

  // Nothing ran...
  assert.deepEqual(pwned, [], 'a payload called window.__pwned');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'a payload set window.__xss');
  // ...no element came from a payload...
  const injected = await page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    script: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    iframe: document.querySelectorAll('iframe').length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).length,
    jsLinks: [...document.querySelectorAll('a')].filter((a) => !/^https?:/i.test(a.getAttribute('href') || '')).map((a) => a.getAttribute('href')),
    links: [...document.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel') })),
  }));
  assert.equal(injected.img, 0);
  assert.equal(injected.iframe, 0);
  assert.equal(injected.handlers, 0);
  assert.deepEqual(
    injected.script.filter((s) => !/^\/console\/app\.js/.test(s || '')),
    [],
  );
  assert.deepEqual(injected.jsLinks, [], 'only http(s) links');
  for (const l of injected.links) assert.equal(l.rel, 'noopener noreferrer', `link ${l.href}`);
  // ...and the payloads are there, as text.
  const text = await page.locator('.main').textContent();
  for (const field of ['name', 'message', 'attr', 'prechat', 'ua', 'email', 'notify']) {
    assert.ok(text.includes(`window.__pwned('${field}')`), `the ${field} payload is shown as text`);
  }
  assert.ok(text.includes("window.__pwned('page')"), 'page URL shown as text');
  assert.ok(text.includes("window.__pwned('referrer')"), 'referrer shown as text');
  const panel = page.locator('[data-testid=visitor-panel]');
  assert.equal(
    await panel.locator('[data-testid=visitor-page] a').getAttribute('href'),
    new URL(`https://shop.example/"><script>window.__pwned('page')</script>?q=${encodeURIComponent('<b>')}`).href,
  );
  assert.deepEqual(await C.problems(), [], 'no page errors and no CSP violations');
  const notes = await page.evaluate(() => window.__notifications);
  assert.ok(
    notes.some((n) => n.body.includes('<img src=x onerror="window.__pwned(\'notify\')">')),
    'notification body is the raw text',
  );
  await C.context.close();
});
