// Admin → Automation: the automation rules (chat/rules, chat/automation),
// in the order they run: each with its trigger, its conditions and actions
// in one line, a switch, buttons to run it earlier or later, edit (at
// #/admin/automation/3), duplicate and delete (after a confirmation). A new
// rule goes last. The editor is RuleEditor.jsx. Every word is translated
// (lib/words/automation.js); names and values are rendered as text.

import { useState } from 'preact/hooks';
import { S, navigate, toast } from '../../store/index.js';
import { get, patch } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import { MAX_RULES, POSITION_MAX, actionsSummary, conditionsSummary, ruleProblemText, triggerLabel } from '../../lib/automation.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Bdi, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, deleteAfterConfirm, switchRule, useFreshList } from './Admin.jsx';
import { RuleEditor } from './RuleEditor.jsx';

const rulePath = (id) => `/api/automation-rules/${id}`;
const toList = () => navigate({ area: 'admin', admin: 'automation' });
const byName = (a, b) => String(a.name).localeCompare(String(b.name));

/** Id → name maps for the summaries. */
function namesOf(teams, agents, labels) {
  const map = (list) => new Map(list.map((x) => [x.id, x.name]));
  return { teams: map(teams), agents: map(agents), labels: map(labels) };
}

/** The pre-chat field names of every site's form, offered as keys. */
function prechatKeysOf(sites) {
  const keys = new Set();
  for (const s of sites) for (const p of (s.widget_settings && s.widget_settings.prechat_fields) || []) if (p && p.name) keys.add(String(p.name));
  return [...keys].sort();
}

function RuleRow({ rule, i, n, names, busy, onToggle, onMove, onEdit, onCopy, onDelete, full }) {
  const when = conditionsSummary(rule.rule, names);
  const then = actionsSummary(rule.rule, names);
  return (
    <li class={`au-rule ${rule.enabled ? '' : 'off'}`} data-testid="au-rule" data-id={rule.id}>
      <div class="au-order">
        <button
          type="button"
          class="icon-btn"
          disabled={busy || i === 0}
          onClick={() => onMove(i, -1)}
          aria-label={t('auMoveUpName', { name: isolate(rule.name) })}
          title={t('auMoveUp')}
          data-testid="au-rule-up"
        >
          <Icon name="chevronUp" size={16} />
        </button>
        <span class="au-order-n" title={t('auColOrder')}>
          {i + 1}
        </span>
        <button
          type="button"
          class="icon-btn"
          disabled={busy || i === n - 1}
          onClick={() => onMove(i, 1)}
          aria-label={t('auMoveDownName', { name: isolate(rule.name) })}
          title={t('auMoveDown')}
          data-testid="au-rule-down"
        >
          <Icon name="chevronDown" size={16} />
        </button>
      </div>
      <div class="au-rule-main">
        <div class="au-rule-head">
          <Bdi class="au-rule-name" text={rule.name} testid="au-rule-name" />
          <span class="au-trigger-pill" data-testid="au-rule-trigger">
            {triggerLabel(rule.rule && rule.rule.trigger)}
          </span>
        </div>
        <div class="au-sum" data-testid="au-rule-when">
          <span class="au-sum-k">{t('auIf')}</span>
          <span class="au-sum-v" title={when}>
            {when}
          </span>
        </div>
        <div class="au-sum" data-testid="au-rule-then">
          <span class="au-sum-k">{t('auThen')}</span>
          <span class="au-sum-v" title={then}>
            {then}
          </span>
        </div>
        <div class="au-rule-buttons">
          <button type="button" class="btn small" onClick={() => onEdit(rule)} disabled={busy} data-testid="au-rule-edit">
            <Icon name="edit" size={14} /> {t('auEdit')}
          </button>
          <button type="button" class="btn small" onClick={() => onCopy(rule)} disabled={busy || full} data-testid="au-rule-copy">
            <Icon name="copy" size={14} /> {t('auDuplicate')}
          </button>
          <button
            type="button"
            class="btn small danger-ghost"
            onClick={() => onDelete(rule)}
            disabled={busy}
            aria-label={t('auDeleteName', { name: isolate(rule.name) })}
            data-testid="au-rule-delete"
          >
            <Icon name="trash" size={14} /> {t('auDelete')}
          </button>
        </div>
      </div>
      <label class="au-switch" title={rule.enabled ? t('auOn') : t('auOff')}>
        <input
          type="checkbox"
          role="switch"
          checked={!!rule.enabled}
          disabled={busy}
          onChange={(e) => onToggle(rule, e.currentTarget.checked)}
          aria-label={t('auEnableName', { name: isolate(rule.name) })}
          data-testid="au-rule-enabled"
        />
        <span class="au-switch-track" aria-hidden="true" />
        <span class="au-switch-text">{rule.enabled ? t('auOn') : t('auOff')}</span>
      </label>
    </li>
  );
}

export function Automation() {
  const editId = S.view.item;
  const [rules, setRules] = useState(null);
  const [teams, setTeams] = useState([]);
  const [agents, setAgents] = useState([]);
  const [labels, setLabels] = useState([]);
  const [sites, setSites] = useState([]);
  const [creating, setCreating] = useState(null); // null, or {from} (a rule to copy, or nothing)
  const fresh = useFreshList(async () => {
    const [r, tm, ag, lb, st] = await Promise.all([get('/api/automation-rules'), get('/api/teams'), get('/api/agents'), get('/api/labels'), get('/api/sites')]);
    return () => {
      setRules(r.rules || []);
      setTeams([...(tm.teams || [])].sort(byName));
      setAgents([...(ag.agents || [])].sort(byName));
      setLabels(lb.labels || []);
      setSites(st.sites || []);
    };
  }, ruleProblemText);
  const { error, busy, setBusy, load } = fresh;
  const names = namesOf(teams, agents, labels);
  const full = !!rules && rules.length >= MAX_RULES;

  const toggle = (rule, enabled) =>
    switchRule({
      list: fresh,
      path: rulePath(rule.id),
      rule,
      enabled,
      setRows: setRules,
      done: (on) => t(on ? 'auSwitchedOn' : 'auSwitchedOff', { name: isolate(rule.name) }),
      problemText: ruleProblemText,
    });

  // Rules run by position, then id: moving one renumbers the list (10, 20,
  // 30 …) and saves the positions that changed.
  const move = async (i, by) => {
    const list = [...rules];
    const [x] = list.splice(i, 1);
    list.splice(i + by, 0, x);
    const step = Math.max(1, Math.min(10, Math.floor(POSITION_MAX / list.length)));
    const next = list.map((r, j) => ({ ...r, position: (j + 1) * step }));
    setRules(next);
    setBusy(true);
    fresh.changing();
    try {
      for (const r of next) {
        const was = rules.find((o) => o.id === r.id);
        if (was.position !== r.position) await patch(rulePath(r.id), { position: r.position });
      }
    } catch (e) {
      toast(ruleProblemText(e), 'error', 8000);
    } finally {
      setBusy(false);
      load();
    }
  };

  const remove = (rule) =>
    deleteAfterConfirm({
      words: {
        title: t('auDeleteTitle', { name: isolate(rule.name) }),
        body: t('auDeleteBody'),
        confirm: t('auDelete'),
        cancel: t('auCancel'),
      },
      path: rulePath(rule.id),
      done: t('auDeleted', { name: isolate(rule.name) }),
      problemText: ruleProblemText,
      busy: setBusy,
      reload: load,
    });

  const lookups = { teams, agents, labels, prechatKeys: prechatKeysOf(sites) };
  const editing = editId && rules ? rules.find((r) => r.id === editId) : null;
  if (editing) {
    return (
      <div class="au-page" lang={lang()}>
        <RuleEditor
          key={editing.id}
          rule={editing}
          {...lookups}
          onCancel={toList}
          onSaved={() => {
            toast(t('auSaved'), 'success', 2500);
            toList();
            load();
          }}
        />
      </div>
    );
  }
  if (creating && rules) {
    const last = rules.reduce((m, r) => Math.max(m, r.position), 0);
    return (
      <div class="au-page" lang={lang()}>
        <RuleEditor
          from={creating.from}
          position={rules.length ? Math.min(POSITION_MAX, last + 10) : 10}
          {...lookups}
          onCancel={() => setCreating(null)}
          onSaved={(r) => {
            toast(t('auCreated', { name: isolate(r.name) }), 'success', 2500);
            setCreating(null);
            load();
          }}
        />
      </div>
    );
  }
  return (
    <div class="au-page" lang={lang()}>
      <PageHead title={t('automation')} sub={t('auListSub')}>
        {rules ? (
          <span class="muted small au-count" data-testid="au-count">
            {t('auCount', { n: rules.length, max: MAX_RULES })}
          </span>
        ) : null}
        <button type="button" class="btn primary" onClick={() => setCreating({ from: null })} disabled={!rules || full} data-testid="au-new">
          <Icon name="plus" size={16} /> {t('auNew')}
        </button>
      </PageHead>
      {error ? (
        <div class="notice notice-error" role="alert" data-testid="au-error">
          {error}
        </div>
      ) : null}
      {full ? (
        <div class="notice notice-warn" data-testid="au-full">
          {t('auErrLimit', { max: MAX_RULES })}
        </div>
      ) : null}
      {editId && rules && !editing ? (
        <div class="notice notice-error" role="alert" data-testid="au-missing">
          {t('auErrNotFound')}
        </div>
      ) : null}
      <div class="card">
        {!rules && !error ? (
          <div class="list-status">
            <Spinner label={t('auLoading')} />
          </div>
        ) : rules && rules.length ? (
          <ol class="au-rules" data-testid="au-rules">
            {rules.map((r, i) => (
              <RuleRow
                key={r.id}
                rule={r}
                i={i}
                n={rules.length}
                names={names}
                busy={busy}
                full={full}
                onToggle={toggle}
                onMove={move}
                onEdit={(x) => navigate({ area: 'admin', admin: 'automation', item: x.id })}
                onCopy={(x) => setCreating({ from: { ...x, name: t('auCopyOf', { name: x.name }).slice(0, 100) } })}
                onDelete={remove}
              />
            ))}
          </ol>
        ) : rules ? (
          <div class="empty" data-testid="au-empty">
            <Icon name="workflow" size={28} />
            <strong>{t('auEmpty')}</strong>
            <p>{t('auEmptyHint')}</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}
