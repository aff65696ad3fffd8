// automation: what Admin → Automation needs besides components. The rule
// language of backend/src/chat/rules.[ch] as the editor offers it (triggers,
// condition fields with their operators and values, actions with their
// parameters, every bound), a rule turned into the editor's draft and back,
// the editor's own checks (reported under the same paths the server uses:
// "conditions[2].value", "actions[0].team_id"), the server's refusals in
// translated words, and a rule summed up in one line.

import { isolate } from '../../../ui-shared/bidi.js';
import { ApiError } from './api.js';
import { t } from './i18n.js';
import { problemText } from './webhooks.js';

// Bounds, as rules.h and chat/automation.h have them.
export const MAX_CONDITIONS = 20;
export const MAX_ACTIONS = 10;
export const MAX_VALUE_BYTES = 500;
export const MAX_IN_VALUES = 50;
export const MAX_KEY = 64;
export const MAX_BODY_CHARS = 2000;
export const MAX_RULES = 100;
export const NAME_MAX = 100;
export const POSITION_MAX = 10000;

export const TRIGGERS = ['conversation.created', 'message.created'];

const TEXT_OPS = ['contains', 'not_contains', 'equals', 'not_equals', 'starts_with', 'ends_with', 'in', 'is_set', 'is_not_set'];

/**
 * Condition fields in the order the editor lists them. kind: how its value
 * is entered (text, label, hours); keyed: "prechat.<key>"; onlyMessage: the
 * field exists on message.created only.
 */
export const FIELDS = [
  { id: 'page_url', kind: 'text', ops: TEXT_OPS, placeholder: '/pricing' },
  { id: 'referrer', kind: 'text', ops: TEXT_OPS, placeholder: 'google.' },
  { id: 'language', kind: 'text', ops: TEXT_OPS, placeholder: 'zh' },
  { id: 'country', kind: 'text', ops: TEXT_OPS, placeholder: 'DE' },
  { id: 'message', kind: 'text', ops: TEXT_OPS, onlyMessage: true, placeholder: 'refund' },
  { id: 'prechat', kind: 'text', ops: TEXT_OPS, keyed: true, placeholder: 'enterprise' },
  { id: 'attribute', kind: 'text', ops: TEXT_OPS, keyed: true, placeholder: 'gold' },
  { id: 'label', kind: 'label', ops: ['includes', 'excludes'] },
  { id: 'business_hours', kind: 'hours', ops: ['equals'] },
];

const fieldDef = (id) => FIELDS.find((f) => f.id === id) || FIELDS[0];

/** Actions, in the order the editor lists them; param: their one parameter. */
export const ACTIONS = [
  { type: 'assign_team', param: 'team_id' },
  { type: 'assign_agent', param: 'agent_id' },
  { type: 'set_priority', param: 'priority' },
  { type: 'add_label', param: 'label_id' },
  { type: 'send_message', param: 'body' },
  { type: 'add_note', param: 'body' },
  { type: 'close', param: null, last: true },
];

export const actionDef = (type) => ACTIONS.find((a) => a.type === type) || ACTIONS[0];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

/** Operators that take no value, and the one that takes a list. */
export const opTakesValue = (op) => op !== 'is_set' && op !== 'is_not_set';

// Translation keys: field, operator, action, trigger, priority.
const cap = (s) =>
  String(s)
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
export const fieldLabel = (id) => t(`auField${cap(id)}`);
export const opLabel = (op, field) => (field === 'business_hours' ? t('auOpIs') : t(`auOp${cap(op)}`));
export const actionLabel = (type) => t(`auAct${cap(type)}`);
export const triggerLabel = (trigger) => (TRIGGERS.includes(trigger) ? t(`auTrig${cap(trigger)}`) : String(trigger));
export const priorityLabel = (p) => (PRIORITIES.includes(p) ? t(`auPrio${cap(p)}`) : String(p));
export const hoursLabel = (v) => (v === 'closed' ? t('auHoursClosed') : t('auHoursOpen'));

// -------------------------------------------------------------------- drafts

let seq = 0;
/** A stable key for a row of the editor (rows move and go away). */
const rowKey = () => `r${++seq}`;

/** A new condition row for a field: the field's first operator and an empty value. */
export function newCondition(field = 'page_url') {
  const f = fieldDef(field);
  return { key: rowKey(), field: f.id, name: '', op: f.ops[0], value: f.kind === 'hours' ? 'open' : '', list: '' };
}

/** A new action row. */
export function newAction(type = 'set_priority') {
  return { key: rowKey(), type, value: type === 'set_priority' ? 'high' : '' };
}

/** The editor's draft of a stored rule (or of a new one: rule absent). */
export function toDraft(r) {
  const rule = (r && r.rule) || {};
  const conditions = (rule.conditions || []).map((c) => {
    const name = String(c.field || '');
    const keyed = /^(prechat|attribute)\./.exec(name);
    const field = keyed ? keyed[1] : name;
    const row = { ...newCondition(fieldDef(field).id), field, name: keyed ? name.slice(keyed[0].length) : '', op: c.op };
    if (Array.isArray(c.value)) row.list = c.value.join('\n');
    else if (c.value !== undefined && c.value !== null) row.value = String(c.value);
    return row;
  });
  const actions = (rule.actions || []).map((a) => {
    const def = actionDef(a.type);
    return { key: rowKey(), type: a.type, value: def.param && a[def.param] !== undefined ? String(a[def.param]) : '' };
  });
  return {
    name: (r && r.name) || '',
    enabled: r ? !!r.enabled : true,
    trigger: rule.trigger || 'conversation.created',
    match: rule.match === 'any' ? 'any' : 'all',
    conditions,
    actions: actions.length ? actions : [newAction()],
  };
}

/** The lines of an "in" list: trimmed, the empty ones dropped. */
export const listValues = (text) =>
  String(text || '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** The rule a draft says, as the server takes it. */
export function fromDraft(d) {
  const conditions = d.conditions.map((c) => {
    const f = fieldDef(c.field);
    const out = { field: f.keyed ? `${f.id}.${c.name.trim()}` : f.id, op: c.op };
    if (c.op === 'in') out.value = listValues(c.list);
    else if (f.kind === 'label') out.value = Number(c.value) || 0;
    else if (opTakesValue(c.op)) out.value = f.kind === 'hours' ? c.value : c.value.trim();
    return out;
  });
  const actions = d.actions.map((a) => {
    const def = actionDef(a.type);
    const out = { type: a.type };
    if (def.param === 'body') out.body = a.value.trim();
    else if (def.param === 'priority') out.priority = a.value;
    else if (def.param) out[def.param] = Number(a.value) || 0;
    return out;
  });
  return { trigger: d.trigger, match: d.match, conditions, actions };
}

const bytes = (s) => new TextEncoder().encode(s).length;
const chars = (s) => [...s].length;
// Control characters the server refuses in values (tab and line breaks in bodies are fine).
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * The editor's own checks, before asking the server: {path: message}, with
 * the server's paths ("conditions[1].value", "actions[2].type", "name").
 */
export function checkDraft(d) {
  const errors = {};
  if (!d.name.trim()) errors.name = t('auNameMissing');
  d.conditions.forEach((c, i) => {
    const at = `conditions[${i}]`;
    const f = fieldDef(c.field);
    if (f.onlyMessage && d.trigger !== 'message.created') errors[`${at}.field`] = t('auErrOnlyMessage');
    if (f.keyed) {
      const k = c.name.trim();
      if (!k) errors[`${at}.field`] = t('auKeyMissing');
      else if (k.length > MAX_KEY || !/^[A-Za-z0-9_.-]+$/.test(k)) errors[`${at}.field`] = t('auErrKey');
    }
    if (!opTakesValue(c.op)) return;
    if (c.op === 'in') {
      const items = listValues(c.list);
      if (!items.length) errors[`${at}.value`] = t('auListMissing');
      else if (items.length > MAX_IN_VALUES) errors[`${at}.value`] = t('auListTooMany', { max: MAX_IN_VALUES });
      else if (items.some((s) => bytes(s) > MAX_VALUE_BYTES)) errors[`${at}.value`] = t('auValueTooLong', { max: MAX_VALUE_BYTES });
      else if (items.some((s) => CONTROLS.test(s))) errors[`${at}.value`] = t('auErrControls');
      return;
    }
    if (f.kind === 'label') {
      if (!c.value) errors[`${at}.value`] = t('auLabelMissing');
      return;
    }
    if (f.kind === 'hours') return;
    const v = c.value.trim();
    if (!v) errors[`${at}.value`] = t('auValueMissing');
    else if (bytes(v) > MAX_VALUE_BYTES) errors[`${at}.value`] = t('auValueTooLong', { max: MAX_VALUE_BYTES });
    else if (CONTROLS.test(v)) errors[`${at}.value`] = t('auErrControls');
  });
  if (!d.actions.length) errors.actions = t('auActionsMissing');
  d.actions.forEach((a, i) => {
    const at = `actions[${i}]`;
    const def = actionDef(a.type);
    if (def.last && i !== d.actions.length - 1) errors[`${at}.type`] = t('auErrCloseLast');
    if (!def.param) return;
    const v = def.param === 'body' ? a.value.trim() : a.value;
    if (!v) errors[`${at}.${def.param}`] = t(`auMissing${cap(def.param)}`);
    else if (def.param === 'body' && chars(v) > MAX_BODY_CHARS) errors[`${at}.body`] = t('auBodyTooLong', { max: MAX_BODY_CHARS });
  });
  return errors;
}

// ------------------------------------------------------------------ refusals

// The server's reasons (chat/rules.c, core/jfield.c, api_automation.c) in words.
const REASONS = [
  [/^is required/, 'auErrRequired'],
  [/^must not be empty/, 'auErrRequired'],
  [/too many items \(at most (\d+)\)/, 'auErrTooMany'],
  [/^is too long/, 'auErrTooLong'],
  [/UTF-8/, 'auErrUtf8'],
  [/control characters/, 'auErrControls'],
  [/bidi/, 'auErrBidi'],
  [/is not allowed for this field/, 'auErrOp'],
  [/is not a known/, 'auErrUnknown'],
  [/invalid key/, 'auErrKey'],
  [/only for message\.created/, 'auErrOnlyMessage'],
  [/only allowed as the last action/, 'auErrCloseLast'],
  [/names nothing that exists/, 'auErrGone'],
  [/value that is not allowed/, 'auErrUnknown'],
  [/visible character/, 'auErrRequired'],
];

function reason(message) {
  for (const [re, key] of REASONS) {
    const m = re.exec(message);
    if (m) return t(key, { max: m[1] || '' });
  }
  return t('auErrField', { detail: message });
}

/**
 * The server's per-field messages at the editor's paths: "rule.conditions[2].op"
 * becomes "conditions[2].op", an item of an "in" list ("...value[3]") its
 * row's value. An id that names nothing says which kind of thing is gone.
 */
export function ruleFieldErrors(e) {
  const out = {};
  for (const [field, message] of Object.entries((e && e.fields) || {})) {
    const path = field.replace(/^rule\.?/, '').replace(/(\.value)\[\d+\]$/, '$1') || 'rule';
    let text = reason(message);
    const gone = /names nothing/.test(message) && /\.(team_id|agent_id|label_id|value)$/.exec(path);
    if (gone) text = t({ team_id: 'auGoneTeam', agent_id: 'auGoneAgent', label_id: 'auGoneLabel', value: 'auGoneLabel' }[gone[1]]);
    out[path] = text;
  }
  return out;
}

/** A refusal no field carries, in words. */
export function ruleProblemText(e) {
  if (e instanceof ApiError) {
    if (e.status === 404) return t('auErrNotFound');
    if (e.status === 403 && e.slug !== 'csrf_failed') return t('auErrForbidden');
    if (e.status === 409 && e.slug === 'limit_reached') return t('auErrLimit', { max: MAX_RULES });
  }
  return problemText(e);
}

/** For useForm: the fields' messages, and the page's sentence when no field says it. */
export function explainRuleProblem(e) {
  const fields = ruleFieldErrors(e);
  return { fields, error: Object.keys(fields).length ? null : ruleProblemText(e) };
}

/** Which row of the editor a path names: {section, index, param} or null. */
export function pathRow(path) {
  const m = /^(conditions|actions)\[(\d+)\](?:\.(\w+))?/.exec(path);
  return m ? { section: m[1], index: Number(m[2]), param: m[3] || '' } : null;
}

// ------------------------------------------------------------------ summary

const quote = (s) => t('auQuote', { s: isolate(String(s)) });
/** s cut to n characters, at a space when one is near the end, with "…". */
function cut(s, n = 40) {
  const all = [...s];
  if (all.length <= n) return s;
  const head = all.slice(0, n - 1).join('');
  const space = head.lastIndexOf(' ');
  return `${(space > n * 0.6 ? head.slice(0, space) : head).trimEnd()}…`;
}

/** A condition in words: "Page URL contains “/pricing”". */
export function conditionText(c, names = {}) {
  const name = String(c.field || '');
  const keyed = /^(prechat|attribute)\.(.*)$/.exec(name);
  const field = keyed ? t(keyed[1] === 'prechat' ? 'auFieldPrechatKey' : 'auFieldAttributeKey', { key: isolate(keyed[2]) }) : fieldLabel(name);
  if (name === 'business_hours') return hoursLabel(c.value);
  if (name === 'label') {
    const label = (names.labels && names.labels.get(Number(c.value))) || `#${c.value}`;
    return `${field} ${opLabel(c.op)} ${quote(label)}`;
  }
  if (!opTakesValue(c.op)) return `${field} ${opLabel(c.op)}`;
  const value = Array.isArray(c.value) ? c.value.map((v) => quote(cut(v, 20))).join(t('auListSep')) : quote(cut(String(c.value)));
  return `${field} ${opLabel(c.op)} ${value}`;
}

/** An action in words: "Set priority: High", "Assign to team Sales", "Send message “Hi…”". */
export function actionText(a, names = {}) {
  const named = (map, id) => isolate((map && map.get(Number(id))) || `#${id}`);
  switch (a.type) {
    case 'assign_team':
      return t('auSumTeam', { name: named(names.teams, a.team_id) });
    case 'assign_agent':
      return t('auSumAgent', { name: named(names.agents, a.agent_id) });
    case 'set_priority':
      return t('auSumPriority', { p: priorityLabel(a.priority) });
    case 'add_label':
      return t('auSumLabel', { name: named(names.labels, a.label_id) });
    case 'send_message':
      return t('auSumMessage', { s: quote(cut(String(a.body || ''))) });
    case 'add_note':
      return t('auSumNote', { s: quote(cut(String(a.body || ''))) });
    case 'close':
      return t('auActClose');
    default:
      return String(a.type);
  }
}

/** The conditions of a rule in one line ("Always" for none). */
export function conditionsSummary(rule, names) {
  const conds = (rule && rule.conditions) || [];
  if (!conds.length) return t('auAlways');
  return conds.map((c) => conditionText(c, names)).join(rule.match === 'any' ? t('auOr') : t('auAnd'));
}

/** The actions of a rule in one line. */
export function actionsSummary(rule, names) {
  return ((rule && rule.actions) || []).map((a) => actionText(a, names)).join(t('auListSep'));
}
