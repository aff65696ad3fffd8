// The automation rule editor (Admin → Automation, a new rule or
// #/admin/automation/3): name, trigger, conditions (all or any; each a
// field, an operator and a value whose input fits the field), actions in
// order (each with its parameter from the workspace's teams, agents and
// labels), enabled. The bounds of rules.h are kept (no "add" past the
// maximum); the editor's own checks and the server's refusals land on the
// row they name. Every word is translated; everything is rendered as text.

import { useRef } from 'preact/hooks';
import { confirmDialog } from '../../store/index.js';
import { patch, post } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import {
  ACTIONS,
  FIELDS,
  MAX_ACTIONS,
  MAX_BODY_CHARS,
  MAX_CONDITIONS,
  MAX_IN_VALUES,
  MAX_KEY,
  MAX_VALUE_BYTES,
  NAME_MAX,
  PRIORITIES,
  TRIGGERS,
  actionDef,
  actionLabel,
  checkDraft,
  explainRuleProblem,
  fieldLabel,
  fromDraft,
  hoursLabel,
  newAction,
  newCondition,
  opLabel,
  opTakesValue,
  pathRow,
  priorityLabel,
  toDraft,
  triggerLabel,
} from '../../lib/automation.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Field } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { useForm, useScrollToFirstError } from './Admin.jsx';

/** Languages a visitor's browser commonly reports, offered for the language field. */
const LANGUAGES = ['en', 'zh', 'zh-CN', 'zh-TW', 'es', 'fr', 'de', 'ja', 'ko', 'pt', 'ru', 'ar', 'it', 'nl', 'tr', 'vi'];

const fieldDef = (id) => FIELDS.find((f) => f.id === id) || FIELDS[0];

/** The messages of errors whose path starts with prefix, and whether a part has one. */
function rowErrors(errors, prefix) {
  const list = Object.entries(errors).filter(([k]) => k === prefix || k.startsWith(`${prefix}.`));
  const has = (param) => list.some(([k]) => k === `${prefix}.${param}`);
  return { messages: [...new Set(list.map(([, m]) => m))], has, any: list.length > 0 };
}

function RowErrors({ messages, testid }) {
  if (!messages.length) return null;
  return (
    <div class="au-row-errors" role="alert" data-testid={testid}>
      {messages.map((m) => (
        <div class="field-error" key={m}>
          {m}
        </div>
      ))}
    </div>
  );
}

function RowButtons({ i, n, onMove, onRemove, removeLabel }) {
  return (
    <div class="au-row-buttons">
      {onMove ? (
        <>
          <button
            type="button"
            class="icon-btn"
            disabled={i === 0}
            onClick={() => onMove(i, -1)}
            aria-label={t('auMoveUp')}
            title={t('auMoveUp')}
            data-testid="au-up"
          >
            <Icon name="chevronUp" size={16} />
          </button>
          <button
            type="button"
            class="icon-btn"
            disabled={i === n - 1}
            onClick={() => onMove(i, 1)}
            aria-label={t('auMoveDown')}
            title={t('auMoveDown')}
            data-testid="au-down"
          >
            <Icon name="chevronDown" size={16} />
          </button>
        </>
      ) : null}
      <button type="button" class="icon-btn au-remove" onClick={() => onRemove(i)} aria-label={removeLabel} title={removeLabel} data-testid="au-remove">
        <Icon name="trash" size={16} />
      </button>
    </div>
  );
}

/** The value input of a condition: what fits its field and operator. */
function ConditionValue({ c, i, invalid, labels, onChange }) {
  const f = fieldDef(c.field);
  const id = `au-cond-value-${i}`;
  const common = {
    id,
    class: invalid ? 'invalid' : '',
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-label': t('auValue'),
    'data-testid': 'au-cond-value',
  };
  if (!opTakesValue(c.op)) return null;
  if (f.kind === 'hours') {
    return (
      <select {...common} value={c.value} onChange={(e) => onChange({ value: e.currentTarget.value })}>
        <option value="open">{hoursLabel('open')}</option>
        <option value="closed">{hoursLabel('closed')}</option>
      </select>
    );
  }
  if (f.kind === 'label') {
    const known = labels.some((l) => String(l.id) === c.value);
    return (
      <select {...common} value={c.value} onChange={(e) => onChange({ value: e.currentTarget.value })}>
        <option value="">{labels.length ? t('auChooseLabel') : t('auNoLabels')}</option>
        {labels.map((l) => (
          <option key={l.id} value={String(l.id)}>
            {l.name}
          </option>
        ))}
        {c.value && !known ? <option value={c.value}>{`#${c.value}`}</option> : null}
      </select>
    );
  }
  if (c.op === 'in') {
    return (
      <textarea
        {...common}
        rows={3}
        dir="auto"
        spellcheck={false}
        placeholder={f.placeholder ? `${f.placeholder}\n…` : ''}
        value={c.list}
        onInput={(e) => onChange({ list: e.currentTarget.value })}
      />
    );
  }
  return (
    <input
      {...common}
      type="text"
      dir="auto"
      autocomplete="off"
      spellcheck={false}
      maxLength={MAX_VALUE_BYTES}
      placeholder={f.placeholder || ''}
      list={c.field === 'language' ? 'au-languages' : undefined}
      value={c.value}
      onInput={(e) => onChange({ value: e.currentTarget.value })}
    />
  );
}

function ConditionRow({ c, i, trigger, errors, labels, onChange, onRemove }) {
  const f = fieldDef(c.field);
  const e = rowErrors(errors, `conditions[${i}]`);
  const setField = (field) => {
    const next = newCondition(field);
    const sameKind = fieldDef(field).kind === f.kind;
    onChange(i, {
      field,
      op: fieldDef(field).ops.includes(c.op) ? c.op : next.op,
      value: sameKind ? c.value : next.value,
      list: sameKind ? c.list : '',
    });
  };
  const hint = f.kind === 'hours' ? t('auHoursHint') : c.op === 'in' ? t('auListHint', { max: MAX_IN_VALUES }) : null;
  return (
    <li class={`au-row au-cond ${e.any ? 'has-error' : ''}`} data-testid="au-cond" data-index={i}>
      <span class="au-row-n" aria-hidden="true">
        {i + 1}
      </span>
      <div class="au-row-main">
        <div class={`au-cond-grid ${f.keyed ? 'keyed' : ''} ${f.kind}`}>
          <select
            aria-label={t('auField')}
            class={e.has('field') ? 'invalid' : ''}
            value={c.field}
            onChange={(ev) => setField(ev.currentTarget.value)}
            data-testid="au-cond-field"
          >
            {FIELDS.map((x) => (
              <option key={x.id} value={x.id} disabled={x.onlyMessage && trigger !== 'message.created' && c.field !== x.id}>
                {x.onlyMessage && trigger !== 'message.created' ? t('auFieldMessageOnly') : fieldLabel(x.id)}
              </option>
            ))}
          </select>
          {f.keyed ? (
            <input
              type="text"
              class={`mono ${e.has('field') ? 'invalid' : ''}`}
              dir="ltr"
              autocomplete="off"
              spellcheck={false}
              maxLength={MAX_KEY}
              aria-label={f.id === 'prechat' ? t('auKeyPrechat') : t('auKeyAttribute')}
              title={f.id === 'prechat' ? t('auKeyPrechat') : t('auKeyAttribute')}
              placeholder={t('auKeyPlaceholder')}
              list={f.id === 'prechat' ? 'au-prechat-keys' : undefined}
              value={c.name}
              onInput={(ev) => onChange(i, { name: ev.currentTarget.value })}
              data-testid="au-cond-key"
            />
          ) : null}
          {f.ops.length > 1 ? (
            <select
              aria-label={t('auOperator')}
              class={e.has('op') ? 'invalid' : ''}
              value={c.op}
              onChange={(ev) => onChange(i, { op: ev.currentTarget.value })}
              data-testid="au-cond-op"
            >
              {f.ops.map((op) => (
                <option key={op} value={op}>
                  {opLabel(op, f.id)}
                </option>
              ))}
            </select>
          ) : null}
          <ConditionValue c={c} i={i} invalid={e.has('value')} labels={labels} onChange={(x) => onChange(i, x)} />
        </div>
        {!e.any && hint ? <div class="field-hint">{hint}</div> : null}
        <RowErrors messages={e.messages} testid="au-cond-error" />
        {!e.any && f.onlyMessage && trigger !== 'message.created' ? (
          <div class="field-error" data-testid="au-cond-warning">
            {t('auErrOnlyMessage')}
          </div>
        ) : null}
      </div>
      <RowButtons i={i} onRemove={onRemove} removeLabel={t('auRemoveCondition', { n: i + 1 })} />
    </li>
  );
}

function ActionParam({ a, i, invalid, teams, agents, labels, onChange }) {
  const def = actionDef(a.type);
  const common = {
    class: invalid ? 'invalid' : '',
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-label': actionLabel(a.type),
    'data-testid': 'au-act-value',
  };
  const select = (items, empty, nameOf = (x) => x.name) => {
    const known = items.some((x) => String(x.id) === a.value);
    return (
      <select {...common} value={a.value} onChange={(e) => onChange(i, { value: e.currentTarget.value })}>
        <option value="">{empty}</option>
        {items.map((x) => (
          <option key={x.id} value={String(x.id)}>
            {nameOf(x)}
          </option>
        ))}
        {a.value && !known ? <option value={a.value}>{`#${a.value}`}</option> : null}
      </select>
    );
  };
  switch (def.param) {
    case 'team_id':
      return select(teams, t('auChooseTeam'));
    case 'agent_id':
      return select(
        agents.filter((x) => x.active !== false),
        t('auChooseAgent'),
        (x) => `${x.name} (${x.email})`,
      );
    case 'label_id':
      return select(labels, labels.length ? t('auChooseLabel') : t('auNoLabels'));
    case 'priority':
      return (
        <select {...common} value={a.value} onChange={(e) => onChange(i, { value: e.currentTarget.value })}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {priorityLabel(p)}
            </option>
          ))}
        </select>
      );
    case 'body':
      return (
        <textarea
          {...common}
          rows={3}
          dir="auto"
          maxLength={MAX_BODY_CHARS * 2}
          placeholder={a.type === 'add_note' ? t('auNotePlaceholder') : t('auMessagePlaceholder')}
          value={a.value}
          onInput={(e) => onChange(i, { value: e.currentTarget.value })}
        />
      );
    default:
      return null;
  }
}

function ActionRow({ a, i, n, errors, teams, agents, labels, onChange, onMove, onRemove }) {
  const def = actionDef(a.type);
  const e = rowErrors(errors, `actions[${i}]`);
  const count = def.param === 'body' ? [...a.value.trim()].length : 0;
  const hint =
    a.type === 'send_message'
      ? t('auMessageHint')
      : a.type === 'add_note'
        ? t('auNoteHint')
        : a.type === 'assign_agent'
          ? t('auAgentHint')
          : a.type === 'close'
            ? t('auCloseHint')
            : null;
  return (
    <li class={`au-row au-act ${def.param === 'body' ? 'au-act-body' : ''} ${e.any ? 'has-error' : ''}`} data-testid="au-act" data-index={i} data-type={a.type}>
      <span class="au-row-n" aria-hidden="true">
        {i + 1}
      </span>
      <div class="au-row-main">
        <div class="au-act-grid">
          <select
            aria-label={t('auActionType')}
            class={e.has('type') ? 'invalid' : ''}
            value={a.type}
            onChange={(ev) => {
              const type = ev.currentTarget.value;
              onChange(i, { type, value: newAction(type).value });
            }}
            data-testid="au-act-type"
          >
            {ACTIONS.map((x) => (
              <option key={x.type} value={x.type}>
                {actionLabel(x.type)}
              </option>
            ))}
          </select>
          <ActionParam a={a} i={i} invalid={e.any && !e.has('type')} teams={teams} agents={agents} labels={labels} onChange={onChange} />
        </div>
        {!e.any && (hint || def.param === 'body') ? (
          <div class="field-hint au-hint-row">
            <span>{hint}</span>
            {def.param === 'body' ? <span class={count > MAX_BODY_CHARS ? 'au-over' : ''}>{t('auBodyCount', { n: count, max: MAX_BODY_CHARS })}</span> : null}
          </div>
        ) : null}
        <RowErrors messages={e.messages} testid="au-act-error" />
      </div>
      <RowButtons i={i} n={n} onMove={onMove} onRemove={onRemove} removeLabel={t('auRemoveAction', { n: i + 1 })} />
    </li>
  );
}

/** Paths the editor shows at a row or a field; the others go to the notice above the form. */
const shown = (path) => ['name', 'enabled', 'trigger', 'match', 'conditions', 'actions'].includes(path) || !!pathRow(path);

/**
 * Create (rule absent; from: a rule to copy) or edit a rule. position: where
 * a new rule goes. onSaved(rule, created).
 */
export function RuleEditor({ rule, from, position, teams, agents, labels, prechatKeys, onCancel, onSaved }) {
  const create = !rule;
  const f = useForm(() => toDraft(rule || from), { explain: explainRuleProblem });
  const v = f.values;
  const form = useRef(null);
  // What the form held when it opened: leaving with changes asks first.
  const snapshot = (d) => JSON.stringify({ name: d.name.trim(), enabled: d.enabled, rule: fromDraft(d) });
  const initial = useRef(null);
  if (initial.current === null) initial.current = snapshot(v);
  const leave = async () => {
    if (snapshot(v) !== initial.current) {
      const ok = await confirmDialog({
        title: t('auDiscardTitle'),
        body: t('auDiscardBody'),
        confirm: t('auDiscard'),
        cancel: t('auKeepEditing'),
        close: t('closeDialog'),
        lang: lang(),
        danger: true,
      });
      if (!ok) return;
    }
    onCancel();
  };
  const set = (k, x) => f.setValues((old) => ({ ...old, [k]: x }));
  const setRow = (k) => (i, change) => f.setValues((old) => ({ ...old, [k]: old[k].map((r, j) => (j === i ? { ...r, ...change } : r)) }));
  const removeRow = (k) => (i) => f.setValues((old) => ({ ...old, [k]: old[k].filter((_, j) => j !== i) }));
  const moveAction = (i, by) =>
    f.setValues((old) => {
      const list = [...old.actions];
      const [x] = list.splice(i, 1);
      list.splice(i + by, 0, x);
      return { ...old, actions: list };
    });

  // After a refusal, the first row or field it names comes into view.
  useScrollToFirstError(form, f.errors);

  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const errors = checkDraft(v);
      if (Object.keys(errors).length) {
        f.setErrors(errors);
        return;
      }
      const body = { name: v.name.trim(), enabled: v.enabled, rule: fromDraft(v) };
      if (create) {
        const res = await post('/api/automation-rules', { ...body, position });
        onSaved(res.rule, true);
      } else {
        const res = await patch(`/api/automation-rules/${rule.id}`, body);
        onSaved(res.rule, false);
      }
    });
  };

  const stray = Object.entries(f.errors).filter(([k]) => !shown(k));
  const anyErrors = Object.keys(f.errors).length > 0;
  const onlyConditionsMessage = v.trigger !== 'message.created';
  return (
    <form class="au-editor" ref={form} onSubmit={submit} novalidate data-testid="au-form" lang={lang()}>
      <div class="au-editor-head">
        <button type="button" class="btn small au-back" onClick={leave} data-testid="au-back">
          <Icon name="chevronLeft" size={16} /> {t('auBack')}
        </button>
        <h2>{create ? t('auNewTitle') : t('auEditTitle', { name: isolate(rule.name) })}</h2>
      </div>
      {f.error || stray.length || anyErrors ? (
        <div class="notice notice-error" role="alert" data-testid="au-form-error">
          {f.error || (stray.length ? stray.map(([k, m]) => `${k}: ${m}`).join(' ') : t('auFixBelow'))}
        </div>
      ) : null}

      <section class="card au-section">
        <div class="au-basics">
          <Field label={t('auName')} id="au-name" error={f.errors.name} hint={t('auNameHint')}>
            <input
              id="au-name"
              maxLength={NAME_MAX}
              autocomplete="off"
              dir="auto"
              value={v.name}
              onInput={(e) => set('name', e.currentTarget.value)}
              data-testid="au-name"
            />
          </Field>
          <label class="check au-enabled">
            <input type="checkbox" role="switch" checked={v.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} data-testid="au-enabled" />
            <span>
              <strong>{t('auEnabled')}</strong>
              <span class="muted small">
                {' — '}
                {v.enabled ? t('auEnabledHint') : t('auDisabledHint')}
              </span>
            </span>
          </label>
        </div>
      </section>

      <section class="card au-section" data-testid="au-trigger">
        <h3 class="au-h3">{t('auTrigger')}</h3>
        <div class="au-triggers" role="radiogroup" aria-label={t('auTrigger')}>
          {TRIGGERS.map((tr) => (
            <label class={`au-trigger ${v.trigger === tr ? 'on' : ''}`} key={tr}>
              <input
                type="radio"
                name="au-trigger"
                value={tr}
                checked={v.trigger === tr}
                onChange={() => set('trigger', tr)}
                data-testid={`au-trigger-${tr}`}
              />
              <span>
                <strong>{triggerLabel(tr)}</strong>
                <span class="muted small">{t(tr === 'message.created' ? 'auTrigMessageCreatedHint' : 'auTrigConversationCreatedHint')}</span>
              </span>
            </label>
          ))}
        </div>
        {f.errors.trigger ? <div class="field-error">{f.errors.trigger}</div> : null}
      </section>

      <section class={`card au-section ${f.errors.conditions ? 'has-error' : ''}`} data-testid="au-conditions">
        <div class="au-section-head">
          <div>
            <h3 class="au-h3">
              {t('auConditions')}{' '}
              <span class="muted small">
                ({v.conditions.length}/{MAX_CONDITIONS})
              </span>
            </h3>
            <span class="muted small">{t('auTextHint')}</span>
          </div>
          {v.conditions.length > 1 ? (
            <label class="au-match">
              <span class="muted small">{t('auMatchLabel')}</span>
              <select value={v.match} onChange={(e) => set('match', e.currentTarget.value)} data-testid="au-match">
                <option value="all">{t('auMatchAll')}</option>
                <option value="any">{t('auMatchAny')}</option>
              </select>
            </label>
          ) : null}
        </div>
        {v.conditions.length ? (
          <ol class="au-rows">
            {v.conditions.map((c, i) => (
              <ConditionRow
                key={c.key}
                c={c}
                i={i}
                trigger={v.trigger}
                errors={f.errors}
                labels={labels}
                onChange={setRow('conditions')}
                onRemove={removeRow('conditions')}
              />
            ))}
          </ol>
        ) : (
          <p class="muted small au-none">{t('auNoConditions')}</p>
        )}
        {f.errors.conditions ? <div class="field-error">{f.errors.conditions}</div> : null}
        {v.conditions.length < MAX_CONDITIONS ? (
          <button
            type="button"
            class="btn small au-add"
            onClick={() => set('conditions', [...v.conditions, newCondition(onlyConditionsMessage ? 'page_url' : 'message')])}
            data-testid="au-add-condition"
          >
            <Icon name="plus" size={14} /> {t('auAddCondition')}
          </button>
        ) : (
          <p class="muted small" data-testid="au-conditions-full">
            {t('auLimitConditions', { max: MAX_CONDITIONS })}
          </p>
        )}
      </section>

      <section class={`card au-section ${f.errors.actions ? 'has-error' : ''}`} data-testid="au-actions">
        <div class="au-section-head">
          <h3 class="au-h3">
            {t('auActions')}{' '}
            <span class="muted small">
              ({v.actions.length}/{MAX_ACTIONS})
            </span>
          </h3>
          <span class="muted small">{t('auActionsHint')}</span>
        </div>
        <ol class="au-rows">
          {v.actions.map((a, i) => (
            <ActionRow
              key={a.key}
              a={a}
              i={i}
              n={v.actions.length}
              errors={f.errors}
              teams={teams}
              agents={agents}
              labels={labels}
              onChange={setRow('actions')}
              onMove={moveAction}
              onRemove={removeRow('actions')}
            />
          ))}
        </ol>
        {f.errors.actions ? <div class="field-error">{f.errors.actions}</div> : null}
        {v.actions.length < MAX_ACTIONS ? (
          <button type="button" class="btn small au-add" onClick={() => set('actions', [...v.actions, newAction('send_message')])} data-testid="au-add-action">
            <Icon name="plus" size={14} /> {t('auAddAction')}
          </button>
        ) : (
          <p class="muted small" data-testid="au-actions-full">
            {t('auLimitActions', { max: MAX_ACTIONS })}
          </p>
        )}
      </section>

      <datalist id="au-languages">
        {LANGUAGES.map((l) => (
          <option key={l} value={l} />
        ))}
      </datalist>
      <datalist id="au-prechat-keys">
        {prechatKeys.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>

      <div class="au-editor-foot">
        <button type="button" class="btn" onClick={leave} data-testid="au-cancel">
          {t('auCancel')}
        </button>
        <button type="submit" class="btn primary" disabled={f.busy} data-testid="au-save">
          {f.busy ? t('auSaving') : create ? t('auCreate') : t('auSave')}
        </button>
      </div>
    </form>
  );
}
