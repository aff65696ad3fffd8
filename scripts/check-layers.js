#!/usr/bin/env node
'use strict';
// Checks the shape of backend/src from its own #include lines:
//   - every include of a module in another layer points down the layer order
//     (docs/architecture.md, "Layers"): core < db < chat < {live, http, hooks} < api < main;
//     live, http and hooks are siblings and do not include each other;
//   - no import circle between modules (a module is a .c with its .h);
//   - no SQL (db_query/db_exec/db_read/db_transaction, or a borrowed connection) outside db/ and chat/.
// Prints what is wrong and exits 1; prints the module count and exits 0 when all holds.

const fs = require('node:fs');
const path = require('node:path');

const SRC = path.join(__dirname, '..', 'backend', 'src');
const RANK = { core: 0, db: 1, chat: 2, live: 3, http: 3, hooks: 3, api: 4, main: 5 };
const SQL_LAYERS = new Set(['db', 'chat']);

function modulesOf() {
  const mods = new Map(); // "layer/name" -> { layer, files: [] }
  const add = (layer, file) => {
    const key = layer === 'main' ? 'main' : `${layer}/${path.basename(file).replace(/\.[ch]$/, '')}`;
    if (!mods.has(key)) mods.set(key, { layer, files: [] });
    mods.get(key).files.push(file);
  };
  for (const layer of Object.keys(RANK)) {
    if (layer === 'main') continue;
    const dir = path.join(SRC, layer);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (/\.[ch]$/.test(f)) add(layer, path.join(dir, f));
    for (const f of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, f)).isDirectory() && f !== 'sql') throw new Error(`unexpected folder ${layer}/${f}`);
  }
  for (const f of fs.readdirSync(SRC)) if (/\.[ch]$/.test(f)) add('main', path.join(SRC, f));
  return mods;
}

const problems = [];
const mods = modulesOf();
const edges = new Map();
for (const [key, m] of mods) {
  const deps = new Set();
  for (const file of m.files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [, inc] of text.matchAll(/^#include "([^"]+)\.h"/gm)) {
      if (!inc.includes('/')) {
        problems.push(`${path.relative(SRC, file)}: #include "${inc}.h" does not name its layer`);
        continue;
      }
      if (inc === key) continue;
      if (!mods.has(inc)) {
        problems.push(`${path.relative(SRC, file)}: includes ${inc}.h, which is not a module`);
        continue;
      }
      deps.add(inc);
      const to = mods.get(inc).layer;
      if (to !== m.layer && !(RANK[to] < RANK[m.layer])) {
        problems.push(`${path.relative(SRC, file)}: ${m.layer} must not include ${inc}.h (${to} is not below ${m.layer})`);
      }
    }
    if (!SQL_LAYERS.has(m.layer) && /\bdb_(query|exec|exec_stmt|read|read_stmt|transaction|acquire)\s*\(/.test(text)) {
      problems.push(`${path.relative(SRC, file)}: runs SQL; SQL lives in db/ and chat/ (the modules that own the data)`);
    }
  }
  edges.set(key, deps);
}

// Circles: depth-first search, reporting each back edge's cycle once.
const state = new Map();
const stack = [];
const seen = new Set();
function visit(n) {
  state.set(n, 1);
  stack.push(n);
  for (const d of edges.get(n) || []) {
    if (state.get(d) === 1) {
      const cycle = stack.slice(stack.indexOf(d)).concat(d);
      const id = [...cycle].slice(0, -1).sort().join(' ');
      if (!seen.has(id)) {
        seen.add(id);
        problems.push(`import circle: ${cycle.join(' -> ')}`);
      }
    } else if (!state.get(d)) {
      visit(d);
    }
  }
  stack.pop();
  state.set(n, 2);
}
for (const n of edges.keys()) if (!state.get(n)) visit(n);

if (problems.length) {
  process.stderr.write(`check-layers: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`check-layers: ${mods.size} modules, arrows point down, no circles\n`);
