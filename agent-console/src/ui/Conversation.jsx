import { Component } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import {
  S,
  accept,
  attachTransfer,
  getDraft,
  closeConv,
  discardSend,
  isPrivileged,
  markRead,
  navigate,
  openDialog,
  pageActive,
  pendingFor,
  reopen,
  retrySend,
  sendErrorText,
  stagedFor,
  isParticipant,
  othersViewing,
  watching,
  agentName,
  labelName,
} from '../store/index.js';
import { fmtDay, fmtDuration, fmtTime, ts } from '../../../ui-shared/time.js';
import { visitorName } from '../lib/util.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { MessageText } from '../../../ui-shared/linkify.js';
import { t } from '../lib/i18n.js';
import { authorOf, botSentence, handoffText, isHandoffNote, statusText } from '../lib/bots.js';
import { Attachments } from './Attachments.jsx';
import { Avatar, Bdi, Spinner, useNow } from './common.jsx';
import { Composer } from './Composer.jsx';
import { Icon } from './icons.jsx';
import { eventWords, isNoteLine, wordPieces } from '../lib/eventlines.js';
import { ConvBar, WatchBanner } from './Participants.jsx';
import { Viewers, useViewing } from './Viewers.jsx';
import { SlaClock } from './SlaClock.jsx';
import { CallButtons, CallPanel } from './Call.jsx';

export function permissions(c) {
  const me = S.me;
  const priv = isPrivileged();
  const assignee = c.assignee && c.assignee.id === me.id;
  const member = S.myTeams.includes(c.team_id);
  // A bot's conversation (status 'bot'): the bot answers; agents may leave notes, which it never hears.
  const bot = c.status === 'bot';
  // Invited in, joined or escalated to: replies, notes and closes like the owner (participants.js).
  const part = isParticipant(c);
  // A supervisor reading along in a colleague's chat joins before replying (the visitor sees who answers).
  const watcher = watching(c);
  return {
    accept: c.status === 'queued' && (priv || member),
    reply: c.status !== 'closed' && !bot && ((priv && !watcher) || part || (c.status === 'assigned' && assignee)),
    note: c.status !== 'closed' && (priv || assignee || member || part),
    transfer: c.status !== 'closed' && !bot && (priv || (c.status === 'assigned' && assignee)),
    close: c.status !== 'closed' && (priv || assignee || part || (member && c.status === 'queued')),
    reopen: c.status === 'closed' && (priv || member || assignee),
  };
}

function Waiting({ since }) {
  const now = useNow(1000);
  return <span data-testid="wait-time">{t('waitingFor', { d: fmtDuration(now - ts(since)) })}</span>;
}

/**
 * The header's word on the bot: "handled first by bot Sunny" ("bot Sunny is
 * answering"), on phones the bot's name alone after its icon. The visitor
 * panel says it when it is open (bots.css hides this one then).
 */
function BotLine({ c }) {
  return (
    <span class="conv-bot" data-testid="conv-bot" title={botSentence(c, { start: true })}>
      · <Icon name="bot" size={13} />
      <span class="conv-bot-text">{botSentence(c)}</span>
      <Bdi class="conv-bot-name" text={c.bot.name} />
    </span>
  );
}

function Header({ c, panel, onTogglePanel }) {
  const can = permissions(c);
  const name = visitorName(c);
  return (
    <header class="conv-head">
      <div class="conv-head-main">
        <button type="button" class="icon-btn back-btn" onClick={() => navigate({ area: 'inbox', selected: null })} aria-label={t('backToList')}>
          <Icon name="chevronLeft" />
        </button>
        <Avatar name={name} seed={`v${c.visitor ? c.visitor.id : c.id}`} size={36} />
        <div class="conv-head-text">
          <h2 data-testid="conv-title">
            <Bdi text={name} />
            {c.visitor && c.visitor.verified ? (
              <span class="verified" title={t('verifiedTitle')}>
                <Icon name="verified" size={15} />
              </span>
            ) : null}
          </h2>
          <div class="conv-head-sub">
            <span class={`pill pill-${c.status}`} data-testid="conv-status">
              {statusText(c.status)}
            </span>
            {c.bot ? <BotLine c={c} /> : null}
            {c.status === 'queued' ? <Waiting since={c.queued_at || c.created_at} /> : null}
            <SlaClock c={c} />
            {c.status !== 'queued' && c.assignee ? (
              <span class="conv-sub-owner">
                · {c.status === 'closed' ? t('handledBy') : t('assignedTo')} {c.assignee.id === S.me.id ? t('ownerYou') : <Bdi text={c.assignee.name} />}
              </span>
            ) : null}
            {c.team ? (
              <span class="conv-sub-team">
                · <Bdi text={c.team} />
              </span>
            ) : null}
            <span class="muted conv-sub-id">· #{c.id}</span>
          </div>
        </div>
      </div>
      <div class="conv-actions">
        <CallButtons c={c} />
        {can.accept ? (
          <button type="button" class="btn primary" onClick={() => accept(c.id)} data-testid="accept" title={t('acceptTitle')}>
            <Icon name="check" size={16} />
            <span class="label">{t('accept')}</span>
          </button>
        ) : null}
        {can.transfer ? (
          <button type="button" class="btn" onClick={() => openDialog({ type: 'transfer', id: c.id })} data-testid="transfer" title={t('transferTitle')}>
            <Icon name="transfer" size={16} />
            <span class="label">{t('transfer')}</span>
          </button>
        ) : null}
        {can.close ? (
          <button type="button" class="btn" onClick={() => closeConv(c.id)} data-testid="close" title={t('closeTitle')}>
            <Icon name="close" size={16} />
            <span class="label">{t('close')}</span>
          </button>
        ) : null}
        {can.reopen ? (
          <button type="button" class="btn" onClick={() => reopen(c.id)} data-testid="reopen" title={t('reopenTitle')}>
            <Icon name="reopen" size={16} />
            <span class="label">{t('reopen')}</span>
          </button>
        ) : null}
        <button
          type="button"
          class={`icon-btn ${panel ? 'on' : ''}`}
          onClick={onTogglePanel}
          aria-pressed={panel ? 'true' : 'false'}
          aria-label={t('visitorDetails')}
          title={t('visitorDetailsTitle')}
        >
          <Icon name="panel" />
        </button>
      </div>
    </header>
  );
}

/** The small "Bot" label after a bot's name. */
function AuthorBadge({ text }) {
  return (
    <span class="author-badge" data-testid="author-badge">
      <Icon name="bot" size={11} />
      {text}
    </span>
  );
}

/** A worded event line: its words, each name (or reason) in a <bdi>. */
function Worded({ w }) {
  return wordPieces(w).map((p, i) => (typeof p === 'string' ? p : <Bdi key={i} text={p.value} />));
}

/** "Whisper from Ana · agents only": a supervisor's note, never a reply. */
function WhisperLabel({ m }) {
  const mine = m.author && S.me && m.author.id === S.me.id;
  return (
    <span class="note-label whisper-label" data-testid="whisper-label">
      <Icon name="eye" size={13} />
      {mine ? t('whisperYou') : t('whisperFrom', { name: isolate((m.author && m.author.name) || t('someone')) })} · {t('agentsOnly')}
    </span>
  );
}

const hasFiles = (m) => Array.isArray(m.attachments) && m.attachments.length > 0;

/** Whether a drag carries files (not text or a link dragged from the page). */
const carriesFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');

/**
 * Files dragged over the conversation: while they are over it, an overlay
 * says where they go; dropped, they are attached to the reply or note being
 * written. Returns the handlers for the conversation's element and whether
 * the overlay shows.
 */
function useDropFiles(id, enabled) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  useEffect(() => {
    depth.current = 0;
    setOver(false);
  }, [id, enabled]);
  if (!enabled) return { over: false, handlers: {} };
  const handlers = {
    onDragEnter: (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    },
    onDragOver: (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      if (!over) setOver(true);
    },
    onDragLeave: (e) => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (!depth.current) setOver(false);
    },
    onDrop: (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      attachTransfer(id, e.dataTransfer);
    },
  };
  return { over, handlers };
}

/** The thread; re-renders only when its messages or read markers change. */
class Thread extends Component {
  shouldComponentUpdate(next) {
    const p = this.props;
    return (
      next.rev !== p.rev ||
      next.id !== p.id ||
      next.visitorRead !== p.visitorRead ||
      next.pendingKey !== p.pendingKey ||
      next.typing !== p.typing ||
      next.loading !== p.loading ||
      next.error !== p.error
    );
  }
  render({ c, messages, pending, typing, loading, error }) {
    const items = [];
    let lastDay = '';
    let prev = null;
    let lastMineIdx = -1;
    messages.forEach((m, i) => {
      if (m.kind === 'message' && m.author && m.author.kind === 'agent') lastMineIdx = i;
    });
    messages.forEach((m, i) => {
      const day = fmtDay(m.created_at);
      if (day !== lastDay) {
        items.push(
          <div class="day-sep" key={`d${m.seq}`}>
            <span>{day}</span>
          </div>,
        );
        lastDay = day;
        prev = null;
      }
      if (m.kind === 'event' || isNoteLine(m)) {
        const words = eventWords(m, agentName, labelName);
        items.push(
          <div
            class={`event ${m.kind === 'note' ? 'event-internal' : ''}`}
            key={m.id}
            data-seq={m.seq}
            data-event={m.kind === 'event' ? m.event : m.meta.event}
            data-testid="event"
          >
            {m.kind === 'note' ? <Icon name="note" size={12} /> : null}
            <span class="event-text">
              {words ? <Worded w={words} /> : <Bdi text={m.body} />}
              {words && words.reason ? (
                <span class="event-reason">
                  {' · '}
                  <Worded w={words.reason} />
                </span>
              ) : null}
            </span>
            <time dateTime={m.created_at}>{fmtTime(m.created_at)}</time>
          </div>,
        );
        prev = null;
        return;
      }
      const author = authorOf(m, S.me.id);
      const side = author.side;
      const who = author.name;
      const handoff = isHandoffNote(m);
      const whisper = m.kind === 'note' && !!m.meta && m.meta.whisper === true;
      const grouped =
        prev &&
        prev.kind === m.kind &&
        !whisper &&
        prev.author &&
        m.author &&
        prev.author.kind === m.author.kind &&
        prev.author.id === m.author.id &&
        ts(m.created_at) - ts(prev.created_at) < 5 * 60000;
      prev = m;
      const seen = i === lastMineIdx && (c.visitor_last_read_seq || 0) >= m.seq;
      items.push(
        <div
          class={`msg msg-${side} ${m.kind === 'note' ? 'msg-note' : ''} ${whisper ? 'msg-whisper' : ''} ${author.kind === 'bot' ? 'msg-bot' : ''} ${handoff ? 'msg-handoff' : ''} ${grouped ? 'grouped' : ''}`}
          key={m.id}
          data-seq={m.seq}
          data-kind={m.kind}
          data-author={author.kind}
          data-testid={m.kind === 'note' ? 'note' : 'message'}
          data-whisper={whisper ? 'true' : undefined}
        >
          {side === 'them' ? grouped ? <span class="avatar-gap" /> : <Avatar name={who} seed={`v${c.visitor ? c.visitor.id : c.id}`} size={28} /> : null}
          <div class="msg-body">
            {!grouped ? (
              <div class="msg-meta">
                {whisper ? (
                  <WhisperLabel m={m} />
                ) : m.kind === 'note' && !handoff ? (
                  <span class="note-label">
                    <Icon name="note" size={13} /> Internal note
                  </span>
                ) : null}
                {whisper ? null : <Bdi class="msg-author" text={who} />}
                {author.badge ? <AuthorBadge text={author.badge} /> : null}
                <time dateTime={m.created_at} title={new Date(ts(m.created_at)).toLocaleString()}>
                  {fmtTime(m.created_at)}
                </time>
              </div>
            ) : null}
            {/* dir="auto": isolated, and in the body's own direction */}
            {handoff ? (
              <div class="bubble handoff-bubble">
                <div class="handoff-title" data-testid="handoff-label" title={t('handoffHint')}>
                  <Icon name="transfer" size={13} /> {t('handoffSummary')}
                </div>
                <div class="handoff-text" dir="auto">
                  <MessageText text={handoffText(m)} />
                </div>
              </div>
            ) : m.body || !hasFiles(m) ? (
              <div class="bubble" dir="auto">
                <MessageText text={m.body} />
              </div>
            ) : null}
            <Attachments files={m.attachments} />
            {i === lastMineIdx ? (
              <div class={`receipt ${seen ? 'seen' : ''}`} data-testid="receipt">
                <Icon name={seen ? 'checks' : 'check'} size={13} /> {seen ? t('receiptSeen') : t('receiptSent')}
              </div>
            ) : null}
          </div>
        </div>,
      );
    });
    for (const p of pending) {
      items.push(
        <div
          class={`msg msg-us pending ${p.kind === 'note' ? 'msg-note' : ''} ${p.whisper ? 'msg-whisper' : ''} ${p.state === 'failed' ? 'failed' : ''}`}
          key={p.cmid}
          data-testid="pending"
        >
          <div class="msg-body">
            <div class="msg-meta">
              {p.kind === 'note' && p.whisper ? (
                <span class="note-label whisper-label">
                  <Icon name="eye" size={13} /> {t('whisperYou')} · {t('agentsOnly')}
                </span>
              ) : p.kind === 'note' ? (
                <span class="note-label">
                  <Icon name="note" size={13} /> {t('internalNote')}
                </span>
              ) : null}
              <span class="msg-author">{t('authorYou')}</span>
            </div>
            {p.body || !hasFiles(p) ? (
              <div class="bubble" dir="auto">
                <MessageText text={p.body} />
              </div>
            ) : null}
            <Attachments files={p.attachments} />
            <div class="receipt">
              {p.state === 'failed' ? (
                <>
                  <span class="error-text">{t('notSent', { error: sendErrorText(p) })}</span>
                  <button type="button" class="link-btn" onClick={() => retrySend(c.id, p.cmid)}>
                    {t('retrySend')}
                  </button>
                  <button type="button" class="link-btn" onClick={() => discardSend(c.id, p.cmid)}>
                    {t('discardSend')}
                  </button>
                </>
              ) : p.state === 'sending' ? (
                t('sendingNow')
              ) : (
                t('waitingConnection')
              )}
            </div>
          </div>
        </div>,
      );
    }
    return (
      <div class="thread-inner">
        {loading && !messages.length ? (
          <div class="thread-status">
            <Spinner />
          </div>
        ) : null}
        {error ? <div class="thread-status error">{t('loadFailed', { error })}</div> : null}
        {!loading && !messages.length && !pending.length && !error ? (
          <div class="thread-status muted">{c.status === 'queued' ? t('noMessagesQueued') : t('noMessages')}</div>
        ) : null}
        {items}
        {typing ? (
          <div class="typing" data-testid="typing" aria-live="polite">
            <span class="typing-dots">
              <i />
              <i />
              <i />
            </span>
            <Bdi text={visitorName(c)} /> is typing…
          </div>
        ) : null}
      </div>
    );
  }
}

export function ConversationView({ id, panel, onTogglePanel }) {
  const c = S.convs.get(id);
  const scroller = useRef(null);
  const stick = useRef(true);
  const st = S.msgs.get(id);
  const messages = st ? st.list : [];
  const pending = pendingFor(id);
  const typing = S.typing.has(id);
  const rev = st ? st.rev : 0;
  const pendingKey = pending.map((p) => p.cmid + p.state).join(',');
  const can = c ? permissions(c) : {};
  const writable = !!c && c.status !== 'closed' && !!(can.reply || can.note);
  const drop = useDropFiles(id, writable);
  useViewing(id);

  // New conversation: start at the bottom.
  useLayoutEffect(() => {
    stick.current = true;
  }, [id]);
  // (The composer grows with the files attached to it: the end stays in view.)
  const stagedCount = stagedFor(id).length;
  // (So does the line of who else is viewing and typing, above the composer.)
  const viewersKey = othersViewing(id)
    .map((v) => `${v.id}${v.typing ? 't' : ''}`)
    .join();
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [id, rev, pendingKey, typing, stagedCount, viewersKey]);

  // Read what is on screen while the page is active.
  useEffect(() => {
    if (c && pageActive() && stick.current) markRead(id);
  });
  useEffect(() => {
    const again = () => {
      if (pageActive() && stick.current) markRead(id);
    };
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [id]);

  if (!c) {
    return (
      <section class="conv-view">
        <div class="empty">
          {S.missing.has(id) ? (
            <>
              <Icon name="archive" size={28} />
              <strong>{t('convUnavailable')}</strong>
              <p>{t('convUnavailableHint')}</p>
            </>
          ) : (
            <Spinner />
          )}
        </div>
      </section>
    );
  }
  const offline = S.conn.state !== 'open';
  const noteMode = getDraft(id).note || !can.reply;
  return (
    <section
      class={`conv-view ${drop.over ? 'dragging' : ''}`}
      aria-label={t('convWith', { name: isolate(visitorName(c)) })}
      data-testid="conversation"
      data-id={id}
      data-status={c.status}
      {...drop.handlers}
    >
      {drop.over ? (
        <div class={`drop-overlay ${noteMode ? 'drop-note' : ''}`} data-testid="drop-overlay" aria-hidden="true">
          <div class="drop-card">
            <Icon name="upload" size={30} />
            <strong>{t('dropFiles')}</strong>
            <span>{noteMode ? t('dropToNote') : t('dropToReply')}</span>
          </div>
        </div>
      ) : null}
      <Header c={c} panel={panel} onTogglePanel={onTogglePanel} />
      <ConvBar c={c} />
      <WatchBanner c={c} />
      <CallPanel c={c} />
      {offline ? (
        <div class="banner banner-warn" role="status">
          <Icon name="wifiOff" size={16} /> {t('offlineBanner')}
        </div>
      ) : null}
      <div
        class="thread"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          if (stick.current && pageActive()) markRead(id);
        }}
      >
        <Thread
          c={c}
          id={id}
          rev={rev}
          messages={messages}
          pending={pending}
          pendingKey={pendingKey}
          typing={typing}
          visitorRead={c.visitor_last_read_seq || 0}
          loading={!!(st && st.loading)}
          error={st && st.error}
        />
      </div>
      {c.status === 'closed' ? (
        <div class="composer-closed">
          <span>{c.closed_at ? t('closedAt', { day: fmtDay(c.closed_at).toLowerCase(), time: fmtTime(c.closed_at) }) : t('closedPlain')}</span>
          {can.reopen ? (
            <button type="button" class="btn" onClick={() => reopen(c.id)}>
              <Icon name="reopen" size={16} /> {t('reopen')}
            </button>
          ) : null}
        </div>
      ) : can.reply || can.note ? (
        <>
          {c.status === 'bot' ? (
            <div class="banner banner-info" data-testid="bot-banner">
              <Icon name="bot" size={16} />
              <span>{t('botBanner')}</span>
            </div>
          ) : null}
          {c.status === 'queued' && can.accept ? (
            <div class="banner banner-info">
              {t('waitingLead')}{' '}
              <button type="button" class="link-btn" onClick={() => accept(c.id)}>
                {t('acceptChat')}
              </button>{' '}
              {can.reply ? t('waitingTailReply') : t('waitingTailNote')}
            </div>
          ) : null}
          <Viewers id={id} />
          <Composer key={id} c={c} canReply={can.reply} canNote={can.note} />
        </>
      ) : (
        <div class="composer-closed">
          <span>
            {t('readAlongLead')} {c.assignee ? <Bdi text={c.assignee.name} /> : t('anotherAgent')}
            {t('readAlongTail')}
          </span>
        </div>
      )}
    </section>
  );
}
