// Admin → Bots: the agent bots (list; create, showing the endpoint's
// signing secret and the bot's API token once; edit and switch on or off at
// #/admin/bots/3; delete), each with a link to its endpoint's delivery log
// on the Webhooks page. A bot takes the new conversations of the sites and
// teams given to it, answers through the REST API under its name and hands
// them to a person (docs/webhooks.md, "Agent bots"). Every word is
// translated (lib/i18n.js); names and URLs are rendered as text.

import { useEffect, useState } from 'preact/hooks';
import { S, navigate, toast } from '../../store/index.js';
import { get, patch, post } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import { TIMEOUT_DEFAULT, TIMEOUT_MAX, TIMEOUT_MIN, botProblemText, botState, checkTimeout, explainBotProblem, fmtTimeout } from '../../lib/bots.js';
import { checkUrl, fmtAgo, fmtWhen } from '../../lib/webhooks.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Bdi, CopyButton, Field, Modal, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, deleteAfterConfirm, useForm } from './Admin.jsx';

const botPath = (id) => `/api/bots/${id}`;
const logHref = (endpointId) => `#/admin/webhooks/${endpointId}`;

/** The props every translated dialog passes to Modal. */
const modalWords = () => ({ lang: lang(), closeLabel: t('closeDialog') });

const copyWords = () => ({ label: t('whCopy'), copied: t('whCopied'), failed: t('whCopyFailed') });

const byName = (a, b) => String(a.name).localeCompare(String(b.name));

/** What happens to the chats a bot handles when it is deleted. */
const deleteLead = (n) => (n > 1 ? t('botDeleteLeadN', { n }) : n === 1 ? t('botDeleteLead1') : t('botDeleteLead0'));

function StatePill({ bot }) {
  const st = botState(bot);
  return (
    <span class={`wh-pill wh-pill-${st.pill}`} data-testid="bot-state" data-state={st.key}>
      {st.label}
    </span>
  );
}

/** The sites and teams a bot takes new conversations from, as chips. */
function Takes({ bot, sites, teams }) {
  const name = (list, id) => (list.find((x) => x.id === id) || {}).name || `#${id}`;
  const items = [
    ...bot.team_ids.map((id) => ({ key: `t${id}`, icon: 'layers', kind: t('botTeam'), name: name(teams, id) })),
    ...bot.site_ids.map((id) => ({ key: `s${id}`, icon: 'globe', kind: t('botSite'), name: name(sites, id) })),
  ];
  if (!items.length) return <span class="muted small">{t('botTakesNothing')}</span>;
  return (
    <div class="chips bot-takes" data-testid="bot-takes">
      {items.map((x) => (
        <span class="chip bot-chip" key={x.key} title={`${x.kind}: ${isolate(x.name)}`}>
          <Icon name={x.icon} size={12} title={x.kind} />
          <Bdi text={x.name} />
        </span>
      ))}
    </div>
  );
}

// -------------------------------------------------------------------- forms

/**
 * Checkboxes for the sites or the teams a bot takes; one another bot has is
 * named, since choosing it here moves it to this bot.
 */
function PickList({ legend, items, value, owners, onChange, error, testid, empty }) {
  const toggle = (id, on) => onChange(on ? [...value, id] : value.filter((x) => x !== id));
  return (
    <fieldset class={`bot-picks ${error ? 'has-error' : ''}`} data-testid={testid}>
      <legend>{legend}</legend>
      {items.length ? (
        <div class="member-list">
          {items.map((x) => {
            const other = !value.includes(x.id) && owners.get(x.id);
            return (
              <label class={`pick ${value.includes(x.id) ? 'on' : ''}`} key={x.id} data-testid={`${testid}-item`} data-id={x.id}>
                <input type="checkbox" checked={value.includes(x.id)} onChange={(e) => toggle(x.id, e.currentTarget.checked)} />
                <span class="bot-pick-text">
                  <Bdi class="pick-name" text={x.name} />
                  {other ? <span class="muted small">{t('botPickOwned', { bot: isolate(other) })}</span> : null}
                </span>
              </label>
            );
          })}
        </div>
      ) : (
        <p class="muted small">{empty}</p>
      )}
      {error ? (
        <div class="field-error" role="alert">
          {error}
        </div>
      ) : null}
    </fieldset>
  );
}

/** Create (no bot) or edit a bot: name, URL, timeout, sites, teams, and (edit) enabled. */
function BotForm({ bot, bots, sites, teams, onClose, onSaved }) {
  const create = !bot;
  const f = useForm(
    create
      ? { name: '', url: '', timeout: String(TIMEOUT_DEFAULT), site_ids: [], team_ids: [], enabled: true }
      : {
          name: bot.name,
          url: bot.url || '',
          timeout: String(bot.timeout_seconds),
          site_ids: [...bot.site_ids],
          team_ids: [...bot.team_ids],
          enabled: !!bot.enabled,
        },
    { explain: explainBotProblem },
  );
  const v = f.values;
  // Which other bot has each site and team now.
  const owners = (key) => new Map(bots.filter((b) => !bot || b.id !== bot.id).flatMap((b) => b[key].map((id) => [id, b.name])));
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const name = v.name.trim();
      const url = v.url.trim();
      const errors = {};
      if (!name) errors.name = t('botNameMissing');
      const badUrl = checkUrl(url);
      if (badUrl) errors.url = badUrl;
      const badTimeout = checkTimeout(v.timeout);
      if (badTimeout) errors.timeout_seconds = badTimeout;
      if (Object.keys(errors).length) {
        f.setErrors(errors);
        return;
      }
      const body = {
        name,
        url,
        timeout_seconds: Number(v.timeout),
        site_ids: [...v.site_ids].sort((a, b) => a - b),
        team_ids: [...v.team_ids].sort((a, b) => a - b),
      };
      if (create) {
        onSaved(await post('/api/bots', body));
        return;
      }
      // Only what changed: saving an untouched switch must not switch a bot on again.
      const changes = {};
      if (body.name !== bot.name) changes.name = body.name;
      if (body.url !== (bot.url || '')) changes.url = body.url;
      if (body.timeout_seconds !== bot.timeout_seconds) changes.timeout_seconds = body.timeout_seconds;
      if (body.site_ids.join() !== bot.site_ids.join()) changes.site_ids = body.site_ids;
      if (body.team_ids.join() !== bot.team_ids.join()) changes.team_ids = body.team_ids;
      if (v.enabled !== !!bot.enabled) changes.enabled = v.enabled;
      onSaved(Object.keys(changes).length ? await patch(botPath(bot.id), changes) : bot);
    });
  };
  const why = bot && !bot.enabled ? botState(bot).key : null;
  return (
    <Modal
      title={create ? t('botNewTitle') : t('botEditTitle', { name: isolate(bot.name) })}
      onClose={onClose}
      wide
      {...modalWords()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" form="bot-form" class="btn primary" disabled={f.busy} data-testid="bot-save">
            {f.busy ? t('whSaving') : create ? t('botCreate') : t('whSave')}
          </button>
        </>
      }
    >
      <form id="bot-form" class="bot-form" onSubmit={submit} novalidate data-testid="bot-form">
        {f.error ? (
          <div class="notice notice-error" role="alert" data-testid="bot-form-error">
            {f.error}
          </div>
        ) : null}
        {why === 'detached' ? (
          <div class="notice notice-error" data-testid="bot-detached">
            {t('botDetachedHint')}
          </div>
        ) : null}
        <div class="bot-form-row">
          <Field label={t('botName')} id="bot-name" error={f.errors.name} hint={t('botNameHint')}>
            <input id="bot-name" maxLength={100} autocomplete="off" value={v.name} onInput={f.set('name')} autofocus data-testid="bot-name" />
          </Field>
          <Field label={t('botTimeout')} id="bot-timeout" error={f.errors.timeout_seconds} hint={t('botTimeoutHint')}>
            <span class="bot-timeout">
              <input
                id="bot-timeout"
                type="number"
                inputMode="numeric"
                min={TIMEOUT_MIN}
                max={TIMEOUT_MAX}
                step="1"
                value={v.timeout}
                onInput={f.set('timeout')}
                data-testid="bot-timeout"
              />
              <span class="muted">{t('botSeconds')}</span>
            </span>
          </Field>
        </div>
        <Field label={t('whUrl')} id="bot-url" error={f.errors.url} hint={t('botUrlHint')}>
          <input
            id="bot-url"
            class="mono"
            type="text"
            inputMode="url"
            autocomplete="off"
            spellcheck={false}
            dir="ltr"
            placeholder="https://bot.example.com/parley"
            value={v.url}
            onInput={f.set('url')}
            data-testid="bot-url"
          />
        </Field>
        <div class="bot-takes-head">
          <strong>{t('botTakesTitle')}</strong>
          <span class="muted small">{t('botTakesHint')}</span>
        </div>
        <div class="bot-picks-grid">
          <PickList
            legend={t('botSites')}
            items={[...sites].sort(byName)}
            value={v.site_ids}
            owners={owners('site_ids')}
            onChange={(site_ids) => f.setValues({ ...v, site_ids })}
            error={f.errors.site_ids}
            testid="bot-sites"
            empty={t('botNoSites')}
          />
          <PickList
            legend={t('botTeams')}
            items={[...teams].sort(byName)}
            value={v.team_ids}
            owners={owners('team_ids')}
            onChange={(team_ids) => f.setValues({ ...v, team_ids })}
            error={f.errors.team_ids}
            testid="bot-teams"
            empty={t('botNoTeams')}
          />
        </div>
        {!create ? (
          <label class="check toggle-row wh-toggle">
            <input type="checkbox" role="switch" checked={v.enabled} onChange={f.set('enabled')} data-testid="bot-enabled" />
            <span>
              <strong>{t('botEnabled')}</strong>
              <span class="muted small">
                {' — '}
                {v.enabled
                  ? why === 'gone'
                    ? t('whEnableClearsGone')
                    : why === 'failing'
                      ? t('whEnableClearsFailing')
                      : t('botEnabledHint')
                  : t('botDisabledHint')}
              </span>
            </span>
          </label>
        ) : null}
      </form>
    </Modal>
  );
}

/** One secret of the dialog below: what it is for, the value, a copy button. */
function Secret({ label, hint, value, testid }) {
  return (
    <div class="bot-secret">
      <div class="bot-secret-label">
        <strong>{label}</strong>
        <span class="muted small">{hint}</span>
      </div>
      <div class="secret-row">
        <code class="secret" data-testid={testid}>
          {value}
        </code>
        <CopyButton text={value} {...copyWords()} testid={`${testid}-copy`} />
      </div>
    </div>
  );
}

/** After creating a bot: its endpoint's signing secret and its API token, once, and how it answers. */
function SecretsDialog({ bot, onClose }) {
  const base = `${location.origin}/api/v1/conversations/{id}`;
  return (
    <Modal
      title={t('botSecretsTitle', { name: isolate(bot.name) })}
      onClose={onClose}
      wide
      {...modalWords()}
      footer={
        <button type="button" class="btn primary" onClick={onClose} data-testid="bot-secrets-done">
          {t('whDone')}
        </button>
      }
    >
      <div class="bot-secrets" data-testid="bot-secrets-dialog">
        <p>{t('botSecretsIntro')}</p>
        <Secret label={t('botSecretLabel')} hint={t('botSecretHint')} value={bot.secret} testid="bot-secret" />
        <Secret label={t('botTokenLabel')} hint={t('botTokenHint')} value={bot.token} testid="bot-token" />
        <div class="notice notice-warn" data-testid="bot-secrets-once">
          <Icon name="alert" size={16} />
          <span>{t('botSecretsOnce')}</span>
        </div>
        <h3 class="wh-h3">{t('botHowTitle')}</h3>
        <p class="small">{t('botHowAnswer')}</p>
        <pre class="wh-pre bot-how" data-testid="bot-how-answer">
          {`POST ${base}/messages\nAuthorization: Bearer prl_…\n\n{"body": "…"}`}
        </pre>
        <p class="small">{t('botHowHandoff')}</p>
        <pre class="wh-pre bot-how" data-testid="bot-how-handoff">
          {`{"body": "…", "handoff": {"summary": "…"}}`}
        </pre>
      </div>
    </Modal>
  );
}

// --------------------------------------------------------------------- list

function BotRow({ bot, sites, teams, onEdit, onDelete, busy }) {
  return (
    <tr data-testid="bot-row" data-id={bot.id}>
      <td data-label={t('botColBot')} class="bot-cell-main">
        <span class="bot-name">
          <Icon name="bot" size={16} />
          <Bdi text={bot.name} testid="bot-row-name" />
        </span>
        {bot.url ? <Bdi class="mono small muted bot-url" text={bot.url} /> : null}
        <div class="bot-actions">
          <button type="button" class="btn small" onClick={() => onEdit(bot)} disabled={busy} data-testid="bot-edit">
            <Icon name="edit" size={14} /> {t('whEdit')}
          </button>
          <button
            type="button"
            class="btn small danger-ghost"
            onClick={() => onDelete(bot)}
            disabled={busy}
            aria-label={t('botDeleteName', { name: isolate(bot.name) })}
            data-testid="bot-delete"
          >
            <Icon name="trash" size={14} /> {t('whDelete')}
          </button>
          {bot.endpoint_id ? (
            <a href={logHref(bot.endpoint_id)} class="bot-log" data-testid="bot-log">
              {t('botDeliveryLog')}
            </a>
          ) : null}
        </div>
      </td>
      <td data-label={t('whColStatus')}>
        <StatePill bot={bot} />
      </td>
      <td data-label={t('botColTakes')}>
        <Takes bot={bot} sites={sites} teams={teams} />
      </td>
      <td data-label={t('botColHandling')} class="num">
        <span class={bot.handling ? 'bot-handling' : 'muted'} data-testid="bot-handling">
          {bot.handling}
        </span>
      </td>
      <td data-label={t('botColTimeout')} class="wh-nowrap" data-testid="bot-timeout-cell">
        {fmtTimeout(bot.timeout_seconds)}
      </td>
      <td data-label={t('botColTokenUsed')} class="wh-nowrap">
        {bot.token_last_used_at ? (
          <span class="small" title={fmtWhen(bot.token_last_used_at)} data-testid="bot-token-used">
            {fmtAgo(bot.token_last_used_at)}
          </span>
        ) : (
          <span class="muted small" data-testid="bot-token-used">
            {t('botTokenNever')}
          </span>
        )}
      </td>
    </tr>
  );
}

export function Bots() {
  const editId = S.view.item;
  const [bots, setBots] = useState(null);
  const [sites, setSites] = useState([]);
  const [teams, setTeams] = useState([]);
  const [error, setError] = useState(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    try {
      const [b, s, tm] = await Promise.all([get('/api/bots'), get('/api/sites'), get('/api/teams')]);
      setBots(b.data || []);
      setSites(s.sites || []);
      setTeams(tm.teams || []);
      setError(null);
    } catch (e) {
      setError(botProblemText(e));
    }
  };
  useEffect(() => {
    load();
  }, []);
  const toList = () => navigate({ area: 'admin', admin: 'bots' });
  const remove = (bot) =>
    deleteAfterConfirm({
      words: {
        title: t('botDeleteTitle', { name: isolate(bot.name) }),
        body: t('botDeleteBody', { lead: deleteLead(bot.handling) }),
        confirm: t('botDelete'),
        cancel: t('cancel'),
      },
      path: botPath(bot.id),
      done: t('botDeleted', { name: isolate(bot.name) }),
      problemText: botProblemText,
      busy: setBusy,
      reload: load,
    });
  const editing = editId && bots ? bots.find((b) => b.id === editId) : null;
  return (
    <div class="wh-page bot-page" lang={lang()}>
      <PageHead title={t('bots')} sub={t('botListSub')}>
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-bot">
          <Icon name="plus" size={16} /> {t('botNew')}
        </button>
      </PageHead>
      {error ? (
        <div class="notice notice-error" role="alert" data-testid="bots-error">
          {error}
        </div>
      ) : null}
      {editId && bots && !editing ? (
        <div class="notice notice-error" role="alert" data-testid="bot-missing">
          {t('botErrNotFound')}
        </div>
      ) : null}
      <div class="card">
        {!bots && !error ? (
          <div class="list-status">
            <Spinner label={t('whLoading')} />
          </div>
        ) : bots && bots.length ? (
          <table class="table stack wh-table bot-table" data-testid="bots-table">
            <thead>
              <tr>
                <th>{t('botColBot')}</th>
                <th>{t('whColStatus')}</th>
                <th>{t('botColTakes')}</th>
                <th class="num">{t('botColHandling')}</th>
                <th>{t('botColTimeout')}</th>
                <th>{t('botColTokenUsed')}</th>
              </tr>
            </thead>
            <tbody>
              {bots.map((b) => (
                <BotRow
                  key={b.id}
                  bot={b}
                  sites={sites}
                  teams={teams}
                  busy={busy}
                  onEdit={(x) => navigate({ area: 'admin', admin: 'bots', item: x.id })}
                  onDelete={remove}
                />
              ))}
            </tbody>
          </table>
        ) : bots ? (
          <div class="empty">
            <Icon name="bot" size={28} />
            <strong>{t('botEmpty')}</strong>
            <p>{t('botEmptyHint')}</p>
          </div>
        ) : null}
      </div>
      {creating && bots ? (
        <BotForm
          bots={bots}
          sites={sites}
          teams={teams}
          onClose={() => setCreating(false)}
          onSaved={(b) => {
            setCreating(false);
            setCreated(b);
            load();
          }}
        />
      ) : null}
      {editing ? (
        <BotForm
          key={editing.id}
          bot={editing}
          bots={bots}
          sites={sites}
          teams={teams}
          onClose={toList}
          onSaved={() => {
            toast(t('botSaved'), 'success', 2500);
            toList();
            load();
          }}
        />
      ) : null}
      {created ? <SecretsDialog bot={created} onClose={() => setCreated(null)} /> : null}
    </div>
  );
}
