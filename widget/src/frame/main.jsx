// The chat frame's UI (Preact). Every piece of text from the server, the
// site settings or the visitor is rendered as a text node: no API that
// parses a string as HTML is used anywhere (tests/e2e/widget-budget.test.js
// checks). Links in messages become <a> only for http(s) URLs. Names sit in
// <bdi> (also inside sentences: tName) and bodies in dir="auto" blocks,
// balanced first (ui-shared/bidi.js), so that no bidi control or
// right-to-left name can reorder the text around it.

import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import {
  MAX_FILES,
  S,
  attach,
  boot,
  callHooks,
  discard,
  dropUpload,
  endConversation,
  fileLink,
  linkNow,
  loadCall,
  newConversation,
  onRender,
  outbox,
  rate,
  retry,
  retryUpload,
  send,
  setFocusHandler,
  startConversation,
  toHost,
  typing,
  update,
} from './chat.js';
import { backAtText, eventText, lang, t, tName, time } from './i18n.js';
import { balance } from '../../../ui-shared/bidi.js';
import { filesOf, fmtBytes, isRaster } from '../../../ui-shared/files.js';
import { MessageText } from '../../../ui-shared/linkify.js';

// ---- icons (static SVG) ----
const Svg = ({ children, size = 20 }) => (
  <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false">
    {children}
  </svg>
);
const IconDown = () => (
  <Svg>
    <path fill="currentColor" d="M5.3 8.3a1 1 0 0 1 1.4 0L12 13.6l5.3-5.3a1 1 0 1 1 1.4 1.4l-6 6a1 1 0 0 1-1.4 0l-6-6a1 1 0 0 1 0-1.4z" />
  </Svg>
);
const IconEnd = () => (
  <Svg>
    <path fill="currentColor" d="M10 3h8a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-8v-2h8V5h-8zm-.3 4.3 1.4 1.4L8.8 11H16v2H8.8l2.3 2.3-1.4 1.4L5 12z" />
  </Svg>
);
const IconSend = () => (
  <Svg>
    <path fill="currentColor" d="M3.4 20.4 21 12.9a1 1 0 0 0 0-1.8L3.4 3.6a.9.9 0 0 0-1.3 1L4 11l9 1-9 1-1.9 6.4a.9.9 0 0 0 1.3 1z" />
  </Svg>
);
// Thumbs: Material Design icons (Apache License 2.0).
const IconUp = () => (
  <Svg size={22}>
    <path
      fill="currentColor"
      d="M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"
    />
  </Svg>
);
const IconDownThumb = () => (
  <Svg size={22}>
    <path
      fill="currentColor"
      d="M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z"
    />
  </Svg>
);
const IconClock = () => (
  <Svg size={12}>
    <path fill="currentColor" d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 10.4 3.5 2.1-.9 1.5L11 13V6h2z" />
  </Svg>
);

const IconClip = () => (
  <Svg>
    <path
      fill="currentColor"
      d="M16.5 6.5v10.6a4.5 4.5 0 0 1-9 0V5.8a3 3 0 0 1 6 0v10.3a1.5 1.5 0 0 1-3 0V6.5H9v9.6a3 3 0 0 0 6 0V5.8a4.5 4.5 0 0 0-9 0v11.3a6 6 0 0 0 12 0V6.5z"
    />
  </Svg>
);
const IconPhone = () => (
  <Svg>
    <path
      fill="currentColor"
      d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"
    />
  </Svg>
);
const IconFile = () => (
  <Svg size={22}>
    <path fill="currentColor" d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5zM8 13v2h8v-2zm0 4v2h5v-2z" />
  </Svg>
);

// ---- files ----
const KINDS = [
  ['pdf', 'PDF'],
  ['zip', 'ZIP'],
  ['wordprocessingml', 'Word'],
  ['spreadsheetml', 'Excel'],
  ['presentationml', 'PowerPoint'],
  ['opendocument.text', 'ODT'],
  ['opendocument.spreadsheet', 'ODS'],
  ['opendocument.presentation', 'ODP'],
  ['ole-storage', 'Office'],
  ['csv', 'CSV'],
  ['text/plain', 'TXT'],
  ['svg', 'SVG'],
];
const typeLabel = (type) => (KINDS.find(([k]) => type.includes(k)) || [0, t('file')])[1];

/** A preview's box: the stored size scaled down into 240×240, known before the image loads. */
function fit(w, h) {
  const s = Math.min(1, 240 / w, 240 / h);
  return [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
}

/** Opens a file (new tab) or downloads it, through a fresh signed link. */
function openFile(e, f, download) {
  const now = linkNow(f.id);
  if (!download && now) {
    e.currentTarget.href = now; // the link's own navigation opens it
    return;
  }
  e.preventDefault();
  fileLink(f.id).then(
    (url) => {
      if (!download) return window.open(url, '_blank', 'noopener');
      const a = document.createElement('a');
      a.href = url;
      a.download = f.name;
      a.click();
    },
    () => {},
  );
}

function Img({ f }) {
  const [src, setSrc] = useState(() => linkNow(f.id));
  useEffect(() => {
    if (!src) fileLink(f.id).then(setSrc, () => {});
  }, [f.id]);
  const [w, h] = fit(f.width || 240, f.height || 180);
  return (
    <a class="pw-img" href={src || '#'} target="_blank" rel="noopener noreferrer" title={f.name} onClick={(e) => openFile(e, f, false)}>
      <img src={src || undefined} width={w} height={h} alt={f.name} />
    </a>
  );
}

const FileName = ({ f }) => (
  <bdi class="pw-file-name" dir="auto">
    {balance(f.name)}
  </bdi>
);

function Files({ files }) {
  return files.map((f) =>
    f.removed ? (
      <div class="pw-file pw-gone" key={f.id}>
        <IconFile />
        <span class="pw-file-text">
          <FileName f={f} />
          <span class="pw-file-meta">{t('removed')}</span>
        </span>
      </div>
    ) : isRaster(f.type) ? (
      <Img f={f} key={f.id} />
    ) : (
      <button type="button" class="pw-file" key={f.id} title={t('download')} onClick={(e) => openFile(e, f, true)}>
        <IconFile />
        <span class="pw-file-text">
          <FileName f={f} />
          <span class="pw-file-meta">
            {typeLabel(f.type)} · {fmtBytes(f.size, lang)}
          </span>
        </span>
      </button>
    ),
  );
}

const RETRIABLE = ['network', 'rate_limited', 'unavailable', 'internal', 'http'];

function uploadError(u) {
  const max = u.max;
  const text = {
    file_too_large: max ? t('tooBig', { max: fmtBytes(max, lang) }) : t('tooBig0'),
    file_type_refused: t('badType'),
    uploads_disabled: t('noUploads'),
    rate_limited: t('slowDown'),
    file_rejected: t('rejected'),
    network: t('netErr'),
    conflict: t('endedText'), // 409: the conversation is closed
  }[u.error];
  return text || t('upFailed');
}

/** A file on its way: name, progress and cancel; or why it was refused. */
function Upload({ u }) {
  const pct = u.total ? Math.min(100, Math.floor((100 * u.sent) / u.total)) : 0;
  const f = u.file;
  return (
    <li class="pw-row pw-mine pw-first pw-up" data-state={u.error ? 'error' : 'uploading'}>
      <div class={`pw-file pw-upcard${u.error ? ' pw-up-err' : ''}`}>
        <IconFile />
        <span class="pw-file-text">
          <FileName f={f} />
          {u.error ? (
            <span class="pw-err" role="alert">
              {uploadError(u)}
              {RETRIABLE.includes(u.error) && (
                <button type="button" class="pw-link" onClick={() => retryUpload(u.key)}>
                  {t('retry')}
                </button>
              )}
            </span>
          ) : (
            <>
              <progress max={100} value={pct} aria-label={f.name} />
              <span class="pw-file-meta">
                {fmtBytes(f.size, lang)} · {pct}%
              </span>
            </>
          )}
        </span>
        <button
          type="button"
          class="pw-x"
          aria-label={u.error ? t('dismiss') : t('cancelUpload')}
          title={u.error ? t('dismiss') : t('cancelUpload')}
          onClick={() => dropUpload(u.key)}
        >
          ×
        </button>
      </div>
    </li>
  );
}

// The first letter, not an invisible character that may precede it.
const initial = (name) => (Array.from(String(name || '').replace(/[^\p{L}\p{N}\p{S}]+/gu, ''))[0] || '?').toUpperCase();

/** A name from people, isolated from the text around it. */
const Name = ({ text, cls }) => <bdi class={cls}>{balance(text)}</bdi>;

function Avatar({ name, small }) {
  return (
    <span class={small ? 'pw-av pw-av-s' : 'pw-av'} aria-hidden="true">
      {initial(name)}
    </span>
  );
}

function HeaderButton({ label, onClick, children }) {
  return (
    <button type="button" class="pw-hbtn" aria-label={label} title={label} onClick={onClick}>
      {children}
    </button>
  );
}

const minimise = () => toHost({ type: 'close' });

// ---- home: greeting, pre-chat or offline form ----
function formFields(offline) {
  let fields = S.settings.prechat_fields.length
    ? S.settings.prechat_fields.map((f) => ({ ...f }))
    : [
        { name: 'name', type: 'text', required: false, label: '' },
        { name: 'email', type: 'email', required: !!offline, label: '' },
      ];
  if (offline) {
    // We must be able to answer: an email is required.
    const email = fields.find((f) => f.type === 'email');
    if (email) email.required = true;
    else fields.push({ name: 'email', type: 'email', required: true, label: '' });
  }
  for (const f of fields) if (!f.label) f.label = f.name === 'name' ? t('name') : f.name === 'email' ? t('email') : f.name;
  return fields;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function PrechatForm({ offline, inv }) {
  const fields = formFields(offline);
  const [values, setValues] = useState(() => {
    const v = {};
    for (const f of fields) {
      const a = S.attrs[f.name];
      v[f.name] = (f.name === 'name' || f.name === 'email' ? S.profile[f.name] : '') || (typeof a === 'string' || typeof a === 'number' ? String(a) : '');
    }
    return v;
  });
  const [message, setMessage] = useState('');
  const [errors, setErrors] = useState({});

  const submit = (e) => {
    e.preventDefault();
    const errs = {};
    const out = {};
    for (const f of fields) {
      const v = (values[f.name] || '')
        // eslint-disable-next-line no-control-regex -- control characters are what is removed
        .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
        .trim()
        .slice(0, 1000);
      if (f.required && !v) errs[f.name] = t('required');
      else if (v && f.type === 'email' && !EMAIL_RE.test(v)) errs[f.name] = t('badEmail');
      if (v) out[f.name] = v;
    }
    if (!message.trim()) errs.__message = t('required');
    setErrors(errs);
    const first = Object.keys(errs)[0];
    if (first) {
      const el = document.getElementById(first === '__message' ? 'pw-first' : `pf-${first}`);
      if (el) el.focus();
      return;
    }
    startConversation(out, message.trim(), offline, inv);
  };

  return (
    <form class="pw-form" onSubmit={submit} noValidate>
      {fields.map((f, i) => (
        <div class="pw-field" key={f.name}>
          <label for={`pf-${f.name}`}>
            <Name text={f.label} />
            {!f.required && <span class="pw-opt"> ({t('optional')})</span>}
          </label>
          <input
            id={`pf-${f.name}`}
            name={f.name}
            type={f.type}
            autocomplete={f.name === 'name' ? 'name' : f.type === 'email' ? 'email' : 'off'}
            maxLength={f.type === 'email' ? 254 : 200}
            required={f.required}
            aria-invalid={errors[f.name] ? 'true' : 'false'}
            aria-describedby={errors[f.name] ? `pe-${f.name}` : undefined}
            value={values[f.name]}
            onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            data-autofocus={i === 0 ? '' : undefined}
          />
          {errors[f.name] && (
            <span class="pw-err" id={`pe-${f.name}`}>
              {errors[f.name]}
            </span>
          )}
        </div>
      ))}
      <div class="pw-field">
        <label for="pw-first">{inv ? t('yourReply') : offline ? t('message') : t('howHelp')}</label>
        <textarea
          id="pw-first"
          rows={3}
          maxLength={4000}
          required
          aria-invalid={errors.__message ? 'true' : 'false'}
          aria-describedby={errors.__message ? 'pe-first' : undefined}
          value={message}
          onInput={(e) => setMessage(e.currentTarget.value)}
          data-autofocus={fields.length ? undefined : ''}
        />
        {errors.__message && (
          <span class="pw-err" id="pe-first">
            {errors.__message}
          </span>
        )}
      </div>
      <button type="submit" class="pw-btn">
        {inv ? t('send') : offline ? t('leave') : t('start')}
        <IconSend />
      </button>
    </form>
  );
}

function Home() {
  const name = S.profile.name;
  const online = S.online;
  return (
    <div class="pw-home">
      <div class="pw-scroll">
        <header class="pw-hero">
          <div class="pw-hero-top">
            <span class="pw-site">
              <Avatar name={S.siteName || 'P'} small />
              <Name text={S.siteName} />
            </span>
            <HeaderButton label={t('close')} onClick={minimise}>
              <IconDown />
            </HeaderButton>
          </div>
          <h1 class="pw-hi">{name ? tName('hiName', name) : t('hi')}</h1>
          <p class="pw-greet">{balance(S.settings.greeting) || t('greeting')}</p>
        </header>
        <section class="pw-card" aria-labelledby="pw-status">
          <p class="pw-status" id="pw-status">
            <span class={online ? 'pw-dot pw-on' : 'pw-dot'} aria-hidden="true" />
            {online ? t('replies') : t('away')}
          </p>
          {!online && <p class="pw-muted">{t('awayText')}</p>}
          {!online && S.backAt && backAtText(S.backAt) ? (
            <p class="pw-back" data-testid="back-at">
              {backAtText(S.backAt)}
            </p>
          ) : null}
          <PrechatForm offline={!online} key={online ? 'on' : 'off'} />
        </section>
        <Footer />
      </div>
    </div>
  );
}

function Footer() {
  return <p class="pw-foot">{t('powered')}</p>;
}

// ---- the conversation ----
function ChatHeader() {
  const [confirm, setConfirm] = useState(false);
  const c = S.conv;
  const agent = c && c.status === 'bot' && c.bot ? c.bot.name : c && c.assignee && c.status !== 'queued' ? c.assignee.name : '';
  const inv = !c && S.invite;
  const title = agent || (inv && inv.sender) || S.siteName || t('team');
  let sub = t('replies');
  if (inv && inv.agent) sub = t('agentHere');
  else if (c && c.status === 'closed') sub = t('ended');
  else if (c && c.status === 'assigned') sub = t('agentHere');
  else if (c && c.status === 'bot') sub = t('botHere');
  else if ((c && c.offline) || (!c && S.start && S.start.offline)) sub = t('away');
  const active = c && c.status !== 'closed';
  // The site lets visitors ask for a call, someone is assigned, and no call is on.
  const live = S.call && S.call.state !== 'ended';
  const canCall = S.settings.calls === 'visitor' && c && c.status === 'assigned' && !live && !(callHooks.ui && callHooks.ui.busy());
  return (
    <header class="pw-head">
      <div class="pw-head-row">
        <span class="pw-head-av">
          <Avatar name={title} />
          {c && c.status === 'assigned' && <span class="pw-dot pw-on pw-av-dot" aria-hidden="true" />}
        </span>
        <div class="pw-head-text">
          <h1 class="pw-title">
            <Name text={title} />
          </h1>
          <p class="pw-sub">{sub}</p>
        </div>
        {canCall && (
          <HeaderButton
            label={t('requestCall')}
            onClick={() =>
              loadCall().then(
                (m) => m.ask(),
                () => {},
              )
            }
          >
            <IconPhone />
          </HeaderButton>
        )}
        {active && (
          <HeaderButton label={t('end')} onClick={() => setConfirm(true)}>
            <IconEnd />
          </HeaderButton>
        )}
        <HeaderButton label={t('close')} onClick={minimise}>
          <IconDown />
        </HeaderButton>
      </div>
      {confirm && active && (
        <div class="pw-confirm" role="group" aria-label={t('endAsk')}>
          <span>{t('endAsk')}</span>
          <button
            type="button"
            class="pw-btn pw-btn-s pw-btn-light"
            onClick={() => {
              setConfirm(false);
              endConversation();
            }}
          >
            {t('end')}
          </button>
          <button type="button" class="pw-btn pw-btn-s pw-btn-ghost-light" onClick={() => setConfirm(false)}>
            {t('cancel')}
          </button>
        </div>
      )}
    </header>
  );
}

function Banner() {
  if (S.conn === 'up' || (!S.everUp && S.conn !== 'down')) return null;
  return (
    <div class="pw-banner" role="status">
      <span class="pw-spin" aria-hidden="true" />
      {S.everUp ? t('reconnecting') : t('connecting')}
    </div>
  );
}

function QueueNote() {
  const c = S.conv;
  if (c && c.offline && c.status === 'queued') return <div class="pw-note">{t('offlineNote')}</div>;
  if (!(c ? c.status === 'queued' : S.start)) return null;
  const q = S.queue;
  return (
    <div class="pw-note" role="status">
      <span class="pw-dots" aria-hidden="true">
        <i />
        <i />
        <i />
      </span>
      {q && q.position ? t('queue', { n: q.position, m: Math.max(1, Math.round(q.wait / 60)) }) : t('waiting')}
    </div>
  );
}

function Messages() {
  const list = useRef(null);
  const atBottom = useRef(true);
  const c = S.conv;
  const items = [];
  // An invitation is the first message until the conversation's own arrive.
  const inv = S.invite;
  if (inv && !S.msgs.length)
    items.push({ kind: 'message', author: { kind: 'agent', name: inv.sender }, body: inv.message, created_at: inv.at, key: 'inv', inv: true });
  for (const m of S.msgs) items.push(m);
  for (const p of outbox.items) items.push({ pending: p, kind: 'message', author: { kind: 'visitor' }, body: p.body, files: p.files, key: p.cmid });

  useLayoutEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = () => {
    const el = list.current;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  // The last message of the visitor that the server has: its read state.
  let lastOwn = null;
  for (const m of S.msgs) if (m.kind === 'message' && m.author.kind === 'visitor') lastOwn = m;
  const seen = lastOwn && c && c.agent_last_read_seq >= lastOwn.seq;

  const rows = [];
  items.forEach((m, i) => {
    if (m.kind === 'event') {
      rows.push(
        <li class="pw-event" key={m.id} data-event={m.event}>
          <span>{eventText(m, S.msgs)}</span>
        </li>,
      );
      return;
    }
    const mine = m.author.kind === 'visitor';
    const prev = items[i - 1];
    const next = items[i + 1];
    const same = (x) => x && x.kind === 'message' && x.author.kind === m.author.kind && x.author.name === m.author.name;
    const first = !same(prev);
    const last = !same(next);
    const p = m.pending;
    let status = null;
    if (p) {
      if (p.state === 'failed') {
        status = (
          <span class="pw-meta pw-fail">
            {p.error === 'message_too_long' ? t('tooLong') : t('failed')}
            {p.error !== 'message_too_long' && (
              <button type="button" class="pw-link" onClick={() => retry(p.cmid)}>
                {t('retry')}
              </button>
            )}
            <button type="button" class="pw-link" aria-label="×" onClick={() => discard(p.cmid)}>
              ×
            </button>
          </span>
        );
      } else {
        status = (
          <span class="pw-meta">
            <IconClock /> {S.conn === 'up' ? t('sending') : t('queued')}
          </span>
        );
      }
    } else if (m === lastOwn && !outbox.items.length) {
      status = (
        <span class="pw-meta pw-receipt">
          {m.created_at ? `${time(m.created_at)} · ` : ''}
          {seen ? t('seen') : t('sent')}
        </span>
      );
    } else if (last) {
      status = <span class="pw-meta">{time(m.created_at)}</span>;
    }
    rows.push(
      <li
        class={`pw-row ${mine ? 'pw-mine' : 'pw-theirs'}${first ? ' pw-first' : ''}${last ? ' pw-last' : ''}${p ? ' pw-pending' : ''}${m.inv ? ' pw-inv' : ''}`}
        key={m.key || m.client_msg_id || m.id}
        data-seq={m.seq}
      >
        {!mine && first && <Name cls="pw-author" text={m.author.name || t('team')} />}
        <div class="pw-line">
          {!mine && (last ? <Avatar name={m.author.name || t('team')} small /> : <span class="pw-av-gap" />)}
          {/* dir="auto": the body's first letter sets its direction (the
              label before it is a <bdi>, which dir="auto" skips). */}
          <div class={m.files && m.files.length ? `pw-bubble pw-att${m.body ? '' : ' pw-bare'}` : 'pw-bubble'} dir="auto">
            <Name cls="pw-sr" text={`${mine ? t('you') : m.author.name || t('team')}: `} />
            {m.files && m.files.length ? (
              <>
                <Files files={m.files} />
                {m.body && (
                  <span class="pw-text">
                    <MessageText text={m.body} />
                  </span>
                )}
              </>
            ) : (
              <MessageText text={m.body} />
            )}
          </div>
        </div>
        {status}
      </li>,
    );
  });

  return (
    <div class="pw-list" ref={list} onScroll={onScroll}>
      <QueueNote />
      <ol class="pw-msgs" role="log" aria-live="polite" aria-relevant="additions" aria-label={t('title')}>
        {rows}
        {S.uploads.map((u) => (
          <Upload u={u} key={`u${u.key}`} />
        ))}
      </ol>
      {S.typing && (
        <div class="pw-row pw-theirs pw-first pw-last pw-typing" role="status">
          <div class="pw-line">
            <Avatar name={S.typing.name || t('someone')} small />
            <div class="pw-bubble">
              <span class="pw-dots" aria-hidden="true">
                <i />
                <i />
                <i />
              </span>
              <span class="pw-sr">{tName('typing', S.typing.name || t('someone'))}</span>
            </div>
          </div>
          <span class="pw-meta" aria-hidden="true">
            {tName('typing', S.typing.name || t('someone'))}
          </span>
        </div>
      )}
    </div>
  );
}

function Composer() {
  const [text, setText] = useState('');
  const area = useRef(null);
  const pick = useRef(null);
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 140)}px`;
  }, [text]);
  const submit = () => {
    if (!text.trim()) return;
    send(text);
    setText('');
    area.current && area.current.focus();
  };
  return (
    <form
      class="pw-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {S.files.up && (
        <>
          <button type="button" class="pw-attach" aria-label={t('attach')} title={t('attach')} onClick={() => pick.current.click()}>
            <IconClip />
          </button>
          <input
            id="pw-file"
            ref={pick}
            type="file"
            multiple
            hidden
            onChange={(e) => {
              attach(Array.from(e.currentTarget.files));
              e.currentTarget.value = '';
            }}
          />
        </>
      )}
      <label class="pw-sr" for="pw-text">
        {t('write')}
      </label>
      <textarea
        id="pw-text"
        ref={area}
        rows={1}
        maxLength={4000}
        placeholder={S.invite && !S.convId ? t('reply') : t('write')}
        value={text}
        data-autofocus=""
        onInput={(e) => {
          setText(e.currentTarget.value);
          typing();
        }}
        onPaste={(e) => {
          // Files only when nothing textual is pasted (copied cells also carry a picture).
          const d = e.clipboardData;
          if (!S.files.up || !d || Array.from(d.types).includes('text/plain')) return;
          const files = filesOf(d, MAX_FILES);
          if (!files.length) return;
          e.preventDefault();
          attach(files);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" class="pw-send" aria-label={t('send')} title={t('send')} disabled={!text.trim()}>
        <IconSend />
      </button>
    </form>
  );
}

function Closed() {
  const [choice, setChoice] = useState(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const done = S.rated || (S.conv && S.conv.rating);
  const submit = async (e) => {
    e.preventDefault();
    if (!choice || busy) return;
    setBusy(true);
    try {
      await rate(choice, comment.trim());
    } catch (err) {
      /* try again */
    }
    setBusy(false);
  };
  const choiceButton = (value, label, icon) => (
    <button type="button" class={`pw-rate-btn pw-rate-${value}`} aria-pressed={choice === value ? 'true' : 'false'} onClick={() => setChoice(value)}>
      {icon}
      <span>{label}</span>
    </button>
  );
  return (
    <div class="pw-closed">
      {done ? (
        <p class="pw-thanks" role="status">
          {t('thanks')}
        </p>
      ) : (
        <form class="pw-rating" onSubmit={submit}>
          <fieldset>
            <legend>{t('rateAsk')}</legend>
            <div class="pw-rate">
              {choiceButton('good', t('good'), <IconUp />)}
              {choiceButton('bad', t('bad'), <IconDownThumb />)}
            </div>
          </fieldset>
          {choice && (
            <div class="pw-field">
              <label class="pw-sr" for="pw-comment">
                {t('comment')}
              </label>
              <textarea
                id="pw-comment"
                rows={2}
                maxLength={2000}
                placeholder={t('comment')}
                value={comment}
                onInput={(e) => setComment(e.currentTarget.value)}
              />
              <button type="submit" class="pw-btn" disabled={busy}>
                {t('sendRating')}
              </button>
            </div>
          )}
        </form>
      )}
      <button type="button" class="pw-btn pw-btn-ghost" onClick={newConversation}>
        {t('newChat')}
      </button>
    </div>
  );
}

const dragsFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

/** An invitation is answered through the pre-chat form when a field is required or nobody is online. */
const inviteForm = () => S.invite && !S.convId && !S.start && (!S.online || S.settings.prechat_fields.some((f) => f.required));

/** The call chunk's view (incoming card, call bar, video), once it is loaded. */
function CallSlot() {
  const View = callHooks.ui && callHooks.ui.View;
  return View ? <View /> : null;
}

function Chat() {
  const [drag, setDrag] = useState(false);
  const closed = S.conv && S.conv.status === 'closed';
  const can = !closed && S.files.up;
  const over = (e) => {
    if (!dragsFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = can ? 'copy' : 'none';
    if (can) setDrag(true);
  };
  return (
    <div
      class="pw-chat"
      onDragEnter={over}
      onDragOver={over}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget)) setDrag(false);
      }}
      onDrop={(e) => {
        if (!dragsFiles(e)) return;
        e.preventDefault();
        setDrag(false);
        if (can) attach(filesOf(e.dataTransfer, MAX_FILES));
      }}
    >
      <ChatHeader />
      <Banner />
      <CallSlot />
      <Messages />
      {closed ? (
        <Closed />
      ) : inviteForm() ? (
        // The site needs details first (or nobody is online): the form answers the invitation.
        <div class="pw-invform">
          <PrechatForm offline={!S.online} inv={S.invite.id} />
        </div>
      ) : (
        <Composer />
      )}
      {drag && can && (
        <div class="pw-drop" aria-hidden="true">
          <span>
            <IconClip />
            {t('dropHere')}
          </span>
        </div>
      )}
    </div>
  );
}

function App() {
  useEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Escape') minimise();
    };
    // A file dropped anywhere else must not replace the frame with itself.
    const noDrop = (e) => {
      if (e.defaultPrevented) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
    };
    document.addEventListener('keydown', onKey);
    window.addEventListener('dragover', noDrop);
    window.addEventListener('drop', noDrop);
    return () => {
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('dragover', noDrop);
      window.removeEventListener('drop', noDrop);
    };
  }, []);
  if (S.fatal) {
    return (
      <div class="pw pw-fatal">
        <div class="pw-fatal-top">
          <HeaderButton label={t('close')} onClick={minimise}>
            <IconDown />
          </HeaderButton>
        </div>
        <p role="alert">{t('unavailable')}</p>
      </div>
    );
  }
  if (!S.inited || !S.siteLoaded) {
    return (
      <div class="pw pw-center" aria-busy="true">
        <span class="pw-spin pw-spin-l" aria-hidden="true" />
      </div>
    );
  }
  const chat = !!(S.convId || S.start || S.invite);
  return (
    <div class={`pw${S.open ? ' pw-open' : ''}`}>
      {chat ? <Chat /> : <Home />}
      {!chat && <Banner />}
    </div>
  );
}

const root = document.getElementById('app');
onRender(() => render(<App />, root));
setFocusHandler(() =>
  setTimeout(() => {
    const el = document.querySelector('[data-autofocus]');
    if (el && document.activeElement !== el) el.focus({ preventScroll: true });
  }, 60),
);
boot();
update();
