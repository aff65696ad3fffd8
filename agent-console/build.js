'use strict';
// Builds the agent console into <outdir>/console (called by
// scripts/build-frontend.js with outdir = build/static):
//   console/index.html   the page (no inline script or style: strict CSP)
//   console/app.js       the Preact app, one bundle
//   console/app.css      its styles
//   console/notify.wav   the notification chime, synthesised here
//   console/favicon.svg
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const esbuild = require('esbuild');

const src = path.join(__dirname, 'src');

/** A short two-note chime: 16-bit mono PCM WAV. */
function chime() {
  const rate = 22050;
  const notes = [
    { f: 880, start: 0, len: 0.16 },
    { f: 1318.5, start: 0.11, len: 0.3 },
  ];
  const total = Math.ceil(rate * 0.45);
  const samples = new Float32Array(total);
  for (const n of notes) {
    const s0 = Math.floor(n.start * rate);
    const count = Math.floor(n.len * rate);
    for (let i = 0; i < count && s0 + i < total; i++) {
      const t = i / rate;
      const attack = Math.min(1, t / 0.008);
      const decay = Math.exp(-t * 9);
      samples[s0 + i] += 0.32 * attack * decay * (Math.sin(2 * Math.PI * n.f * t) + 0.25 * Math.sin(4 * Math.PI * n.f * t));
    }
  }
  const data = Buffer.alloc(total * 2);
  for (let i = 0; i < total; i++) data.writeInt16LE(Math.max(-1, Math.min(1, samples[i])) * 32767, i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0);
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8);
  head.write('fmt ', 12);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36);
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="8" fill="#4f46e5"/>' +
  '<path d="M9 10.5h14a2.5 2.5 0 0 1 2.5 2.5v6a2.5 2.5 0 0 1-2.5 2.5h-7l-4.5 3.5v-3.5H9A2.5 2.5 0 0 1 6.5 19v-6A2.5 2.5 0 0 1 9 10.5z" fill="#fff"/>' +
  '</svg>\n';

function page(version) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin-when-cross-origin">
<title>Parley</title>
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/app.css?v=${version}">
<script src="/console/app.js?v=${version}" defer></script>
</head>
<body>
<div id="app"><div class="boot">Loading Parley…</div></div>
<noscript>The Parley console needs JavaScript.</noscript>
</body>
</html>
`;
}

/** Writes a file only when its content changed (keeps ETags stable). */
function put(file, content) {
  try {
    if (Buffer.compare(fs.readFileSync(file), Buffer.from(content)) === 0) return;
  } catch {
    /* new file */
  }
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

async function build(outdir) {
  const out = path.join(outdir, 'console');
  fs.mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(src, 'main.jsx') },
    bundle: true,
    minify: true,
    write: false,
    outdir: out,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const hash = crypto.createHash('sha256');
  const wanted = new Set(['index.html', 'notify.wav', 'favicon.svg']);
  for (const f of result.outputFiles) {
    hash.update(f.contents);
    wanted.add(path.basename(f.path));
    put(f.path, f.contents);
  }
  put(path.join(out, 'notify.wav'), chime());
  put(path.join(out, 'favicon.svg'), FAVICON);
  put(path.join(out, 'index.html'), page(hash.digest('hex').slice(0, 12)));
  // Files of an older build that this one no longer makes.
  for (const name of fs.readdirSync(out)) {
    if (!wanted.has(name) && !name.includes('.tmp')) fs.rmSync(path.join(out, name), { force: true });
  }
}

module.exports = { build };

if (require.main === module) {
  build(path.resolve(__dirname, '..', 'build', 'static')).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
