'use strict';
// Builds the widget into build/static (called by scripts/build-frontend.js):
//   widget.js            the loader (plain JS, embedded by the sites)
//   widget/frame.html    the chat frame (+ frame.js, frame.css: Preact)
//   widget/chunk-*.js    code frame.js shares with the call chunk (loaded at start,
//                        preloaded by frame.html's modulepreload links)
//   widget/callui-*.js   the call UI, imported only when a call rings or is
//                        asked for (+ widget/call.css, which it loads)
//
// The frame is built as ES modules with code splitting so that the call UI
// is a chunk of its own that shares Preact, the store and the strings with
// the frame instead of bundling second copies (widget/README.md, "Calls").
//   demo/demo.css        the style of the /demo shop page
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const src = path.join(__dirname, 'src');
const common = {
  bundle: true,
  minify: true,
  target: 'es2019',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
};

async function build(outdir) {
  fs.mkdirSync(path.join(outdir, 'widget'), { recursive: true });
  fs.mkdirSync(path.join(outdir, 'demo'), { recursive: true });
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [path.join(src, 'loader.js')],
      outfile: path.join(outdir, 'widget.js'),
      format: 'iife',
    }),
    frame(outdir),
    ...['frame.css', 'call/call.css'].map((css) =>
      esbuild.build({
        ...common,
        bundle: false,
        entryPoints: [path.join(src, 'frame', css)],
        outfile: path.join(outdir, 'widget', path.basename(css)),
        target: ['chrome100', 'firefox100', 'safari15'],
      }),
    ),
  ]);
  fs.copyFileSync(path.join(__dirname, 'demo', 'demo.css'), path.join(outdir, 'demo', 'demo.css'));
}

// frame.js and its chunks. frame.html gets a modulepreload link for each
// chunk frame.js imports statically (all of them load at start anyway; the
// links save the round trip of discovering them), and chunks of earlier
// builds are removed.
async function frame(outdir) {
  const dir = path.join(outdir, 'widget');
  const r = await esbuild.build({
    ...common,
    entryPoints: { frame: path.join(src, 'frame', 'main.jsx') },
    outdir: dir,
    format: 'esm',
    splitting: true,
    target: 'es2020', // (dynamic import(); every browser with ES modules in iframes has it)
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
  });
  const outputs = Object.keys(r.metafile.outputs).map((o) => path.resolve(o));
  for (const f of fs.readdirSync(dir)) if (/^(chunk|callui)-.*\.js$/.test(f) && !outputs.includes(path.resolve(dir, f))) fs.unlinkSync(path.join(dir, f));
  const main = Object.entries(r.metafile.outputs).find(([o]) => path.basename(o) === 'frame.js')[1];
  const preload = main.imports
    .filter((i) => i.kind === 'import-statement')
    .map((i) => `<link rel="modulepreload" href="${path.basename(i.path)}">`)
    .join('\n');
  const html = fs.readFileSync(path.join(__dirname, 'frame.html'), 'utf8').replace('<!--modulepreload-->', preload);
  fs.writeFileSync(path.join(dir, 'frame.html'), html);
}

module.exports = { build };
