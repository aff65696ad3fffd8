#!/usr/bin/env node
'use strict';
// docs/openapi.yaml (the source, kept by hand) -> build/static/api/v1/openapi.json,
// which parleyd serves at GET /api/v1/openapi.json as a static file.
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'docs', 'openapi.yaml');
const out = path.join(root, 'build', 'static', 'api', 'v1', 'openapi.json');

if (!fs.existsSync(src)) {
  console.log('no docs/openapi.yaml yet');
  process.exit(0);
}
const doc = YAML.parse(fs.readFileSync(src, 'utf8'));
if (!doc || typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.1')) {
  console.error('docs/openapi.yaml: expected an OpenAPI 3.1 document');
  process.exit(1);
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
console.log(`wrote ${path.relative(root, out)}`);
