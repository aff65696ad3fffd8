import { S, currentList, getDraft, isPrivileged, loadClosed, pendingFor, searchClosed, select, unreadCount } from '../store/index.js';
import { agentName, filterActive, filterConvs, isParticipant, labelName } from '../store/index.js';
import { fmtDuration, relTime, ts } from '../../../ui-shared/time.js';
import { messageSummary } from '../lib/filetypes.js';
import { visitorName } from '../lib/util.js';
import { authorOf, botSentence, isHandoffNote, statusText } from '../lib/bots.js';
import { t } from '../lib/i18n.js';
import { Avatar, Bdi, Spinner, useNow } from './common.jsx';
import { Icon } from './icons.jsx';
import { ListFilter, RowTriage } from './LabelChips.jsx';
import { eventText, isNoteLine } from '../lib/eventlines.js';
import { SlaClock } from './SlaClock.jsx';
import { Flag } from './Visitors.jsx';

const TITLES = { queue: 'navQueue', mine: 'navMine', all: 'navAll', closed: 'navClosed' };
const EMPTY = {
  queue: ['emptyQueue', 'emptyQueueHint'],
  mine: ['emptyMine', 'emptyMineHint'],
  all: ['emptyAll', 'emptyAllHint'],
  closed: ['emptyClosed', 'emptyClosedHint'],
};

/** The last message: { who (an agent's or a bot's name, 'You', 'API', 'Note', the handoff or ''), text, note }. */
function preview(c) {
  const st = S.msgs.get(c.id);
  if (st && st.list.length) {
    for (let i = st.list.length - 1; i >= 0; i--) {
      const m = st.list[i];
      if (m.kind === 'message') {
        const a = authorOf(m, S.me.id);
        return { who: a.kind === 'visitor' ? '' : a.name, text: messageSummary(m), note: false };
      }
      if (isNoteLine(m)) return { who: '', text: eventText(m, agentName, labelName), note: true };
      if (m.kind === 'note') return { who: isHandoffNote(m) ? t('handoffShort') : 'Note', text: messageSummary(m), note: true };
    }
  }
  if (c.last_message) return { who: '', text: c.last_message, note: false };
  return null;
}

/** "Ann: text", each part isolated: a name or a body cannot reorder the other. */
function Preview({ p }) {
  return (
    <>
      {p.who ? (
        <>
          <Bdi text={p.who} />:{' '}
        </>
      ) : null}
      <Bdi text={p.text} />
    </>
  );
}

function WaitTime({ since }) {
  const now = useNow(1000);
  const ms = now - ts(since);
  return <span class={`wait ${ms > 120000 ? 'wait-long' : ''}`}>{fmtDuration(ms)}</span>;
}

function Item({ c, active, list }) {
  const unread = unreadCount(c.id);
  const isNew = c.status === 'queued' && !S.seen.has(c.id);
  const draft = !active && getDraft(c.id).text;
  const pending = pendingFor(c.id).length;
  const p = preview(c);
  const name = visitorName(c);
  return (
    <li>
      <button
        type="button"
        class={`conv-item ${active ? 'active' : ''} ${unread || isNew ? 'unread' : ''}`}
        onClick={() => select(c.id)}
        data-testid="conv-item"
        data-id={c.id}
        aria-current={active ? 'true' : undefined}
      >
        <Avatar name={name} seed={`v${c.visitor ? c.visitor.id : c.id}`} size={36} />
        <div class="conv-main">
          <div class="conv-top">
            <Bdi class="conv-name" text={name} />
            {c.visitor && c.visitor.location && c.visitor.location.country ? <Flag country={c.visitor.location.country} /> : null}
            {c.visitor && c.visitor.verified ? (
              <span class="verified-mini" title="Verified identity">
                <Icon name="verified" size={13} />
              </span>
            ) : null}
            <span class="conv-time">
              {c.status === 'queued' ? <WaitTime since={c.queued_at || c.created_at} /> : relTime(new Date(c._activity || ts(c.created_at)).toISOString())}
            </span>
          </div>
          <div class="conv-bottom">
            <span class={`conv-preview ${p && p.note ? 'is-note' : ''}`}>
              {draft ? <span class="draft-tag">Draft: </span> : null}
              {draft ? <Bdi text={draft} /> : p ? <Preview p={p} /> : c.status === 'queued' ? 'Waiting for an agent…' : 'No messages yet'}
            </span>
            {unread ? (
              <span class="badge" data-testid="unread" aria-label={`${unread} unread`}>
                {unread}
              </span>
            ) : isNew ? (
              <span class="badge badge-new">new</span>
            ) : null}
          </div>
          <div class="conv-meta">
            <SlaClock c={c} compact />
            {list === 'all' || list === 'closed' ? <span class={`pill pill-${c.status}`}>{statusText(c.status)}</span> : null}
            {c.bot ? (
              <span class="meta-text meta-bot" title={botSentence(c, { start: true })} data-testid="conv-item-bot">
                <Icon name="bot" size={12} />
                <Bdi text={c.bot.name} />
              </span>
            ) : null}
            {(list === 'all' || list === 'closed') && c.assignee ? <Bdi class="meta-text" text={c.assignee.name} /> : null}
            {c.team && (S.myTeams.length > 1 || isPrivileged()) ? <Bdi class="meta-text" text={c.team} /> : null}
            {isParticipant(c) ? <span class="pill pill-with">{t('collaborating')}</span> : null}
            <RowTriage c={c} />
            {c.offline ? <span class="pill pill-offline">offline message</span> : null}
            {c.rating ? <span class={`pill pill-rating-${c.rating}`}>{c.rating === 'good' ? 'rated 👍' : 'rated 👎'}</span> : null}
            {pending ? <span class="pill pill-pending">{pending} unsent</span> : null}
          </div>
        </div>
      </button>
    </li>
  );
}

export function ConversationList() {
  const list = S.view.list;
  const all = currentList();
  const items = filterConvs(all);
  const [emptyTitle, emptyText] = (all.length && filterActive() ? ['noneMatch', 'noneMatchHint'] : EMPTY[list]).map((k) => t(k));
  return (
    <section class="conv-list" aria-label={t('listConversations', { list: t(TITLES[list]) })}>
      <header class="pane-head">
        <h1>{t(TITLES[list])}</h1>
        {list !== 'closed' ? <span class="pane-count">{items.length}</span> : null}
      </header>
      {list === 'closed' ? (
        <div class="search">
          <Icon name="search" size={16} />
          <input
            type="search"
            placeholder={t('closedSearch')}
            aria-label={t('closedSearchLabel')}
            value={S.closed.q}
            onInput={(e) => searchClosed(e.currentTarget.value)}
            data-testid="closed-search"
          />
        </div>
      ) : null}
      <ListFilter />
      <ul class="conv-items" data-testid="conv-list">
        {items.map((c) => (
          <Item key={c.id} c={c} list={list} active={c.id === S.view.selected} />
        ))}
      </ul>
      {list === 'closed' && S.closed.loading ? (
        <div class="list-status">
          <Spinner />
        </div>
      ) : null}
      {list === 'closed' && S.closed.error ? <div class="list-status error">{S.closed.error}</div> : null}
      {list === 'closed' && S.closed.next && !S.closed.loading ? (
        <div class="list-status">
          <button type="button" class="btn" onClick={() => loadClosed({ more: true })}>
            {t('loadOlder')}
          </button>
        </div>
      ) : null}
      {!items.length && !(list === 'closed' && (S.closed.loading || !S.closed.loaded)) ? (
        <div class="empty">
          <Icon name={list === 'queue' ? 'clock' : list === 'closed' ? 'archive' : 'inbox'} size={28} />
          <strong>{emptyTitle}</strong>
          <p>{emptyText}</p>
        </div>
      ) : null}
    </section>
  );
}
