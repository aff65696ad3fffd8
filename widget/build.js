'use strict';
// Builds the widget into build/static (called by scripts/build-frontend.js):
//   widget.js            the loader (plain JS, embedded by the sites)
//   widget/frame.html    the chat frame (+ frame.js, frame.css: Preact)
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
    esbuild.build({
      ...common,
      entryPoints: [path.join(src, 'frame', 'main.jsx')],
      outfile: path.join(outdir, 'widget', 'frame.js'),
      format: 'iife',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      define: { 'process.env.NODE_ENV': '"production"' },
    }),
    esbuild.build({
      ...common,
      bundle: false,
      entryPoints: [path.join(src, 'frame', 'frame.css')],
      outfile: path.join(outdir, 'widget', 'frame.css'),
      target: ['chrome100', 'firefox100', 'safari15'],
    }),
  ]);
  fs.copyFileSync(path.join(__dirname, 'frame.html'), path.join(outdir, 'widget', 'frame.html'));
  fs.copyFileSync(path.join(__dirname, 'demo', 'demo.css'), path.join(outdir, 'demo', 'demo.css'));
}

module.exports = { build };
