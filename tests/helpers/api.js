'use strict';
// Helpers for the REST API v1 tests: tokens, bearer requests, the OpenAPI
// document (docs/openapi.yaml) and a small JSON Schema checker for answers,
// the route table of backend/src/api/routes.c, streamed NDJSON, and the RSS of a
// process.
//
//   const tok = await addToken(pg, { scopes: ['conversations:read'] });   // { token, id, name }
//   const r = await api(srv, tok, 'GET', '/api/v1/conversations', { query: { limit: 1 } });
//   const spec = loadSpec();  checkSchema(spec, spec.components.schemas.Conversation, r.json.data[0])
//   const routes = v1Routes();  // [{ method, path }] from routes.c

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const YAML = require('yaml');

const { REPO_ROOT } = require('./common');
const { request } = require('./http');
const { runParleyd } = require('./parleyd');

const SPEC_PATH = path.join(REPO_ROOT, 'docs', 'openapi.yaml');
const ROUTES_PATH = path.join(REPO_ROOT, 'backend', 'src', 'api', 'routes.c');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let tokenCounter = 0;

/**
 * `parleyd token add`; resolves { token, id, name, scopes }. pg: a cluster
 * from startCluster (the id is looked up by the token's SHA-256).
 */
async function addToken(pg, { name, scopes, expiresDays } = {}) {
  tokenCounter += 1;
  const tokenName = name || `tok-${process.pid}-${tokenCounter}`;
  const args = ['token', 'add', '--name', tokenName];
  for (const s of scopes) args.push('--scope', s);
  if (expiresDays !== undefined) args.push('--expires-days', String(expiresDays));
  const r = await runParleyd(args, { databaseUrl: pg.url });
  if (r.code !== 0) throw new Error(`parleyd ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  const token = r.stdout.trim().split('\n').pop().trim();
  if (!/^prl_[A-Za-z0-9_-]{43}$/.test(token)) throw new Error(`token add printed ${JSON.stringify(r.stdout)}`);
  const hash = crypto.createHash('sha256').update(token).digest();
  const row = await pg.query('SELECT id FROM api_tokens WHERE token_hash = $1', [hash]);
  if (row.rows.length !== 1) throw new Error('the new token is not in api_tokens');
  return { token, id: Number(row.rows[0].id), name: tokenName, scopes };
}

/** '?a=1&b=x' from an object (values URL-encoded; undefined skipped). */
function qs(query) {
  if (!query) return '';
  const parts = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * A request with `Authorization: Bearer <token>`. tok: a token string, an
 * object from addToken, or null for no Authorization header.
 * opts: { query, json, body, headers }.
 */
function api(srv, tok, method, urlPath, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  const token = tok && typeof tok === 'object' ? tok.token : tok;
  if (token) headers.Authorization = `Bearer ${token}`;
  return request(srv, { method, path: `${urlPath}${qs(opts.query)}`, headers, json: opts.json, body: opts.body, timeoutMs: opts.timeoutMs });
}

// ---- the OpenAPI document -------------------------------------------------

function loadSpec() {
  return YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8'));
}

/** [{ method (upper case), path, op }] for every operation of the document. */
function specOperations(spec) {
  const out = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path: p, op: item[m], item });
  }
  return out;
}

/** Follow a local $ref ('#/components/...'). */
function deref(spec, node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 20; i++) {
    if (!n.$ref.startsWith('#/')) throw new Error(`external $ref ${n.$ref}`);
    n = n.$ref
      .slice(2)
      .split('/')
      .reduce((o, k) => (o === undefined ? undefined : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), spec);
    if (n === undefined) throw new Error(`dangling $ref ${node.$ref}`);
  }
  return n;
}

/** An operation's parameters (path-level and operation-level), dereferenced. */
function operationParams(spec, item, op) {
  return [...(item.parameters || []), ...(op.parameters || [])].map((p) => deref(spec, p));
}

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Check a value against a schema of the document (the subset it uses: $ref,
 * type, enum, required, properties, additionalProperties, items, oneOf,
 * minimum/maximum, minLength/maxLength, pattern, minItems). With
 * strict = true an object schema with `properties` is closed unless it says
 * additionalProperties: true, so undocumented members are reported.
 * Returns a list of error strings (empty when the value conforms).
 */
function checkSchema(spec, schema, value, { strict = true, at = '$' } = {}) {
  const errors = [];
  const walk = (sch, v, where) => {
    const s = deref(spec, sch);
    if (!s || s === true) return;
    if (s.oneOf) {
      const ok = s.oneOf.filter((alt) => {
        const e = [];
        const save = errors.length;
        walk(alt, v, where);
        e.push(...errors.splice(save));
        return e.length === 0;
      }).length;
      if (ok !== 1) errors.push(`${where}: matches ${ok} of the oneOf alternatives, expected 1`);
    }
    if (s.type !== undefined) {
      const types = [].concat(s.type);
      const t = typeOf(v);
      if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
        errors.push(`${where}: ${JSON.stringify(v)?.slice(0, 80)} is ${t}, expected ${types.join('|')}`);
        return;
      }
    }
    if (s.enum && !s.enum.some((e) => e === v)) errors.push(`${where}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) errors.push(`${where}: ${v} < minimum ${s.minimum}`);
      if (s.maximum !== undefined && v > s.maximum) errors.push(`${where}: ${v} > maximum ${s.maximum}`);
    }
    if (typeof v === 'string') {
      const n = [...v].length;
      if (s.minLength !== undefined && n < s.minLength) errors.push(`${where}: shorter than ${s.minLength}`);
      if (s.maxLength !== undefined && n > s.maxLength) errors.push(`${where}: longer than ${s.maxLength}`);
      if (s.pattern && !new RegExp(s.pattern, 'u').test(v)) errors.push(`${where}: ${JSON.stringify(v)} does not match ${s.pattern}`);
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems) errors.push(`${where}: fewer than ${s.minItems} items`);
      if (s.items) v.forEach((x, i) => walk(s.items, x, `${where}[${i}]`));
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const k of s.required || []) if (!(k in v)) errors.push(`${where}: required member "${k}" missing`);
      const props = s.properties || {};
      for (const [k, x] of Object.entries(v)) {
        if (props[k]) walk(props[k], x, `${where}.${k}`);
        else if (s.additionalProperties === false || (strict && s.properties && s.additionalProperties !== true && !s.additionalProperties)) {
          errors.push(`${where}: member "${k}" is not documented`);
        } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          walk(s.additionalProperties, x, `${where}.${k}`);
        }
      }
    }
  };
  walk(schema, value, at);
  return errors;
}

/**
 * The schema the document gives for an operation's answer with this status
 * and media type (parameters stripped), or undefined.
 */
function responseSchema(spec, method, urlPattern, status, mediaType) {
  const op = spec.paths[urlPattern] && spec.paths[urlPattern][method.toLowerCase()];
  if (!op) return undefined;
  const resp = op.responses[String(status)] && deref(spec, op.responses[String(status)]);
  if (!resp || !resp.content) return undefined;
  const media = resp.content[mediaType];
  return media ? media.schema : undefined;
}

// ---- the server's route table ---------------------------------------------

/** [{ method, path }] of every "/api/v1/" route in backend/src/api/routes.c. */
function v1Routes() {
  return allRoutes().filter((r) => r.path.startsWith('/api/v1/'));
}

/** [{ method, path }] of every route in routes.c. */
function allRoutes() {
  const text = fs.readFileSync(ROUTES_PATH, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = [];
  const re = /\{\s*"([A-Z]+)"\s*,\s*"(\/[^"]*)"\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\}/g;
  let m;
  while ((m = re.exec(text))) out.push({ method: m[1], path: m[2] });
  return out;
}

// ---- streaming --------------------------------------------------------------

/**
 * GET a (large) body without keeping it: calls onLine(line) for every
 * '\n'-terminated line and onTick() on every chunk.
 * Resolves { status, headers, bytes, lines, trailing (bytes after the last
 * newline), body (only when the status is not 200) }.
 */
function streamLines(srv, tok, urlPath, { query, onLine = () => {}, onTick = () => {}, timeoutMs = 120000 } = {}) {
  const token = tok && typeof tok === 'object' ? tok.token : tok;
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: srv.host || '127.0.0.1',
        port: srv.port,
        path: `${urlPath}${qs(query)}`,
        agent: false,
        timeout: timeoutMs,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let bytes = 0;
        let lines = 0;
        let rest = '';
        const errBody = [];
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          bytes += Buffer.byteLength(chunk);
          if (res.statusCode !== 200) {
            errBody.push(chunk);
            return;
          }
          const parts = (rest + chunk).split('\n');
          rest = parts.pop();
          for (const line of parts) {
            lines += 1;
            onLine(line);
          }
          onTick();
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, lines, trailing: rest, body: errBody.join('') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The resident set size of a process in KiB (VmRSS of /proc/<pid>/status). */
function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** HTML-escape as the transcript does (<, >, &, ", '). */
function escapeHtml(s) {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]);
}

module.exports = {
  SPEC_PATH,
  ROUTES_PATH,
  addToken,
  api,
  qs,
  loadSpec,
  specOperations,
  operationParams,
  deref,
  checkSchema,
  responseSchema,
  v1Routes,
  streamLines,
  rssKiB,
  allRoutes,
  escapeHtml,
};
