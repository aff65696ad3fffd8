'use strict';
// The widget's size budget on the built files (what `make all` put into
// build/static): the loader, what the frame loads at start, and the call UI
// kept out of it (a chunk imported only when a call rings); and the rules its sources (widget/src and the ui-shared/
// modules it bundles) must keep: no HTML parsing of strings anywhere, and nothing in frame.html that the frame's strict CSP
// (script-src 'self'; style-src 'self') would refuse.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const { REPO_ROOT } = require('../helpers/common');

const STATIC = path.join(REPO_ROOT, 'build', 'static');
const gz = (file) => zlib.gzipSync(fs.readFileSync(path.join(STATIC, file)), { level: 9 }).length;

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    // ui-shared's own tests and dependencies are not bundled.
    if (e.isDirectory() && (e.name === 'node_modules' || e.name === 'test')) continue;
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(js|jsx|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

test('the loader is at most 4 KB gzipped', () => {
  const n = gz('widget.js');
  console.log(`# widget.js: ${fs.statSync(path.join(STATIC, 'widget.js')).size} bytes, ${n} gzipped`);
  assert.ok(n <= 4096, `widget.js is ${n} bytes gzipped (budget 4096)`);
});

// What frame.html loads at start: its stylesheets, its module script and,
// recursively, every chunk a loaded module imports statically. A dynamic
// import() is not followed: that is what loads later (the call chunk).
function startSet() {
  const html = fs.readFileSync(path.join(STATIC, 'widget', 'frame.html'), 'utf8');
  const attrs = (re) => [...html.matchAll(re)].map((m) => m[1]);
  const css = attrs(/<link rel="stylesheet" href="([^"]+)">/g);
  const preload = attrs(/<link rel="modulepreload" href="([^"]+)">/g);
  const js = new Set();
  const lazy = new Set();
  const visit = (f) => {
    if (js.has(f)) return;
    js.add(f);
    const text = fs.readFileSync(path.join(STATIC, 'widget', f), 'utf8');
    for (const m of text.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+)["']/g)) visit(m[1]);
    for (const m of text.matchAll(/\bimport\(\s*["']\.\/([^"']+)["']\s*\)/g)) lazy.add(m[1]);
  };
  for (const f of attrs(/<script type="module" src="([^"]+)">/g)) visit(f);
  return { css, js: [...js], preload, lazy: [...lazy].filter((f) => !js.has(f)) };
}

test('what the chat frame loads at start (JS + CSS) is at most 30 KB gzipped', () => {
  const { css, js } = startSet();
  assert.ok(js.includes('frame.js') && css.includes('frame.css'), `frame.html loads ${[...js, ...css]}`);
  const sizes = [...js, ...css].map((f) => [f, gz(`widget/${f}`)]);
  const total = sizes.reduce((n, [, b]) => n + b, 0);
  console.log(`# at start: ${sizes.map(([f, b]) => `${f} ${b}`).join(' + ')} = ${total} bytes gzipped`);
  assert.ok(total <= 30 * 1024, `the frame loads ${total} bytes gzipped at start (budget 30720)`);
});

test('the call UI is a chunk of its own that nothing loads at start', () => {
  const { css, js, preload, lazy } = startSet();
  // frame.html preloads exactly the chunks frame.js imports (no waterfall, nothing extra).
  assert.deepEqual([...preload].sort(), js.filter((f) => f !== 'frame.js').sort());
  // WebRTC and the call UI's words are only in what import() loads.
  for (const f of js) {
    const text = fs.readFileSync(path.join(STATIC, 'widget', f), 'utf8');
    for (const bad of ['RTCPeerConnection', 'getUserMedia', 'getDisplayMedia', 'call.css', 'Accept audio only'])
      assert.ok(!text.includes(bad), `${f} (loaded at start) has ${bad}`);
  }
  assert.ok(!css.includes('call.css'));
  const call = lazy.find((f) => fs.readFileSync(path.join(STATIC, 'widget', f), 'utf8').includes('RTCPeerConnection'));
  assert.ok(call, `no lazily imported chunk has the call engine (lazy: ${lazy})`);
  const text = fs.readFileSync(path.join(STATIC, 'widget', call), 'utf8');
  assert.ok(text.includes('call.css') && text.includes('Accept audio only'), `${call} is not the call UI`);
  const js2 = gz(`widget/${call}`);
  const css2 = gz('widget/call.css');
  console.log(`# call chunk: ${call} ${js2} + call.css ${css2} = ${js2 + css2} bytes gzipped, loaded when a call rings or is asked for`);
});

test('the build has everything the frame and the demo page load', () => {
  for (const f of ['widget.js', 'widget/frame.html', 'widget/frame.js', 'widget/frame.css', 'widget/call.css', 'demo/demo.css']) {
    assert.ok(fs.statSync(path.join(STATIC, f)).size > 0, `${f} is missing or empty`);
  }
  const html = fs.readFileSync(path.join(STATIC, 'widget', 'frame.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'frame.html must not have inline scripts');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'frame.html must not have inline styles or handlers');
  assert.match(html, /<script type="module" src="frame\.js">/);
  assert.match(html, /<link rel="stylesheet" href="frame\.css">/);
});

test('the widget sources never parse strings as HTML or code', () => {
  const shared = sources(path.join(REPO_ROOT, 'ui-shared'));
  assert.ok(shared.length >= 1, 'no sources found in ui-shared/');
  const files = [...sources(path.join(REPO_ROOT, 'widget', 'src')), ...shared];
  assert.ok(files.length >= 2);
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const bad of [
      /innerHTML/,
      /outerHTML/,
      /dangerouslySetInnerHTML/,
      /insertAdjacentHTML/,
      /document\.write/,
      /\beval\(/,
      /new Function/,
      /setAttribute\(\s*['"]style/,
    ]) {
      assert.doesNotMatch(text, bad, `${path.relative(REPO_ROOT, f)} uses ${bad}`);
    }
  }
});
