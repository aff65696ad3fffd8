'use strict';
// Browser side of the console e2e tests: Debian's Chromium driven by
// playwright-core, the console built into build/static, page-error and CSP
// watchers, logging in through the UI, and screenshots.
//
//   const browser = await launchBrowser();
//   const { page, problems } = await openConsole(browser, srv);   // at /console/
//   await loginUI(page, agent);
//   await shot(page, 'inbox');            // test-results/screenshots/inbox.png
//   assert.deepEqual(problems(), []);     // no page errors, no CSP violations

const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT, onExit } = require('./common');

const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'screenshots');
const STATIC = path.join(REPO_ROOT, 'build', 'static');
/** Debian's Chromium (no downloaded browser); CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Source directories the console is built from (it imports ui-shared/). */
const CONSOLE_SOURCES = ['agent-console', 'ui-shared'].map((d) => path.join(REPO_ROOT, d));

/** Builds the console into build/static when it is missing or older than its sources. */
async function ensureConsoleBuilt() {
  const index = path.join(STATIC, 'console', 'index.html');
  let built;
  try {
    built = fs.statSync(index).mtimeMs;
  } catch {
    built = 0;
  }
  const srcDir = path.join(REPO_ROOT, 'agent-console');
  let newest = 0;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of CONSOLE_SOURCES) walk(d);
  if (built && built >= newest) return;
  await require(path.join(srcDir, 'build.js')).build(STATIC);
}

/**
 * Chromium's own camera and microphone (a test pattern and a beep) granted
 * without asking, and getDisplayMedia answered with the screen without a
 * picker: what the call tests pass as launchBrowser's args.
 */
const MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--auto-select-desktop-capture-source=Entire screen'];

/**
 * The one way the tests start Chromium (console and widget tests alike):
 * headless, killed at process exit if still running; browser.close() never
 * throws. args: more command-line switches (MEDIA_ARGS).
 */
async function launchBrowser({ timeoutMs = 60000, args = [] } = {}) {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args], timeout: timeoutMs });
  const unregister = onExit(() => {
    try {
      const proc = browser.process && browser.process();
      if (proc) proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
  });
  browser.on('disconnected', unregister);
  const close = browser.close.bind(browser);
  browser.close = async () => {
    unregister();
    await close().catch(() => {});
  };
  return browser;
}

/**
 * A fresh context and page at <origin>/console/. Options:
 *   origin        where the console is served (srv.origin by default)
 *   notifications stub the Notification API as granted and record calls
 *                 in window.__notifications (true by default)
 *   viewport      {width, height}
 *   locale        the browser's language (e.g. 'zh-CN'; Chromium's default otherwise)
 * Resolves { context, page, problems() } where problems() lists page
 * errors, console errors and CSP violations seen so far.
 */
async function openConsole(
  browser,
  srv,
  { origin = srv.origin, notifications = true, viewport = { width: 1440, height: 900 }, path: p = '/console/', locale, recordPeers = false } = {},
) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    reducedMotion: 'reduce',
    ...(locale ? { locale } : {}),
    // A TLS test server has a self-signed certificate.
    ...(srv.tls ? { ignoreHTTPSErrors: true } : {}),
  });
  const seen = [];
  if (notifications) {
    await context.addInitScript(() => {
      window.__notifications = [];
      class FakeNotification {
        constructor(title, opts) {
          window.__notifications.push({ title, body: opts && opts.body, tag: opts && opts.tag });
          this.onclick = null;
        }
        close() {}
        static requestPermission() {
          return Promise.resolve('granted');
        }
      }
      FakeNotification.permission = 'granted';
      window.Notification = FakeNotification;
    });
  }
  if (recordPeers) await recordPeerConnections(context);
  // Every CSP violation, reported from inside the page.
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection to/.test(m.text())) seen.push(`console: ${m.text()}`);
  });
  await page.goto(`${origin}${p}`);
  const problems = async () => {
    const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
    return [...seen, ...csp.map((c) => `csp: ${c}`)];
  };
  return { context, page, problems };
}

/** Logs in through the form and waits for the connected app. */
async function loginUI(page, agent, { waitConnected = true } = {}) {
  await page.fill('#login-email', agent.email);
  await page.fill('#login-password', agent.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.sidebar', { timeout: 10000 });
  if (waitConnected) await waitConnectedUI(page);
}

async function waitConnectedUI(page, timeout = 15000) {
  await page.waitForSelector('[data-testid=connection][data-state=open]', { timeout });
}

async function shot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The conversation list item of a conversation. */
function convItem(page, id) {
  return page.locator(`[data-testid=conv-item][data-id="${id}"]`);
}

/** The two layouts and the two languages screenshots are taken in: [name, value]. */
const SIZES = [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
];
const LOCALES = [
  ['en', 'en-US'],
  ['zh', 'zh-CN'],
];

/**
 * The (locale, viewport) pairs a screenshot test renders. Every view is
 * drawn in both languages and at both sizes either way; `make test` takes
 * the two pairs that cover them (the first locale wide, the second narrow),
 * and PARLEY_SCREENSHOTS=all (`make screenshots`) every pair, for looking
 * at all four pictures of each view.
 */
function screenshotPairs(locales, viewports) {
  if (process.env.PARLEY_SCREENSHOTS === 'all') return locales.flatMap((l) => viewports.map((v) => [l, v]));
  return [
    [locales[0], viewports[0]],
    [locales[1], viewports[1]],
  ];
}

/**
 * Test options for a screenshot test drawn only by `make screenshots`
 * (PARLEY_SCREENSHOTS set), not by `make test`: the calls' pictures need
 * real media on both ends for every view and would cost `make test` more
 * than a minute; the behaviour they show has tests of its own.
 */
const ONLY_MAKE_SCREENSHOTS = process.env.PARLEY_SCREENSHOTS ? {} : { skip: 'drawn by make screenshots (PARLEY_SCREENSHOTS=all)' };

/**
 * Keeps every RTCPeerConnection the pages (and frames) of a context make in
 * window.__pcs, so that a test can read the real connection's getStats
 * (the app's own code keeps no test hooks). Call before the pages load.
 */
async function recordPeerConnections(context) {
  await context.addInitScript(() => {
    const Real = window.RTCPeerConnection;
    if (!Real) return;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Real {
      constructor(...args) {
        super(...args);
        window.__pcs.push(this);
      }
    };
  });
}

/**
 * RTP bytes of the live peer connections of a page or frame recorded by
 * recordPeerConnections: { sent: {audio, video}, received: {audio, video},
 * inboundVideoStreams (with bytes), relay (the pair in use is relayed on
 * this side) }.
 */
function rtpBytes(target) {
  return target.evaluate(async () => {
    const out = { sent: { audio: 0, video: 0 }, received: { audio: 0, video: 0 }, inboundVideoStreams: 0, relay: false };
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((r) => byId.set(r.id, r));
      stats.forEach((r) => {
        const kind = r.kind || r.mediaType;
        if (r.type === 'outbound-rtp' && out.sent[kind] !== undefined) out.sent[kind] += r.bytesSent || 0;
        if (r.type === 'inbound-rtp' && out.received[kind] !== undefined) {
          out.received[kind] += r.bytesReceived || 0;
          if (kind === 'video' && r.bytesReceived > 0) out.inboundVideoStreams += 1;
        }
        if (r.type === 'transport' && r.selectedCandidatePairId) {
          const pair = byId.get(r.selectedCandidatePairId);
          const local = pair && byId.get(pair.localCandidateId);
          if (local && local.candidateType === 'relay') out.relay = true;
        }
      });
    }
    return out;
  });
}

module.exports = {
  ONLY_MAKE_SCREENSHOTS,
  recordPeerConnections,
  rtpBytes,
  screenshotPairs,
  SIZES,
  LOCALES,
  ensureConsoleBuilt,
  launchBrowser,
  openConsole,
  loginUI,
  waitConnectedUI,
  shot,
  convItem,
  SCREENSHOTS,
  CHROMIUM,
  CHROMIUM_ARGS,
  MEDIA_ARGS,
  CONSOLE_SOURCES,
};
