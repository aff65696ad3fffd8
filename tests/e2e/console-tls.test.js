'use strict';
// The console over HTTPS in Chromium: the page, its API calls and its
// WebSocket (wss) all go through parleyd's own TLS (a self-signed
// certificate). An agent logs in, a visitor's message arrives live, the
// agent answers from the browser and the visitor gets the answer over wss.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectVisitor, startConversation, sendMessage, msgCreated } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem } = require('../helpers/browser');

const fx = suite({ tls: true, browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

test('the console over HTTPS and WSS: login, a live chat both ways', { timeout: 90000 }, async () => {
  const team = await createTeam(fx.pg, 'Secure desk');
  const ann = await createAgent(fx.pg, { name: 'Ann Secure', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });

  const { page, problems } = await openConsole(fx.browser, fx.srv);
  assert.match(page.url(), /^https:\/\//);
  await loginUI(page, ann);
  await page.click('.status-opt.status-online');
  await page.waitForSelector('.status-opt.status-online[aria-checked=true]');

  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v, { prechat: { name: 'Tilda Tls' } });
  await sendMessage(v, cid, 'is this line encrypted?');
  await page.click('[data-testid=nav-mine]');
  await convItem(page, cid).click();
  await page.waitForSelector('.bubble:has-text("is this line encrypted?")');

  await page.fill('.composer textarea', 'yes, end to end over TLS');
  await page.keyboard.press('Enter');
  await v.next(
    msgCreated(cid, (m) => m.body === 'yes, end to end over TLS'),
    10000,
    'the visitor gets the reply',
  );

  // The session cookie the browser holds is Secure and HttpOnly.
  const cookie = (await page.context().cookies()).find((c) => c.name === 'parley_session');
  assert.ok(cookie && cookie.secure && cookie.httpOnly, JSON.stringify(cookie));
  assert.deepEqual(await problems(), []);
  await v.close();
});
