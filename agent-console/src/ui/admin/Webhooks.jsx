// Admin → Webhooks: the endpoints (list, create, edit, rotate the signing
// secret, delete, send a test event), each endpoint's delivery log with a
// delivery's detail (headers, the exact body, every attempt, redeliver),
// and the notice of endpoints the server disabled by itself. Every word is
// translated (lib/i18n.js); everything the server or a receiver sent (URLs,
// descriptions, bodies, response excerpts) is rendered as text.

import { useEffect, useRef, useState } from 'preact/hooks';
import { S, confirmDialog, forgetEndpoint, hideHookNotice, hookNoticeHidden, navigate, noteEndpoint, noteEndpoints, toast } from '../../store/index.js';
import { del, get, patch, post } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import {
  EVENT_GROUPS,
  EVENT_TYPES,
  checkUrl,
  deliveryError,
  deliveryStatus,
  endpointState,
  eventLabel,
  explainProblem,
  fmtAgo,
  fmtUnit,
  fmtWhen,
  orderEvents,
  problemText,
} from '../../lib/webhooks.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { ts } from '../../../../ui-shared/time.js';
import { Bdi, CopyButton, Field, Modal, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';

const PAGE = 25; // deliveries per page of the log
const hookPath = (id) => `/api/webhooks/${id}`;
const hookHref = (id) => `#/admin/webhooks/${id}`;

/** The props every translated dialog passes to Modal. */
const modalWords = () => ({ lang: lang(), closeLabel: t('closeDialog') });

const copyWords = () => ({ label: t('whCopy'), copied: t('whCopied'), failed: t('whCopyFailed') });

/** A receiver's HTTP status: green for 2xx, red otherwise. */
function Code({ status, error }) {
  if (status) return <span class={`wh-code ${status >= 200 && status < 300 ? 'wh-code-ok' : 'wh-code-bad'}`}>{status}</span>;
  if (error) return <span class="wh-code wh-code-bad">{deliveryError(error)}</span>;
  return <span class="muted">—</span>;
}

function StatePill({ ep }) {
  const st = endpointState(ep);
  return (
    <span class={`wh-pill wh-pill-${st.pill}`} data-testid="webhook-state" data-state={st.key}>
      {st.label}
    </span>
  );
}

function DeliveryPill({ status }) {
  const pill = { delivered: 'ok', pending: 'warn', failed: 'bad' }[status] || 'off';
  return (
    <span class={`wh-pill wh-pill-${pill}`} data-testid="delivery-status" data-status={status}>
      {deliveryStatus(status)}
    </span>
  );
}

/** "All events", the labels of one or two, or "4 events" (the labels in a tooltip). */
function EventsSummary({ events }) {
  const list = orderEvents(events || []);
  if (list.length === EVENT_TYPES.length) return <span>{t('whAllEvents')}</span>;
  if (list.length <= 2) {
    return (
      <div class="chips">
        {list.map((e) => (
          <span class="chip" key={e} title={e}>
            {eventLabel(e)}
          </span>
        ))}
      </div>
    );
  }
  return <span title={list.map(eventLabel).join(', ')}>{t('whNEvents', { n: list.length })}</span>;
}

// ------------------------------------------------------------------- notice

/**
 * The banner naming endpoints the server disabled (receiver gone, failing
 * for days), above the inbox when the console starts (until hidden) and
 * above every admin page (except the page of the endpoint it names).
 */
export function HookNotice() {
  const v = S.view;
  const inAdmin = v.area === 'admin';
  if (!S.hookAlerts.length || (!inAdmin && hookNoticeHidden())) return null;
  const shown = inAdmin && v.admin === 'webhooks' && v.item ? S.hookAlerts.filter((a) => a.id !== v.item) : S.hookAlerts;
  if (!shown.length) return null;
  const more = shown.length - 3;
  return (
    <div class={`hook-notice ${shown.length > 1 ? 'hook-notice-many' : ''}`} role="status" lang={lang()} data-testid="webhook-notice">
      <Icon name="alert" size={18} class="hook-notice-icon" />
      <div class="hook-notice-text">
        {shown.length > 1 ? (
          // Phones: one line for several endpoints (the list names them).
          <p class="hook-notice-summary">
            <strong>{t('whNoticeMany', { n: shown.length })}</strong>{' '}
            <a href="#/admin/webhooks" class="hook-notice-link">
              {t('whNoticeShow')}
            </a>
          </p>
        ) : null}
        {shown.slice(0, 3).map((a) => (
          <p key={a.id} class="hook-notice-item" data-testid="webhook-notice-item" data-id={a.id}>
            <strong>{t('whNoticeDisabled')}</strong> <Bdi class="hook-notice-url" text={a.url} />
            {' — '}
            <span>
              {a.reason === 'gone' ? t('whNoticeGone') : a.failing_since ? t('whNoticeFailingSince', { date: fmtWhen(a.failing_since) }) : t('whNoticeFailing')}
            </span>{' '}
            <a href={hookHref(a.id)} class="hook-notice-link">
              {t('whNoticeOpen')}
            </a>
          </p>
        ))}
        {more > 0 ? (
          <p class="hook-notice-item">
            <a href="#/admin/webhooks" class="hook-notice-link">
              {t('whNoticeMore', { n: more })}
            </a>
          </p>
        ) : null}
      </div>
      {!inAdmin ? (
        <button
          type="button"
          class="icon-btn"
          onClick={hideHookNotice}
          aria-label={t('whNoticeHide')}
          title={t('whNoticeHide')}
          data-testid="webhook-notice-hide"
        >
          <Icon name="x" size={16} />
        </button>
      ) : null}
    </div>
  );
}

// -------------------------------------------------------------------- forms

function EventPicker({ value, onChange, error }) {
  const all = value.length === EVENT_TYPES.length;
  const allBox = useRef(null);
  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = value.length > 0 && !all;
  });
  const toggle = (type, on) => onChange(on ? orderEvents([...value, type]) : value.filter((x) => x !== type));
  return (
    <fieldset class={`wh-events ${error ? 'has-error' : ''}`} data-testid="webhook-events">
      <legend>{t('whEvents')}</legend>
      <label class="check wh-all">
        <input
          type="checkbox"
          ref={allBox}
          checked={all}
          onChange={(e) => onChange(e.currentTarget.checked ? [...EVENT_TYPES] : [])}
          data-testid="webhook-events-all"
        />
        <span>{t('whSelectAll')}</span>
      </label>
      <div class="wh-event-groups">
        {EVENT_GROUPS.map(([group, types]) => (
          <div class="wh-event-group" key={group}>
            <h4>{t(group)}</h4>
            {types.map((type) => (
              <label class="check wh-event" key={type}>
                <input
                  type="checkbox"
                  checked={value.includes(type)}
                  onChange={(e) => toggle(type, e.currentTarget.checked)}
                  data-testid={`webhook-event-${type}`}
                />
                <span class="wh-event-text">
                  <span>{eventLabel(type)}</span>
                  <span class="mono wh-event-type">{type}</span>
                </span>
              </label>
            ))}
          </div>
        ))}
      </div>
      {error ? (
        <div class="field-error" role="alert">
          {error}
        </div>
      ) : null}
    </fieldset>
  );
}

/** Create (no endpoint) or edit an endpoint: URL, description, events, notes, and (edit) enabled. */
function EndpointForm({ endpoint, onClose, onSaved }) {
  const create = !endpoint;
  const f = useForm(
    create
      ? { url: '', description: '', events: [], include_notes: false, enabled: true }
      : {
          url: endpoint.url,
          description: endpoint.description || '',
          events: orderEvents(endpoint.events || []),
          include_notes: !!endpoint.include_notes,
          enabled: !!endpoint.enabled,
        },
    { explain: explainProblem },
  );
  const v = f.values;
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const url = v.url.trim();
      const errors = {};
      const bad = checkUrl(url);
      if (bad) errors.url = bad;
      if (!v.events.length) errors.events = t('whEventsNone');
      if (Object.keys(errors).length) {
        f.setErrors(errors);
        return;
      }
      const body = { url, description: v.description.trim(), events: orderEvents(v.events), include_notes: v.include_notes };
      if (create) {
        onSaved(await post('/api/webhooks', body));
        return;
      }
      // Only what changed: saving an untouched switch must not enable an endpoint again.
      const changes = {};
      if (body.url !== endpoint.url) changes.url = body.url;
      if (body.description !== (endpoint.description || '')) changes.description = body.description;
      if (body.events.join() !== orderEvents(endpoint.events || []).join()) changes.events = body.events;
      if (body.include_notes !== !!endpoint.include_notes) changes.include_notes = body.include_notes;
      if (v.enabled !== !!endpoint.enabled) changes.enabled = v.enabled;
      onSaved(Object.keys(changes).length ? await patch(hookPath(endpoint.id), changes) : endpoint);
    });
  };
  const why = endpoint && !endpoint.enabled ? endpointState(endpoint).key : null;
  return (
    <Modal
      title={create ? t('whNewTitle') : t('whEditTitle')}
      onClose={onClose}
      wide
      {...modalWords()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" form="webhook-form" class="btn primary" disabled={f.busy} data-testid="webhook-save">
            {f.busy ? t('whSaving') : create ? t('whCreate') : t('whSave')}
          </button>
        </>
      }
    >
      <form id="webhook-form" class="wh-form" onSubmit={submit} novalidate data-testid="webhook-form">
        {f.error ? (
          <div class="notice notice-error" role="alert" data-testid="webhook-form-error">
            {f.error}
          </div>
        ) : null}
        <Field label={t('whUrl')} id="wh-url" error={f.errors.url} hint={t('whUrlHint')}>
          <input
            id="wh-url"
            class="mono"
            type="text"
            inputMode="url"
            autocomplete="off"
            spellcheck={false}
            dir="ltr"
            placeholder="https://hooks.example.com/parley"
            value={v.url}
            onInput={f.set('url')}
            autofocus
            data-testid="webhook-url"
          />
        </Field>
        <Field label={t('whDescription')} id="wh-desc" error={f.errors.description} hint={t('whDescriptionHint')}>
          <input id="wh-desc" maxLength={500} value={v.description} onInput={f.set('description')} data-testid="webhook-description" />
        </Field>
        <EventPicker value={v.events} onChange={(events) => f.setValues({ ...v, events })} error={f.errors.events} />
        <label class="check toggle-row wh-toggle">
          <input type="checkbox" checked={v.include_notes} onChange={f.set('include_notes')} data-testid="webhook-notes" />
          <span>
            <strong>{t('whIncludeNotes')}</strong>
            <span class="muted small"> — {t('whIncludeNotesHint')}</span>
          </span>
        </label>
        {f.errors.include_notes ? <div class="field-error">{f.errors.include_notes}</div> : null}
        {!create ? (
          <label class="check toggle-row wh-toggle">
            <input type="checkbox" role="switch" checked={v.enabled} onChange={f.set('enabled')} data-testid="webhook-enabled" />
            <span>
              <strong>{t('whEnabled')}</strong>
              <span class="muted small">
                {' — '}
                {v.enabled
                  ? why === 'gone'
                    ? t('whEnableClearsGone')
                    : why === 'failing_disabled'
                      ? t('whEnableClearsFailing')
                      : t('whEnabledHint')
                  : t('whDisabledHint')}
              </span>
            </span>
          </label>
        ) : null}
      </form>
    </Modal>
  );
}

/** A signing secret, shown once: after creating an endpoint and after rotating its secret. */
function SecretDialog({ endpoint, secret, rotated, onClose }) {
  return (
    <Modal
      title={rotated ? t('whSecretRotatedTitle') : t('whSecretTitle')}
      onClose={onClose}
      {...modalWords()}
      footer={
        <button type="button" class="btn primary" onClick={onClose} data-testid="webhook-secret-done">
          {t('whDone')}
        </button>
      }
    >
      <div class="wh-secret" data-testid="webhook-secret-dialog">
        <p>{t('whSecretIntro')}</p>
        <p class="wh-secret-url">
          <Bdi class="mono" text={endpoint.url} />
        </p>
        <div class="secret-row">
          <code class="secret" data-testid="webhook-secret">
            {secret}
          </code>
          <CopyButton text={secret} {...copyWords()} testid="webhook-secret-copy" />
        </div>
        <div class="notice notice-warn" data-testid="webhook-secret-once">
          <Icon name="alert" size={16} />
          <span>{t('whSecretOnce')}</span>
        </div>
        {rotated && endpoint.previous_secret_expires_at ? (
          <p class="muted small">{t('whSecretOldUntil', { when: fmtWhen(endpoint.previous_secret_expires_at) })}</p>
        ) : rotated ? (
          <p class="muted small">{t('whSecretOldGone')}</p>
        ) : null}
        <p class="muted small">{t('whSecretHowTo')}</p>
      </div>
    </Modal>
  );
}

// The grace periods offered (seconds) and how they read: none, 1 hour, 24 hours, 7 days.
const GRACES = [
  [0, null],
  [3600, [1, 'hour']],
  [86400, [24, 'hour']],
  [604800, [7, 'day']],
];

function RotateDialog({ endpoint, onClose, onRotated }) {
  const [grace, setGrace] = useState(86400);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onRotated(await post(`${hookPath(endpoint.id)}/rotate`, { grace_seconds: grace }));
    } catch (err) {
      const x = explainProblem(err);
      setError(x.error || Object.values(x.fields).join(' '));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t('whRotateTitle')}
      onClose={onClose}
      {...modalWords()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" form="webhook-rotate" class="btn danger" disabled={busy} data-testid="webhook-rotate-submit">
            {t('whRotate')}
          </button>
        </>
      }
    >
      <form id="webhook-rotate" onSubmit={submit} data-testid="webhook-rotate-form">
        {error ? (
          <div class="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        <p class="confirm-text">{t('whRotateIntro')}</p>
        <fieldset class="wh-grace">
          <legend>{t('whGrace')}</legend>
          <div class="pick-list" role="radiogroup">
            {GRACES.map(([s, span]) => (
              <label key={s} class={`pick ${grace === s ? 'on' : ''}`} data-testid="webhook-grace">
                <input type="radio" name="grace" value={s} checked={grace === s} onChange={() => setGrace(s)} data-testid={`webhook-grace-${s}`} />
                <span class="wh-grace-text">
                  <span class="pick-name">{span ? fmtUnit(...span) : t('whGraceNone')}</span>
                  <span class="muted small">{span ? t('whGraceBoth', { span: fmtUnit(...span) }) : t('whGraceNoneHint')}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      </form>
    </Modal>
  );
}

// --------------------------------------------------------------------- list

function EndpointRow({ ep }) {
  const s = ep.stats || {};
  return (
    <tr data-testid="webhook-row" data-id={ep.id}>
      <td data-label={t('whColEndpoint')} class="wh-cell-endpoint">
        <a href={hookHref(ep.id)} class="wh-url" data-testid="webhook-open">
          <Bdi text={ep.url} />
        </a>
        {ep.description ? <Bdi class="muted small wh-desc" text={ep.description} /> : null}
        {ep.bot_id ? (
          <span class="chip wh-bot" title={t('whBotHint')} data-testid="webhook-bot">
            {t('whBot')}
          </span>
        ) : null}
      </td>
      <td data-label={t('whColEvents')}>
        <EventsSummary events={ep.events} />
      </td>
      <td data-label={t('whColStatus')}>
        <StatePill ep={ep} />
        {ep.enabled && ep.failing_since ? <div class="muted small">{t('whFailingSince', { date: fmtWhen(ep.failing_since) })}</div> : null}
      </td>
      <td data-label={t('whColLast')} class="wh-nowrap">
        {s.last_attempt_at ? (
          <span class="wh-last">
            <Code status={s.last_status} error={s.last_status ? null : 'no_response'} />
            <span class="muted small" title={fmtWhen(s.last_attempt_at)}>
              {fmtAgo(s.last_attempt_at)}
            </span>
          </span>
        ) : (
          <span class="muted">{t('whNever')}</span>
        )}
      </td>
      <td data-label={t('whColPending')} class="num">
        <span class={s.pending ? 'wh-pending' : 'muted'} data-testid="webhook-pending">
          {s.pending || 0}
        </span>
      </td>
    </tr>
  );
}

function EndpointList() {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  const load = async () => {
    try {
      const r = await get('/api/webhooks');
      setList(r.data || []);
      setError(null);
      noteEndpoints(r.data || []);
    } catch (e) {
      setError(problemText(e));
    }
  };
  useEffect(() => {
    load();
  }, []);
  return (
    <div class="wh-page" lang={lang()}>
      <PageHead title={t('webhooks')} sub={t('whListSub')}>
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-webhook">
          <Icon name="plus" size={16} /> {t('whNew')}
        </button>
      </PageHead>
      {error ? (
        <div class="notice notice-error" role="alert" data-testid="webhooks-error">
          {error}
        </div>
      ) : null}
      <div class="card">
        {!list && !error ? (
          <div class="list-status">
            <Spinner label={t('whLoading')} />
          </div>
        ) : list && list.length ? (
          <table class="table stack wh-table" data-testid="webhooks-table">
            <thead>
              <tr>
                <th>{t('whColEndpoint')}</th>
                <th>{t('whColEvents')}</th>
                <th>{t('whColStatus')}</th>
                <th>{t('whColLast')}</th>
                <th class="num">{t('whColPending')}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((ep) => (
                <EndpointRow key={ep.id} ep={ep} />
              ))}
            </tbody>
          </table>
        ) : list ? (
          <div class="empty">
            <Icon name="webhook" size={28} />
            <strong>{t('whEmpty')}</strong>
            <p>{t('whEmptyHint')}</p>
          </div>
        ) : null}
      </div>
      {creating ? (
        <EndpointForm
          onClose={() => setCreating(false)}
          onSaved={(ep) => {
            setCreating(false);
            setCreated(ep);
            load();
          }}
        />
      ) : null}
      {created ? <SecretDialog endpoint={created} secret={created.secret} onClose={() => setCreated(null)} /> : null}
    </div>
  );
}

// ------------------------------------------------------------------- detail

const FILTERS = [
  ['', 'whFilterAll'],
  ['pending', 'whDlvPending'],
  ['delivered', 'whDlvDelivered'],
  ['failed', 'whDlvFailed'],
];

/**
 * The log after its first page was read again (newest first): that page is
 * the truth down to its oldest row; what was loaded below it stays when it
 * joins on (the loaded rows reach into the page), else the log starts over
 * from this page.
 */
function withFirstPage(log, fresh, nextBefore) {
  if (!log.loaded || !nextBefore) return { items: fresh, next: nextBefore };
  const oldest = fresh.length ? fresh[fresh.length - 1].id : 0;
  const joins = log.items.some((d) => d.id >= oldest);
  if (!joins) return { items: fresh, next: nextBefore };
  return { items: [...fresh, ...log.items.filter((d) => d.id < oldest)], next: log.next };
}

/** New rows first, known rows replaced by their newer state. */
function mergeDeliveries(fresh, old) {
  const byId = new Map(fresh.map((d) => [d.id, d]));
  const rest = old.filter((d) => !byId.has(d.id));
  return [...fresh, ...rest].sort((a, b) => b.id - a.id);
}

/** How long to wait before looking again while deliveries are pending: until the next attempt is due, 2 s to 30 s. */
function pollDelay(items) {
  const due = items.filter((d) => d.status === 'pending').map((d) => ts(d.next_attempt_at));
  if (!due.length) return null;
  const soonest = Math.min(...due);
  return Math.max(2000, Math.min(30000, soonest - Date.now() + 1000));
}

function Fact({ label, children, testid, wide }) {
  return (
    <div class={`wh-fact ${wide ? 'wh-fact-wide' : ''}`} data-testid={testid}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function DeliveryLog({ log, filter, onFilter, onMore, onOpen, onRefresh }) {
  return (
    <section class="card section wh-log" data-testid="webhook-deliveries">
      <div class="section-head wh-log-head">
        <h2>{t('whDeliveries')}</h2>
        <div class="wh-log-tools">
          <div class="segmented small" role="group" aria-label={t('whFilter')}>
            {FILTERS.map(([value, key]) => (
              <button
                type="button"
                key={value || 'all'}
                class={filter === value ? 'on' : ''}
                aria-pressed={filter === value ? 'true' : 'false'}
                onClick={() => onFilter(value)}
                data-testid={`delivery-filter-${value || 'all'}`}
              >
                {t(key)}
              </button>
            ))}
          </div>
          <button type="button" class="icon-btn" onClick={onRefresh} aria-label={t('whRefresh')} title={t('whRefresh')} data-testid="deliveries-refresh">
            <Icon name="refresh" size={16} />
          </button>
        </div>
      </div>
      {log.error ? (
        <div class="notice notice-error" role="alert">
          {log.error}
        </div>
      ) : null}
      {!log.loaded && !log.error ? (
        <div class="list-status">
          <Spinner label={t('whLoading')} />
        </div>
      ) : log.items.length ? (
        <table class="table stack wh-deliveries" data-testid="deliveries-table">
          <thead>
            <tr>
              <th>{t('whColEvent')}</th>
              <th>{t('whColEventId')}</th>
              <th>{t('whColDelivery')}</th>
              <th class="num">{t('whColAttempts')}</th>
              <th>{t('whColLastStatus')}</th>
              <th>{t('whColCreated')}</th>
              <th>{t('whColNextRetry')}</th>
            </tr>
          </thead>
          <tbody>
            {log.items.map((d) => (
              <tr key={d.id} class="wh-click" onClick={() => onOpen(d.id)} data-testid="delivery-row" data-id={d.id} data-type={d.type}>
                <td data-label={t('whColEvent')}>
                  <div>
                    <button
                      type="button"
                      class="link-btn wh-event-link"
                      onClick={(e) => {
                        e.stopPropagation();
                        onOpen(d.id);
                      }}
                      data-testid="delivery-open"
                    >
                      {eventLabel(d.type)}
                    </button>
                    <div class="mono muted small wh-event-type">{d.type}</div>
                  </div>
                </td>
                <td data-label={t('whColEventId')} class="wh-phone-hide">
                  <span class="mono small wh-evt" title={d.event_id}>
                    {d.event_id}
                  </span>
                </td>
                <td data-label={t('whColDelivery')}>
                  <DeliveryPill status={d.status} />
                </td>
                <td data-label={t('whColAttempts')} class="num">
                  {d.attempts}
                </td>
                <td data-label={t('whColLastStatus')}>
                  <Code status={d.last_status} error={d.last_error} />
                </td>
                <td data-label={t('whColCreated')} class="wh-nowrap">
                  <span class="small">{fmtWhen(d.created_at)}</span>
                </td>
                <td data-label={t('whColNextRetry')} class={`wh-nowrap ${d.status === 'pending' && d.next_attempt_at ? '' : 'wh-phone-hide'}`}>
                  {d.status === 'pending' && d.next_attempt_at ? (
                    <span class="small" title={fmtWhen(d.next_attempt_at)}>
                      {fmtAgo(d.next_attempt_at)}
                    </span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div class="empty">
          <Icon name="send" size={24} />
          <strong>{filter ? t('whNoDeliveriesFiltered') : t('whNoDeliveries')}</strong>
          {!filter ? <p>{t('whNoDeliveriesHint')}</p> : null}
        </div>
      )}
      {log.next ? (
        <div class="wh-more">
          <button type="button" class="btn" onClick={onMore} disabled={log.loading} data-testid="deliveries-more">
            {log.loading ? t('whLoading') : t('whLoadMore')}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function EndpointPage({ id }) {
  const [ep, setEp] = useState(null);
  const [error, setError] = useState(null);
  const [missing, setMissing] = useState(false);
  const [filter, setFilter] = useState('');
  const [log, setLog] = useState({ items: [], next: null, loaded: false, loading: false, error: null });
  const [dialog, setDialog] = useState(null); // {type: 'edit' | 'rotate' | 'secret' | 'delivery', ...}
  const [busy, setBusy] = useState(false);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const show = (e) => {
    setEp(e);
    noteEndpoint(e);
  };
  const fail = (e) => {
    if (e && e.status === 404) {
      setMissing(true);
      forgetEndpoint(id);
    } else setError(problemText(e));
  };
  const loadEndpoint = async () => {
    try {
      show(await get(hookPath(id)));
    } catch (e) {
      fail(e);
    }
  };
  const query = (status, before) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set('status', status);
    if (before) q.set('before', String(before));
    return `${hookPath(id)}/deliveries?${q}`;
  };
  /** The first page again, merged into what is loaded (polling, refresh, after a test event). */
  const refreshLog = async (status = filterRef.current) => {
    try {
      const r = await get(query(status));
      if (status !== filterRef.current) return;
      setLog((l) => ({ ...l, ...withFirstPage(l, r.data || [], r.next_before), loaded: true, error: null }));
    } catch (e) {
      setLog((l) => ({ ...l, loaded: true, error: problemText(e) }));
    }
  };
  const more = async () => {
    setLog((l) => ({ ...l, loading: true }));
    const status = filterRef.current;
    try {
      const r = await get(query(status, log.next));
      if (status !== filterRef.current) return;
      setLog((l) => ({ ...l, items: mergeDeliveries(l.items, r.data || []), next: r.next_before, loading: false }));
    } catch (e) {
      setLog((l) => ({ ...l, loading: false, error: problemText(e) }));
    }
  };
  const changeFilter = (value) => {
    setFilter(value);
    filterRef.current = value;
    setLog({ items: [], next: null, loaded: false, loading: false, error: null });
    refreshLog(value);
  };

  useEffect(() => {
    loadEndpoint();
    refreshLog('');
  }, []);

  // While deliveries are pending, look again when the next attempt is due.
  useEffect(() => {
    const wait = pollDelay(log.items);
    if (wait === null || missing) return undefined;
    const timer = setTimeout(() => {
      refreshLog();
      loadEndpoint();
    }, wait);
    return () => clearTimeout(timer);
  }, [log, missing]);

  const act = async (fn) => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      if (e && e.status === 404) fail(e);
      else toast(problemText(e), 'error', 8000);
    } finally {
      setBusy(false);
    }
  };
  const sendTest = () =>
    act(async () => {
      const r = await post(`${hookPath(id)}/test`);
      toast(t('whTestSent'), 'success', 3000);
      if (r && r.delivery && (!filterRef.current || filterRef.current === r.delivery.status)) {
        setLog((l) => ({ ...l, items: mergeDeliveries([r.delivery], l.items), loaded: true }));
      } else refreshLog();
      loadEndpoint();
    });
  const enableAgain = () =>
    act(async () => {
      show(await patch(hookPath(id), { enabled: true }));
      toast(t('whEnabledAgain'), 'success', 3000);
    });
  const remove = async () => {
    const ok = await confirmDialog({
      title: t('whDeleteTitle'),
      body: t('whDeleteBody', { url: isolate(ep.url) }),
      confirm: t('whDelete'),
      cancel: t('cancel'),
      close: t('closeDialog'),
      lang: lang(),
      danger: true,
    });
    if (!ok) return;
    act(async () => {
      await del(hookPath(id));
      forgetEndpoint(id);
      toast(t('whDeleted'), 'success', 3000);
      navigate({ area: 'admin', admin: 'webhooks' });
    });
  };

  if (missing) {
    return (
      <div class="wh-page" lang={lang()}>
        <BackLink />
        <div class="card">
          <div class="empty" data-testid="webhook-missing">
            <Icon name="webhook" size={28} />
            <strong>{t('whErrNotFound')}</strong>
            <p>
              <a href="#/admin/webhooks">{t('whBackToList')}</a>
            </p>
          </div>
        </div>
      </div>
    );
  }
  if (!ep) {
    return (
      <div class="wh-page" lang={lang()}>
        <BackLink />
        {error ? (
          <div class="notice notice-error" role="alert" data-testid="webhook-error">
            {error}
          </div>
        ) : (
          <div class="list-status">
            <Spinner label={t('whLoading')} />
          </div>
        )}
      </div>
    );
  }
  const st = endpointState(ep);
  const s = ep.stats || {};
  return (
    <div class="wh-page wh-detail" lang={lang()} data-testid="webhook-page" data-id={ep.id}>
      <BackLink />
      <PageHead title={<Bdi class="wh-title" text={ep.url} />} sub={ep.description ? <Bdi text={ep.description} /> : null}>
        <button type="button" class="btn primary" onClick={sendTest} disabled={busy} data-testid="webhook-test">
          <Icon name="send" size={15} /> {t('whSendTest')}
        </button>
        <button type="button" class="btn" onClick={() => setDialog({ type: 'edit' })} disabled={busy} data-testid="webhook-edit">
          <Icon name="edit" size={15} /> {t('whEdit')}
        </button>
        <button type="button" class="btn" onClick={() => setDialog({ type: 'rotate' })} disabled={busy} data-testid="webhook-rotate">
          <Icon name="key" size={15} /> {t('whRotate')}
        </button>
        <button type="button" class="btn danger-ghost" onClick={remove} disabled={busy} data-testid="webhook-delete">
          <Icon name="trash" size={15} /> {t('whDelete')}
        </button>
      </PageHead>
      {error ? (
        <div class="notice notice-error" role="alert" data-testid="webhook-error">
          {error}
        </div>
      ) : null}
      {ep.bot_id ? (
        <div class="notice notice-info wh-bot-notice" data-testid="webhook-bot">
          <span>{t('whBotHint')}</span>
          <a href={`#/admin/bots/${ep.bot_id}`} class="wh-bot-link" data-testid="webhook-bot-open">
            {t('whBotOpen')}
          </a>
        </div>
      ) : null}
      {!ep.enabled ? (
        <div
          class={`notice ${st.key === 'admin' ? 'notice-info' : 'notice-error'} wh-disabled`}
          data-testid="webhook-disabled"
          data-reason={ep.disabled_reason || ''}
        >
          <span>
            {st.key === 'gone'
              ? t('whDisabledGone', { when: fmtWhen(ep.disabled_at) })
              : st.key === 'failing_disabled'
                ? t('whDisabledFailing', { when: fmtWhen(ep.disabled_at) })
                : t('whDisabledAdmin')}
          </span>
          <button type="button" class="btn small" onClick={enableAgain} disabled={busy} data-testid="webhook-enable">
            {t('whEnableAgain')}
          </button>
        </div>
      ) : null}
      <section class="card section" data-testid="webhook-overview">
        <dl class="wh-facts">
          <Fact label={t('whColStatus')}>
            <StatePill ep={ep} />
            {ep.enabled && ep.failing_since ? <div class="muted small">{t('whFailingSince', { date: fmtWhen(ep.failing_since) })}</div> : null}
          </Fact>
          <Fact label={t('whColLast')}>
            {s.last_attempt_at ? (
              <span class="wh-last">
                <Code status={s.last_status} error={s.last_status ? null : 'no_response'} />
                <span class="small">{fmtWhen(s.last_attempt_at)}</span>
              </span>
            ) : (
              <span class="muted">{t('whNever')}</span>
            )}
          </Fact>
          <Fact label={t('whLast24h')} wide>
            <span class="wh-24h">
              <span class="wh-code-ok">{t('whDeliveredN', { n: s.delivered_24h || 0 })}</span>
              <span class={s.failed_24h ? 'wh-code-bad' : 'muted'}>{t('whFailedN', { n: s.failed_24h || 0 })}</span>
              <span class={s.pending ? 'wh-pending' : 'muted'}>{t('whPendingN', { n: s.pending || 0 })}</span>
            </span>
          </Fact>
          <Fact label={t('whEvents')} testid="webhook-events-list" wide>
            <div class="chips">
              {orderEvents(ep.events || []).map((e) => (
                <span class="chip" key={e} title={e}>
                  {eventLabel(e)}
                </span>
              ))}
            </div>
          </Fact>
          <Fact label={t('whIncludeNotes')}>{ep.include_notes ? t('whYes') : t('whNo')}</Fact>
          <Fact label={t('whSecret')}>
            <span class="small">
              {ts(ep.secret_rotated_at) - ts(ep.created_at) > 1000
                ? t('whSecretRotatedAt', { when: fmtWhen(ep.secret_rotated_at) })
                : t('whSecretCreatedAt', { when: fmtWhen(ep.created_at) })}
            </span>
            {ts(ep.previous_secret_expires_at) > Date.now() ? (
              <div class="muted small">{t('whSecretOldUntil', { when: fmtWhen(ep.previous_secret_expires_at) })}</div>
            ) : null}
          </Fact>
        </dl>
      </section>
      <DeliveryLog
        log={log}
        filter={filter}
        onFilter={changeFilter}
        onMore={more}
        onRefresh={() => {
          refreshLog();
          loadEndpoint();
        }}
        onOpen={(did) => setDialog({ type: 'delivery', id: did })}
      />
      {dialog && dialog.type === 'edit' ? (
        <EndpointForm
          endpoint={ep}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setDialog(null);
            show(saved);
            toast(t('whSaved'), 'success', 2500);
          }}
        />
      ) : null}
      {dialog && dialog.type === 'rotate' ? (
        <RotateDialog
          endpoint={ep}
          onClose={() => setDialog(null)}
          onRotated={(r) => {
            const { secret, ...rest } = r;
            show(rest);
            setDialog({ type: 'secret', secret, endpoint: rest });
          }}
        />
      ) : null}
      {dialog && dialog.type === 'secret' ? <SecretDialog endpoint={dialog.endpoint} secret={dialog.secret} rotated onClose={() => setDialog(null)} /> : null}
      {dialog && dialog.type === 'delivery' ? (
        <DeliveryDetail
          endpointId={id}
          deliveryId={dialog.id}
          onClose={() => setDialog(null)}
          onRedelivered={(d) => {
            setLog((l) => ({ ...l, items: !filterRef.current || filterRef.current === d.status ? mergeDeliveries([d], l.items) : l.items }));
            setDialog({ type: 'delivery', id: d.id });
            loadEndpoint();
          }}
        />
      ) : null}
    </div>
  );
}

function BackLink() {
  return (
    <a href="#/admin/webhooks" class="wh-back" data-testid="webhook-back">
      <Icon name="chevronLeft" size={16} /> {t('webhooks')}
    </a>
  );
}

// ----------------------------------------------------------------- delivery

/** The body as sent, indented when it is JSON (shown as text, never as markup). */
function pretty(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return String(body == null ? '' : body);
  }
}

function Headers({ headers }) {
  const list = Object.entries(headers || {});
  if (!list.length) return <p class="muted small">{t('whNoHeaders')}</p>;
  return (
    <table class="wh-headers" data-testid="delivery-headers">
      <tbody>
        {list.map(([k, val]) => (
          <tr key={k}>
            <th class="mono">{k}</th>
            <td class="mono">{String(val)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Attempt({ a, headers }) {
  return (
    <li class="wh-attempt" data-testid="delivery-attempt" data-attempt={a.attempt}>
      <div class="wh-attempt-head">
        <strong>{t('whAttemptN', { n: a.attempt })}</strong>
        <Code status={a.response_status} error={a.error} />
        {a.latency_ms != null ? <span class="muted small">{t('whLatency', { ms: a.latency_ms })}</span> : null}
        <span class="muted small wh-attempt-time">{fmtWhen(a.started_at)}</span>
      </div>
      {a.response_status && deliveryError(a.error) ? <div class="field-error">{deliveryError(a.error)}</div> : null}
      {a.response_excerpt ? (
        <>
          <div class="wh-label">{t('whResponse')}</div>
          <pre class="wh-pre wh-excerpt" data-testid="attempt-excerpt">
            {a.response_excerpt}
          </pre>
        </>
      ) : null}
      {headers && a.request_headers && Object.keys(a.request_headers).length ? (
        <details class="wh-attempt-headers">
          <summary>{t('whHeadersSent')}</summary>
          <Headers headers={a.request_headers} />
        </details>
      ) : null}
    </li>
  );
}

function DeliveryDetail({ endpointId, deliveryId, onClose, onRedelivered }) {
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const path = `${hookPath(endpointId)}/deliveries/${deliveryId}`;
  const load = async () => {
    try {
      setD(await get(path));
      setError(null);
    } catch (e) {
      setError(problemText(e));
    }
  };
  // A delivery just opened (a redelivery, a test event) is often in flight:
  // its next_attempt_at is then the lease's end, up to a minute away, so for
  // a while it is looked at again every 2 s rather than at that time.
  const openedAt = useRef(0);
  useEffect(() => {
    openedAt.current = Date.now();
    setD(null);
    load();
  }, [deliveryId]);
  useEffect(() => {
    const due = d ? pollDelay([d]) : null;
    if (due === null) return undefined;
    const wait = Date.now() - openedAt.current < 20000 ? Math.min(due, 2000) : due;
    const timer = setTimeout(load, wait);
    return () => clearTimeout(timer);
  }, [d]);
  const redeliver = async () => {
    setBusy(true);
    try {
      const r = await post(`${path}/redeliver`);
      toast(t('whRedelivered'), 'success', 3000);
      onRedelivered(r.delivery);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  // The contract names both the delivery's count and the detail's list "attempts".
  const attempts = d && Array.isArray(d.attempts) ? d.attempts : [];
  const last = attempts[attempts.length - 1];
  return (
    <Modal
      title={d ? t('whDeliveryTitle', { id: d.id, event: eventLabel(d.type) }) : t('whDelivery')}
      onClose={onClose}
      wide
      {...modalWords()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('whClose')}
          </button>
          <button type="button" class="btn primary" onClick={redeliver} disabled={busy || !d} data-testid="delivery-redeliver">
            <Icon name="refresh" size={15} /> {t('whRedeliver')}
          </button>
        </>
      }
    >
      <div class="wh-delivery" data-testid="delivery-detail" data-id={deliveryId}>
        {error ? (
          <div class="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        {!d ? (
          !error ? (
            <div class="list-status">
              <Spinner label={t('whLoading')} />
            </div>
          ) : null
        ) : (
          <>
            <dl class="wh-facts">
              <Fact label={t('whColDelivery')}>
                <DeliveryPill status={d.status} />
              </Fact>
              <Fact label={t('whColEvent')}>
                <span class="mono small">{d.type}</span>
              </Fact>
              <Fact label={t('whColEventId')} wide>
                <span class="mono small wh-break" data-testid="delivery-event-id">
                  {d.event_id}
                </span>
              </Fact>
              <Fact label={t('whColAttempts')}>{typeof d.attempts === 'number' ? d.attempts : attempts.length}</Fact>
              <Fact label={t('whColCreated')}>
                <span class="small">{fmtWhen(d.created_at)}</span>
              </Fact>
              {d.status === 'delivered' ? (
                <Fact label={t('whDeliveredAt')}>
                  <span class="small">{fmtWhen(d.delivered_at)}</span>
                </Fact>
              ) : d.status === 'pending' ? (
                <Fact label={t('whColNextRetry')}>
                  <span class="small">{d.next_attempt_at ? `${fmtWhen(d.next_attempt_at)} (${fmtAgo(d.next_attempt_at)})` : '—'}</span>
                </Fact>
              ) : null}
            </dl>
            <h3 class="wh-h3">{attempts.length > 1 ? t('whRequestHeadersLatest') : t('whRequestHeaders')}</h3>
            {last ? <Headers headers={last.request_headers} /> : <p class="muted small">{t('whNotSentYet')}</p>}
            <div class="wh-h3-row">
              <h3 class="wh-h3">{t('whBody')}</h3>
              <CopyButton text={d.body || ''} {...copyWords()} label={t('whCopyBody')} class="small" testid="delivery-copy-body" />
            </div>
            <pre class="wh-pre wh-body" data-testid="delivery-body">
              {pretty(d.body)}
            </pre>
            <p class="muted small">{t('whBodyHint')}</p>
            <h3 class="wh-h3">{t('whAttempts', { n: attempts.length })}</h3>
            {attempts.length ? (
              <ol class="wh-attempts">
                {attempts.map((a) => (
                  <Attempt key={a.attempt} a={a} headers={attempts.length > 1} />
                ))}
              </ol>
            ) : (
              <p class="muted small">{t('whNotSentYet')}</p>
            )}
          </>
        )}
      </div>
    </Modal>
  );
}

// --------------------------------------------------------------------- page

export function Webhooks() {
  const id = S.view.item;
  return id ? <EndpointPage key={id} id={id} /> : <EndpointList />;
}
