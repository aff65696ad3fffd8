// Admin → Invitations (#/admin/invitations; admins edit, supervisors read):
// the automatic invitation rules of every site, each with its conditions
// in one line, its results (sent, accepted, ignored and the acceptance
// rate), a switch, edit (#/admin/invitations/3) and delete after a
// confirmation. The editor: name, site, message, sender name and the
// conditions (time on the page, URL contains, minimum visits, countries,
// referrer contains); the server's refusals land on the field they name
// (`fields` of the problem). Every word is translated
// (lib/words/visitors.js); names, messages and patterns are rendered as text.

import { useRef, useState } from 'preact/hooks';
import { S, isAdmin, navigate, toast } from '../../store/index.js';
import { get, patch, post } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import {
  RULE_BOUNDS,
  checkRuleDraft,
  conditionsSummary,
  draftToRule,
  explainRuleProblem,
  flagPrefix,
  fmtNum,
  fmtPct,
  parseCountries,
  ruleProblemText,
  ruleToDraft,
} from '../../lib/visitors.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Bdi, Field, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, deleteAfterConfirm, switchRule, useFreshList, useForm, useScrollToFirstError } from './Admin.jsx';

const rulePath = (id) => `/api/invitation-rules/${id}`;
const toList = () => navigate({ area: 'admin', admin: 'invitations' });

function siteName(sites, id) {
  const s = sites.find((x) => x.id === id);
  return s ? s.name : t('inrSiteN', { id });
}

function Stats({ stats }) {
  const s = stats || {};
  const sent = s.sent || 0;
  return (
    <div class="inr-stats" data-testid="inr-stats" data-sent={sent} data-accepted={s.accepted || 0} data-ignored={s.ignored || 0}>
      <span class="inr-rate">{sent ? t('inrRate', { pct: fmtPct(s.accepted || 0, sent) }) : t('inrRateNone')}</span>
      {/* Nothing sent: "Not sent yet" alone, not also "sent 0 · accepted 0 · ignored 0". */}
      {sent ? (
        <>
          <span class="muted small">{t('inrStats', { sent: fmtNum(sent), accepted: fmtNum(s.accepted || 0), ignored: fmtNum(s.ignored || 0) })}</span>
          <span class="inr-bar" aria-hidden="true">
            <span class="inr-bar-fill" style={{ width: `${Math.round(((s.accepted || 0) / sent) * 100)}%` }} />
          </span>
        </>
      ) : null}
    </div>
  );
}

function RuleRow({ rule, sites, busy, canEdit, onToggle, onEdit, onDelete }) {
  const when = conditionsSummary(rule.conditions);
  return (
    <li class={`inr-rule ${rule.enabled ? '' : 'off'}`} data-testid="inr-rule" data-id={rule.id}>
      <div class="inr-rule-main">
        <div class="inr-rule-head">
          <Bdi class="inr-rule-name" text={rule.name} testid="inr-rule-name" />
          <span class="pill inr-site">
            <Bdi text={siteName(sites, rule.site_id)} />
          </span>
        </div>
        <div class="inr-when muted small" title={when} data-testid="inr-rule-when">
          {when}
        </div>
        <div class="inr-message" title={rule.message}>
          <Icon name="message" size={13} />
          <Bdi class="ellipsis" text={rule.message} />
        </div>
        <div class="inr-buttons">
          <button type="button" class="btn small" onClick={() => onEdit(rule)} disabled={busy} data-testid="inr-rule-edit">
            <Icon name={canEdit ? 'edit' : 'eye'} size={14} /> {canEdit ? t('inrEdit') : t('inrView')}
          </button>
          {canEdit ? (
            <button
              type="button"
              class="btn small danger-ghost"
              onClick={() => onDelete(rule)}
              disabled={busy}
              aria-label={t('inrDeleteName', { name: isolate(rule.name) })}
              data-testid="inr-rule-delete"
            >
              <Icon name="trash" size={14} /> {t('inrDelete')}
            </button>
          ) : null}
        </div>
      </div>
      <Stats stats={rule.stats} />
      <label class="au-switch" title={rule.enabled ? t('inrOn') : t('inrOff')}>
        <input
          type="checkbox"
          role="switch"
          checked={!!rule.enabled}
          disabled={busy || !canEdit}
          onChange={(e) => onToggle(rule, e.currentTarget.checked)}
          aria-label={t('inrEnableName', { name: isolate(rule.name) })}
          data-testid="inr-rule-enabled"
        />
        <span class="au-switch-track" aria-hidden="true" />
        <span class="au-switch-text">{rule.enabled ? t('inrOn') : t('inrOff')}</span>
      </label>
    </li>
  );
}

/** Create (rule absent) or edit a rule; read-only for a supervisor. onSaved(rule, created). */
function InvitationRuleEditor({ rule, sites, canEdit, onCancel, onSaved }) {
  const create = !rule;
  const f = useForm(
    () => {
      const d = ruleToDraft(rule);
      if (create) {
        d.message = t('inrMessageDefault');
        if (sites.length === 1) d.site_id = String(sites[0].id);
      }
      return d;
    },
    { explain: explainRuleProblem },
  );
  const v = f.values;
  const form = useRef(null);
  const { set } = f;
  useScrollToFirstError(form, f.errors);
  const submit = (e) => {
    e.preventDefault();
    if (!canEdit) return;
    f.run(async () => {
      const mine = checkRuleDraft(v);
      if (Object.keys(mine).length) {
        f.setErrors(mine);
        f.setError(t('inrFix'));
        return;
      }
      const body = draftToRule(v, rule);
      if (create) {
        const res = await post('/api/invitation-rules', body);
        onSaved(res.rule, true);
      } else {
        const res = await patch(rulePath(rule.id), body);
        onSaved(res.rule, false);
      }
    });
  };
  const ro = !canEdit;
  const codes = parseCountries(v.countries);
  const msgLen = [...v.message].length;
  const knownSite = !v.site_id || sites.some((s) => String(s.id) === v.site_id);
  const input = (k, extra = {}) => ({
    id: `inr-${k}`,
    value: v[k],
    onInput: set(k),
    disabled: ro,
    class: f.errors[k] ? 'invalid' : '',
    'aria-invalid': f.errors[k] ? 'true' : undefined,
    'data-testid': `inr-${k.replace(/_/g, '-')}`,
    ...extra,
  });
  return (
    <form class="au-editor inr-editor" ref={form} onSubmit={submit} novalidate data-testid="inr-form" lang={lang()}>
      <div class="au-editor-head">
        <button type="button" class="btn small au-back" onClick={onCancel} data-testid="inr-back">
          <Icon name="chevronLeft" size={16} /> {t('inrBack')}
        </button>
        <h2>{create ? t('inrNewTitle') : t(ro ? 'inrViewTitle' : 'inrEditTitle', { name: isolate(rule.name) })}</h2>
      </div>
      {ro ? <div class="notice">{t('inrReadOnly')}</div> : null}
      {f.error ? (
        <div class="notice notice-error" role="alert" data-testid="inr-form-error">
          {f.error}
        </div>
      ) : null}
      <section class="card au-section">
        <div class="form-grid">
          <Field label={t('inrName')} id="inr-name" error={f.errors.name} hint={t('inrNameHint')}>
            <input {...input('name', { maxLength: RULE_BOUNDS.name * 2, autocomplete: 'off', dir: 'auto' })} />
          </Field>
          <Field label={t('inrSite')} id="inr-site_id" error={f.errors.site_id}>
            <select {...input('site_id', { onChange: set('site_id'), onInput: undefined })}>
              <option value="">{t('inrPickSite')}</option>
              {sites.map((s) => (
                <option key={s.id} value={String(s.id)}>
                  {s.name}
                </option>
              ))}
              {!knownSite ? <option value={v.site_id}>{t('inrSiteN', { id: v.site_id })}</option> : null}
            </select>
          </Field>
          <Field label={t('inrMessage')} id="inr-message" error={f.errors.message} hint={t('inrMessageHint')} wide>
            <textarea {...input('message', { rows: 3, dir: 'auto' })} />
            <span class={`small inr-counter ${msgLen > RULE_BOUNDS.message ? 'error-text' : 'muted'}`}>
              {t('invCounter', { n: fmtNum(msgLen), max: fmtNum(RULE_BOUNDS.message) })}
            </span>
          </Field>
          <Field label={t('inrSender')} id="inr-sender_name" error={f.errors.sender_name} hint={t('inrSenderHint')}>
            <input {...input('sender_name', { maxLength: RULE_BOUNDS.sender * 2, autocomplete: 'off', dir: 'auto' })} />
          </Field>
          <div class="field inr-enabled-field">
            <label class="check">
              <input type="checkbox" checked={v.enabled} onChange={set('enabled')} disabled={ro} data-testid="inr-enabled" />
              <span>{t('inrEnabled')}</span>
            </label>
          </div>
        </div>
      </section>
      <section class="card au-section" data-testid="inr-conditions">
        <h3 class="au-h3">{t('inrConditions')}</h3>
        <p class="muted small inr-cond-hint">{t('inrConditionsHint')}</p>
        <div class="form-grid">
          <Field label={t('inrTime')} id="inr-time_on_page_seconds" error={f.errors.time_on_page_seconds} hint={t('inrTimeHint')}>
            <input {...input('time_on_page_seconds', { inputMode: 'numeric', autocomplete: 'off', placeholder: '30' })} />
          </Field>
          <Field label={t('inrVisits')} id="inr-min_visits" error={f.errors.min_visits} hint={t('inrVisitsHint')}>
            <input {...input('min_visits', { inputMode: 'numeric', autocomplete: 'off', placeholder: '1' })} />
          </Field>
          <Field label={t('inrUrl')} id="inr-url_contains" error={f.errors.url_contains} hint={t('inrUrlHint')}>
            <input {...input('url_contains', { autocomplete: 'off', spellcheck: false, dir: 'ltr' })} />
          </Field>
          <Field label={t('inrReferrer')} id="inr-referrer_contains" error={f.errors.referrer_contains} hint={t('inrReferrerHint')}>
            <input {...input('referrer_contains', { autocomplete: 'off', spellcheck: false, dir: 'ltr' })} />
          </Field>
          <Field label={t('inrCountries')} id="inr-countries" error={f.errors.countries} hint={t('inrCountriesHint')} wide>
            <input {...input('countries', { autocomplete: 'off', spellcheck: false, dir: 'ltr', placeholder: 'DE, AT, CH' })} />
            {codes.length ? (
              <div class="chips inr-chips" data-testid="inr-country-chips">
                {codes.map((c, i) => (
                  <span key={`${c}-${i}`} class={`chip ${/^[A-Z]{2}$/.test(c) ? '' : 'chip-bad'}`}>
                    {/^[A-Z]{2}$/.test(c) ? flagPrefix(c) : ''}
                    {c}
                  </span>
                ))}
              </div>
            ) : null}
          </Field>
        </div>
      </section>
      <div class="au-editor-foot">
        <button type="button" class="btn" onClick={onCancel}>
          {t('inrCancel')}
        </button>
        {canEdit ? (
          <button type="submit" class="btn primary" disabled={f.busy} data-testid="inr-save">
            {f.busy ? t('inrSaving') : create ? t('inrCreate') : t('inrSave')}
          </button>
        ) : null}
      </div>
    </form>
  );
}

export function Invitations() {
  const editId = S.view.item;
  const canEdit = isAdmin();
  const [rules, setRules] = useState(null);
  const [sites, setSites] = useState([]);
  const [creating, setCreating] = useState(false);
  const fresh = useFreshList(async () => {
    const r = await get('/api/invitation-rules');
    // Site names: the admins' list (supervisors see "Site #3").
    const st = canEdit ? await get('/api/sites').catch(() => ({ sites: [] })) : { sites: [] };
    return () => {
      setRules([...(r.rules || [])].sort((a, b) => a.site_id - b.site_id || a.position - b.position || a.id - b.id));
      setSites([...(st.sites || [])].sort((a, b) => String(a.name).localeCompare(String(b.name))));
    };
  }, ruleProblemText);
  const { error, busy, setBusy, load } = fresh;

  const toggle = (rule, enabled) =>
    switchRule({
      list: fresh,
      path: rulePath(rule.id),
      rule,
      enabled,
      setRows: setRules,
      done: (on) => t(on ? 'inrSwitchedOn' : 'inrSwitchedOff', { name: isolate(rule.name) }),
      problemText: ruleProblemText,
    });

  const remove = (rule) =>
    deleteAfterConfirm({
      words: {
        title: t('inrDeleteTitle', { name: isolate(rule.name) }),
        body: t('inrDeleteBody'),
        confirm: t('inrDelete'),
        cancel: t('inrCancel'),
      },
      path: rulePath(rule.id),
      done: t('inrDeleted', { name: isolate(rule.name) }),
      problemText: ruleProblemText,
      busy: setBusy,
      reload: load,
    });

  const editing = editId && rules ? rules.find((r) => r.id === editId) : null;
  if (editing) {
    return (
      <div class="au-page inr-page" lang={lang()}>
        <InvitationRuleEditor
          key={editing.id}
          rule={editing}
          sites={sites}
          canEdit={canEdit}
          onCancel={toList}
          onSaved={() => {
            toast(t('inrSaved'), 'success', 2500);
            toList();
            load();
          }}
        />
      </div>
    );
  }
  if (creating && rules && canEdit) {
    return (
      <div class="au-page inr-page" lang={lang()}>
        <InvitationRuleEditor
          sites={sites}
          canEdit
          onCancel={() => setCreating(false)}
          onSaved={(r) => {
            toast(t('inrCreated', { name: isolate(r.name) }), 'success', 2500);
            setCreating(false);
            load();
          }}
        />
      </div>
    );
  }
  return (
    <div class="au-page inr-page" lang={lang()}>
      <PageHead title={t('invitations')} sub={t('inrListSub')}>
        {rules ? (
          <span class="muted small au-count" data-testid="inr-count">
            {rules.length === 1 ? t('inrCount1') : t('inrCount', { n: fmtNum(rules.length) })}
          </span>
        ) : null}
        {canEdit ? (
          <button type="button" class="btn primary" onClick={() => setCreating(true)} disabled={!rules} data-testid="inr-new">
            <Icon name="plus" size={16} /> {t('inrNew')}
          </button>
        ) : null}
      </PageHead>
      {!canEdit ? <div class="notice inr-readonly">{t('inrReadOnly')}</div> : null}
      {error ? (
        <div class="notice notice-error" role="alert" data-testid="inr-error">
          {error}
        </div>
      ) : null}
      {editId && rules && !editing ? (
        <div class="notice notice-error" role="alert" data-testid="inr-missing">
          {t('inrErrNotFound')}
        </div>
      ) : null}
      <div class="card">
        {!rules && !error ? (
          <div class="list-status">
            <Spinner label={t('inrLoading')} />
          </div>
        ) : rules && rules.length ? (
          <ul class="inr-rules" data-testid="inr-rules">
            {rules.map((r) => (
              <RuleRow
                key={r.id}
                rule={r}
                sites={sites}
                busy={busy}
                canEdit={canEdit}
                onToggle={toggle}
                onEdit={(x) => navigate({ area: 'admin', admin: 'invitations', item: x.id })}
                onDelete={remove}
              />
            ))}
          </ul>
        ) : rules ? (
          <div class="empty" data-testid="inr-empty">
            <Icon name="send" size={28} />
            <strong>{t('inrEmpty')}</strong>
            <p>{t('inrEmptyHint')}</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}
