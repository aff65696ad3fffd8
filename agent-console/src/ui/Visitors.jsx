// Visitors online (#/visitors, every agent): everyone on the agent's sites
// right now, read every 5 s while shown (store/visitors.js). Per visitor:
// flag and place, name or "Visitor #12", the page they are on (title; the
// URL under it and on hover), time on the site (ticking), where they came
// from, new or returning, and the chat: a "Chatting" badge that opens the
// conversation, the state of an invitation ("Invited", "Seen"), or Invite
// (a dialog with the message; the server's refusals in words). Filters by
// site, country, chatting, new/returning and text; a table on wide
// screens, cards on a phone. Everything visitors send (names, URLs,
// titles, referrers) is rendered as text, isolated (<bdi>).
import { useEffect, useRef, useState } from 'preact/hooks';
import { S, closeDialog, inviteVisitor, onlineFilterActive, openDialog, openVisitorConv, setOnlineFilter, toast, watchOnline } from '../store/index.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { fmtTime, ts } from '../../../ui-shared/time.js';
import { lang, t } from '../lib/i18n.js';
import {
  INVITE_MAX,
  countryName,
  flag,
  flagPrefix,
  flagsSupported,
  fmtCounter,
  fmtNum,
  hostOf,
  inviteProblemText,
  placeText,
  shortUrl,
  visitorLabel,
} from '../lib/visitors.js';
import { Avatar, Bdi, Field, Modal, Spinner, useNow } from './common.jsx';
import { Icon } from './icons.jsx';

/** A country's flag, its name on hover (and for screen readers). */
export function Flag({ country, size }) {
  const f = flag(country);
  if (!f) return null;
  const name = countryName(country);
  // Where flags are not drawn, the code in a small badge instead of two boxes.
  const drawn = flagsSupported();
  return (
    <span
      class={`flag ${size === 'big' ? 'flag-big' : ''} ${drawn ? '' : 'flag-code'}`}
      title={name}
      role="img"
      aria-label={name}
      data-testid="flag"
      data-country={String(country).toUpperCase()}
    >
      {drawn ? f : String(country).toUpperCase()}
    </span>
  );
}

/** The on-site time of a row, from the server's clock (no skew with this computer's). */
function onSiteMs(row, now) {
  const server = S.online.now ? ts(S.online.now) : S.online.receivedAt;
  return server - ts(row.visit_started_at) + (now - S.online.receivedAt);
}

function ChatCell({ row }) {
  const name = visitorLabel(row);
  if (row.chatting) {
    return (
      <button
        type="button"
        class="pill pill-chatting vis-chatting"
        onClick={() => openVisitorConv(row.chatting)}
        aria-label={t('visOpenChat', { name: isolate(name) })}
        title={t('visOpenChat', { name: isolate(name) })}
        data-testid="vis-chatting"
      >
        <Icon name="message" size={12} /> {t('visChatting')}
      </button>
    );
  }
  const inv = row.invitation;
  if (inv && (inv.status === 'pending' || inv.status === 'shown')) {
    const seen = inv.status === 'shown';
    return (
      <span
        class={`pill ${seen ? 'pill-seen' : 'pill-invited'}`}
        title={t(seen ? 'visSeenTitle' : 'visInvitedTitle')}
        data-testid="vis-invitation"
        data-status={inv.status}
      >
        <Icon name={seen ? 'eye' : 'send'} size={12} /> {t(seen ? 'visSeen' : 'visInvited')}
      </span>
    );
  }
  return (
    <span class="vis-chat-cell">
      <button
        type="button"
        class="btn small"
        onClick={() => openDialog({ type: 'visitorInvite', visitor: row })}
        aria-label={t('visInviteName', { name: isolate(name) })}
        data-testid="vis-invite"
      >
        <Icon name="message" size={14} /> {t('visInvite')}
      </button>
      {row.widget_closed ? (
        <span class="muted small vis-closed" title={t('visClosedWidgetTitle')}>
          {t('visClosedWidget')}
        </span>
      ) : null}
    </span>
  );
}

function Row({ row, now }) {
  const name = visitorLabel(row);
  const loc = row.location || {};
  const place = placeText(loc);
  const page = row.page || {};
  const ref = hostOf(row.referrer);
  const pages = row.pages_this_visit || 0;
  return (
    <tr data-testid="vis-row" data-id={row.visitor_id} class={row.chatting ? 'is-chatting' : ''}>
      <td class="vis-who">
        <div class="vis-who-main">
          <Avatar name={name} seed={`v${row.visitor_id}`} size={30} />
          <div class="vis-who-text">
            <div class="vis-name-line">
              <Bdi class="vis-name" text={name} testid="vis-name" />
              {loc.country ? <Flag country={loc.country} /> : null}
            </div>
            <div class="muted small ellipsis vis-place" data-testid="vis-place" title={place || undefined}>
              {place ? <Bdi text={place} /> : t('visUnknownPlace')}
            </div>
          </div>
        </div>
      </td>
      <td class="vis-page">
        <Bdi class="vis-page-title ellipsis" text={page.title || t('visNoTitle')} title={page.url || ''} testid="vis-page-title" />
        <Bdi class="vis-page-url ellipsis" text={shortUrl(page.url)} title={page.url || ''} testid="vis-page-url" />
      </td>
      <td class="vis-time">
        <span class="vis-counter" data-testid="vis-time">
          {fmtCounter(onSiteMs(row, now))}
        </span>
        <span class="muted small vis-pages" title={pages === 1 ? t('visPage1') : t('visPagesN', { n: fmtNum(pages) })}>
          {pages === 1 ? t('visPagesCount1') : t('visPagesCount', { n: fmtNum(pages) })}
        </span>
      </td>
      <td class="vis-ref">
        {ref ? <Bdi class="ellipsis" text={ref} title={row.referrer} testid="vis-referrer" /> : <span class="muted">{t('visDirect')}</span>}
      </td>
      <td class="vis-visits" data-testid="vis-visits">
        {row.returning ? (
          <>
            <span class="pill pill-returning">{t('visReturningYes')}</span>
            <span class="muted small vis-nvisits">{t('visVisitsN', { n: fmtNum(row.visits || 2) })}</span>
          </>
        ) : (
          <span class="pill pill-new-visitor">{t('visNew')}</span>
        )}
      </td>
      <td class="vis-chat">
        <ChatCell row={row} />
      </td>
    </tr>
  );
}

function Filters() {
  const f = S.onlineFilter;
  const sites = [...S.online.sites.entries()].sort((a, b) => String(a[1]).localeCompare(String(b[1])));
  const countries = [...S.online.countries].map((c) => [c, countryName(c)]).sort((a, b) => a[1].localeCompare(b[1], lang()));
  if (f.country && !S.online.countries.has(f.country)) countries.push([f.country, countryName(f.country)]);
  return (
    <div class="vis-filters" role="group" aria-label={t('visFilters')} data-testid="vis-filters">
      <div class="search vis-search">
        <Icon name="search" size={16} />
        <input
          type="search"
          placeholder={t('visSearch')}
          aria-label={t('visSearchLabel')}
          value={f.q}
          maxLength={200}
          onInput={(e) => setOnlineFilter({ q: e.currentTarget.value })}
          data-testid="vis-search"
        />
      </div>
      {sites.length > 1 || f.site ? (
        <select aria-label={t('visAllSites')} value={f.site} onChange={(e) => setOnlineFilter({ site: e.currentTarget.value })} data-testid="vis-filter-site">
          <option value="">{t('visAllSites')}</option>
          {sites.map(([id, name]) => (
            <option key={id} value={String(id)}>
              {name}
            </option>
          ))}
        </select>
      ) : null}
      <select
        aria-label={t('visAllCountries')}
        value={f.country}
        onChange={(e) => setOnlineFilter({ country: e.currentTarget.value })}
        data-testid="vis-filter-country"
      >
        <option value="">{t('visAllCountries')}</option>
        {countries.map(([c, name]) => (
          <option key={c} value={c}>
            {`${flagPrefix(c)}${name}`}
          </option>
        ))}
      </select>
      <select
        aria-label={t('visChattingAny')}
        value={f.chatting}
        onChange={(e) => setOnlineFilter({ chatting: e.currentTarget.value })}
        data-testid="vis-filter-chatting"
      >
        <option value="">{t('visChattingAny')}</option>
        <option value="true">{t('visChattingYes')}</option>
        <option value="false">{t('visChattingNo')}</option>
      </select>
      <select
        aria-label={t('visReturningAny')}
        value={f.returning}
        onChange={(e) => setOnlineFilter({ returning: e.currentTarget.value })}
        data-testid="vis-filter-returning"
      >
        <option value="">{t('visReturningAny')}</option>
        <option value="false">{t('visReturningNo')}</option>
        <option value="true">{t('visReturningYes')}</option>
      </select>
      {onlineFilterActive() ? (
        <button
          type="button"
          class="link-btn"
          onClick={() => setOnlineFilter({ site: '', country: '', chatting: '', returning: '', q: '' })}
          data-testid="vis-filter-clear"
        >
          {t('visClear')}
        </button>
      ) : null}
    </div>
  );
}

export function Visitors() {
  const now = useNow(1000);
  useEffect(() => watchOnline(), []);
  const o = S.online;
  const rows = o.rows || [];
  const count = o.rows
    ? o.total > rows.length
      ? t('visCountShowing', { n: fmtNum(o.total), shown: fmtNum(rows.length) })
      : t('visCount', { n: fmtNum(o.total) })
    : '';
  const filtered = onlineFilterActive();
  return (
    <div class="admin visitors" lang={lang()} data-testid="visitors">
      <header class="admin-head">
        <div>
          <h1>{t('visOnlineTitle')}</h1>
          <p class="muted">{t('visOnlineSub')}</p>
        </div>
        <div class="admin-head-actions vis-head-count">
          {o.rows ? (
            <strong class="vis-count" data-testid="vis-count" data-total={o.total}>
              {count}
            </strong>
          ) : null}
          {o.receivedAt ? <span class="muted small vis-updated">{t('visUpdated', { time: fmtTime(new Date(o.receivedAt).toISOString()) })}</span> : null}
        </div>
      </header>
      <Filters />
      {o.error ? (
        <div class="notice notice-error" role="alert" data-testid="vis-error">
          {t('visError', { error: o.error })}
        </div>
      ) : null}
      <div class="card vis-card">
        {!o.rows && !o.error ? (
          <div class="list-status">
            <Spinner label={t('visLoading')} />
          </div>
        ) : rows.length ? (
          <table class="table vis-table" data-testid="vis-table">
            <thead>
              <tr>
                <th scope="col">{t('visColVisitor')}</th>
                <th scope="col">{t('visColPage')}</th>
                <th scope="col">{t('visColTime')}</th>
                <th scope="col">{t('visColReferrer')}</th>
                <th scope="col">{t('visColVisits')}</th>
                <th scope="col">{t('visColStatus')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <Row key={r.visitor_id} row={r} now={now} />
              ))}
            </tbody>
          </table>
        ) : o.rows ? (
          <div class="empty" data-testid="vis-empty">
            <Icon name={filtered ? 'search' : 'eye'} size={28} />
            <strong>{filtered ? t('visNoneMatch') : t('visEmpty')}</strong>
            <p>{filtered ? t('visNoneMatchHint') : t('visEmptyHint')}</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}

/** The invitation dialog: the message (a friendly default in the agent's language), its counter, Send. */
export function VisitorInviteDialog({ visitor }) {
  const [text, setText] = useState(() => t('invDefault'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const area = useRef(null);
  const name = visitorLabel(visitor);
  const n = [...text].length;
  const empty = !text.trim();
  const long = n > INVITE_MAX;
  const submit = async (e) => {
    e.preventDefault();
    if (empty || long || busy) return;
    setBusy(true);
    setError(null);
    try {
      await inviteVisitor(visitor, text.trim());
      closeDialog();
      toast(t('invSent', { name: isolate(name) }), 'success', 3000);
    } catch (err) {
      setError(inviteProblemText(err));
      setBusy(false);
    }
  };
  useEffect(() => {
    if (area.current) area.current.select();
  }, []);
  return (
    <Modal
      title={
        <>
          {t('invTitle').split('{name}')[0]}
          <Bdi text={name} />
          {t('invTitle').split('{name}')[1] || ''}
        </>
      }
      label={t('invTitle', { name: isolate(name) })}
      lang={lang()}
      closeLabel={t('closeDialog')}
      onClose={closeDialog}
      footer={
        <>
          <button type="button" class="btn" onClick={closeDialog}>
            {t('cancel')}
          </button>
          <button type="submit" form="vis-invite-form" class="btn primary" disabled={busy || empty || long} data-testid="vis-invite-send">
            <Icon name="send" size={14} /> {busy ? t('invSending') : t('invSend')}
          </button>
        </>
      }
    >
      <form id="vis-invite-form" onSubmit={submit} data-testid="vis-invite-dialog">
        <Field
          label={t('invMessage')}
          id="vis-invite-message"
          error={empty ? t('invEmpty') : long ? t('invTooLong', { max: fmtNum(INVITE_MAX) }) : null}
          hint={t('invHint')}
        >
          <textarea
            id="vis-invite-message"
            ref={area}
            rows={4}
            dir="auto"
            autofocus
            value={text}
            class={empty || long ? 'invalid' : ''}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setError(null);
            }}
            data-testid="vis-invite-message"
          />
        </Field>
        <div class={`vis-counter-line small ${long ? 'error-text' : 'muted'}`} data-testid="vis-invite-counter" aria-live="polite">
          {t('invCounter', { n: fmtNum(n), max: fmtNum(INVITE_MAX) })}
        </div>
        {error ? (
          <div class="notice notice-error" role="alert" data-testid="vis-invite-error">
            {error}
          </div>
        ) : null}
      </form>
    </Modal>
  );
}
