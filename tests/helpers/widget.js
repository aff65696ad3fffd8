'use strict';
// Browser-test harness for the chat widget (tests/e2e).
//
//   const stack = widgetSuite({ settings: {...}, proxy: true });   // registers before/after
//   const { test } = stack;
//   // in tests: stack.pg, stack.srv (parleyd), stack.parley (the URL the browser
//   // uses: parleyd itself, or a TCP proxy in front of it), stack.host (a page on
//   // another origin carrying the snippet), stack.site, stack.team, stack.browser
//   const page = await stack.newPage();            // host page loaded
//   const frame = await widgetFrame(page);        // the chat iframe (a Playwright Frame)
//
// Chromium is Debian's /usr/bin/chromium driven by playwright-core (no
// downloaded browser). Screenshots go to <repo>/test-results/screenshots.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { REPO_ROOT, freePort, onExit } = require('./common');
const { launchBrowser, shot } = require('./browser');
const { suite } = require('./suite');
const { startTcpProxy } = require('./tcp-proxy');
const { createTeam, createSite } = require('./fixtures');

const STATIC_DIR = path.join(REPO_ROOT, 'build', 'static');

function requireBuiltWidget() {
  for (const f of ['widget.js', 'widget/frame.html', 'widget/frame.js', 'widget/frame.css']) {
    if (!fs.existsSync(path.join(STATIC_DIR, f))) throw new Error(`build/static/${f} is missing: run \`make all\` first`);
  }
}

/**
 * A tiny web server on another origin than parleyd, serving a shop page
 * with the widget snippet. `config` is read on every request:
 *   { parley, siteKey, head, body, title }
 * Any path serves the page (so navigation between pages can be tested).
 */
async function startHostPage(config, { hostname = 'localhost' } = {}) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const c = config;
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${c.title || 'Acme Outdoor'}</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1f2937; background: #f3f4f6; }
  header { background: #0f172a; color: #fff; padding: 28px 40px; }
  header h1 { margin: 0; font-size: 26px; }
  main { padding: 32px 40px; display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 20px; }
  article { background: #fff; border-radius: 12px; padding: 20px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  article .img { height: 120px; border-radius: 8px; background: linear-gradient(135deg, #cbd5e1, #94a3b8); margin-bottom: 12px; }
  /* Hostile page styles: the widget must not be affected. */
  button { background: hotpink !important; font-size: 40px; }
  iframe { border: 10px solid red; }
</style>
<script>
  window.parley = window.parley || function () { (parley.q = parley.q || []).push(arguments); };
  window.__parleyEvents = [];
  ['ready', 'open', 'close', 'message', 'unread'].forEach(function (e) {
    parley('on', e, function (d) { window.__parleyEvents.push({ event: e, data: d === undefined ? null : d }); });
  });
</script>
${c.head || ''}
</head>
<body>
<header><h1>Acme Outdoor</h1><div>Gear for every trail</div></header>
<main>
  <article><div class="img"></div><h2>Trail Runner 2</h2><p>Light and grippy.</p><p>$129</p></article>
  <article><div class="img"></div><h2>Summit Jacket</h2><p>Waterproof, breathable.</p><p>$219</p></article>
  <article><div class="img"></div><h2>Day Pack 24L</h2><p>Everything for a day out.</p><p>$89</p></article>
</main>
${c.body || ''}
<script src="${c.parley}/widget.js" data-site="${c.siteKey}" async></script>
</body>
</html>
`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const unregister = onExit(() => server.close());
  const origin = `http://${hostname}:${port}`;
  return {
    origin,
    url: `${origin}/`,
    config,
    close() {
      unregister();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * The fixture of a widget test: suite() (tests/helpers/suite.js) with a
 * browser, plus a host page on another origin carrying the snippet, a team
 * and a site allowing that origin. Options:
 *   settings   widget_settings of the site
 *   proxy      put a TCP proxy between the browser and parleyd (network drops)
 *   env        extra parleyd environment
 *   browserArgs more Chromium switches (browser.js MEDIA_ARGS for calls)
 * Returns the suite object with, once before() ran: .proxy, .parley (the URL
 * the browser uses: parleyd itself or the proxy), .host, .team, .site, and
 * .newContext(opts), .newPage(opts, { ctx, url }).
 */
function widgetSuite({ settings = {}, proxy: useProxy = false, env = {}, browserArgs = [], nodes = 1 } = {}) {
  let proxy = null;
  const fx = suite({
    browser: true,
    browserArgs,
    nodes,
    env: async () => {
      requireBuiltWidget();
      // The proxy listens before parleyd starts: parleyd is told its URL.
      if (useProxy) proxy = await startTcpProxy();
      return { ...(proxy ? { PARLEY_PUBLIC_URL: proxy.url } : {}), ...env };
    },
  });
  fx.proxy = null;
  fx.host = null;
  fx.contexts = [];
  fx.setup(async () => {
    fx.proxy = proxy;
    if (proxy) proxy.setTarget(fx.srv.port);
    fx.parley = proxy ? proxy.url : fx.srv.url;
    const config = { parley: fx.parley, siteKey: '' };
    fx.host = await startHostPage(config);
    fx.team = await createTeam(fx.pg);
    fx.site = await createSite(fx.pg, { teamId: fx.team, origins: [fx.host.origin] });
    config.siteKey = fx.site.key;
    await setSettings(fx, settings);
  });
  fx.teardown(async () => {
    for (const ctx of fx.contexts) await ctx.close().catch(() => {});
    if (fx.host) await fx.host.close().catch(() => {});
    if (proxy) await proxy.close().catch(() => {});
  });

  /** A new browser context (own storage). */
  fx.newContext = async (opts = {}) => {
    const ctx = await fx.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...opts });
    fx.contexts.push(ctx);
    return ctx;
  };
  /** A page (in a new context unless ctx is given) on the host page. */
  fx.newPage = async (opts = {}, { ctx, url = fx.host.url } = {}) => {
    const context = ctx || (await fx.newContext(opts));
    const page = await context.newPage();
    watchPage(page);
    await page.goto(url);
    return page;
  };
  return fx;
}

async function setSettings(stack, settings) {
  await stack.pg.query('UPDATE sites SET widget_settings = $2::jsonb WHERE id = $1', [stack.site.id, JSON.stringify(settings)]);
}

/**
 * Records what a page (and its frames) print: console messages, page
 * errors and CSP violations, for assertions and failure messages.
 */
function watchPage(page) {
  page.__log = [];
  page.on('console', (m) => page.__log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.__log.push(`[pageerror] ${e.message}`));
  return page;
}

function cspViolations(page) {
  return (page.__log || []).filter((l) => /Content Security Policy|Refused to (execute|apply|load)/i.test(l));
}

/** The widget's chat frame of a page, once it exists. */
async function widgetFrame(page, { timeoutMs = 15000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = page.frames().find((x) => x.url().includes('/widget/frame.html'));
    if (f) {
      await f.waitForSelector('.pw', { timeout: Math.max(1000, deadline - Date.now()) });
      return f;
    }
    if (Date.now() > deadline) throw new Error(`no widget frame within ${timeoutMs} ms\n${(page.__log || []).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The launcher button (inside the widget's shadow root). */
function launcher(page) {
  return page.locator('#parley-widget button');
}

/** Open the widget with the launcher and resolve its frame. */
async function openWidget(page) {
  await launcher(page).click();
  const frame = await widgetFrame(page);
  await page.waitForFunction(() => {
    const host = document.getElementById('parley-widget');
    const f = host && host.shadowRoot && host.shadowRoot.querySelector('iframe');
    return f && getComputedStyle(f).visibility === 'visible';
  });
  return frame;
}

async function screenshot(page, name) {
  // Let the open transition finish.
  await page.waitForTimeout(400);
  return shot(page, `widget-${name}`);
}

/** The texts of the message bubbles shown in the frame. */
function bubbleTexts(frame) {
  return frame.$$eval('.pw-msgs .pw-row .pw-bubble', (els) =>
    els.map((e) => {
      const c = e.cloneNode(true);
      c.querySelectorAll('.pw-sr').forEach((x) => x.remove());
      return c.textContent;
    }),
  );
}

module.exports = {
  launchBrowser,
  startHostPage,
  widgetSuite,
  setSettings,
  watchPage,
  cspViolations,
  widgetFrame,
  launcher,
  openWidget,
  screenshot,
  bubbleTexts,
};
