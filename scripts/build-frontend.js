#!/usr/bin/env node
'use strict';
// Builds the front ends into build/static with esbuild. Each front end
// (widget/, agent-console/) has a build.js that exports build(outdir);
// a front end without one is skipped.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outdir = path.join(root, 'build', 'static');

async function main() {
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of ['widget', 'agent-console']) {
    const script = path.join(root, name, 'build.js');
    if (!fs.existsSync(script)) continue;
    await require(script).build(outdir);
    console.log(`built ${name}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
