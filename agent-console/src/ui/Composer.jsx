import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import {
  MAX_ATTACHMENTS,
  S,
  attachFiles,
  attachTransfer,
  getDraft,
  isPrivileged,
  sendMessage,
  setDraft,
  stagedFor,
  takeUploaded,
  typing,
  watching,
} from '../store/index.js';
import { t } from '../lib/i18n.js';
import { StagedFiles } from './Attachments.jsx';
import { Bdi, KeyHint } from './common.jsx';
import { Icon } from './icons.jsx';
import { WhisperToggle } from './Participants.jsx';

const TOKEN = /(^|\s)\/([a-z0-9_-]*)$/;
const MAX = 4000;

/** The "/shortcut" being typed just before the caret, if any. */
function cannedQuery(text, caret) {
  const m = TOKEN.exec(text.slice(0, caret));
  return m ? { q: m[2], start: caret - m[2].length - 1 } : null;
}

export function Composer({ c, canReply, canNote }) {
  const id = c.id;
  const initial = getDraft(id);
  const [text, setText] = useState(initial.text);
  const [note, setNote] = useState(canReply ? initial.note : true);
  const [picker, setPicker] = useState(null); // {q, start, index}
  const ta = useRef(null);
  const fileInput = useRef(null);
  const focusSeen = useRef(S.focus.composer);
  // Note mode imposed because replying was not allowed (a queued chat), as
  // opposed to chosen: once the agent may reply (accepted), go back to reply,
  // or their first answer would silently become an internal note.
  const forcedNote = useRef(!canReply);

  const isNote = note || !canReply;
  // A supervisor's or admin's note can be a whisper (note.send with whisper); watching, it is one by default.
  const [whisper, setWhisper] = useState(() => watching(c));
  const isWhisper = isNote && whisper && isPrivileged();

  useEffect(() => {
    if (!canReply) {
      if (!note) {
        setNote(true);
        forcedNote.current = true;
      }
    } else if (forcedNote.current) {
      forcedNote.current = false;
      setNote(false);
    }
  }, [canReply]);

  // Grow with the text, up to a limit.
  useLayoutEffect(() => {
    const el = ta.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(220, Math.max(44, el.scrollHeight))}px`;
  }, [text]);

  // Focus requests from shortcuts (r, n, /) and after accepting.
  useEffect(() => {
    if (S.focus.composer === focusSeen.current) return;
    focusSeen.current = S.focus.composer;
    const el = ta.current;
    if (!el) return;
    if (S.focus.note && canNote) updateMode(true);
    else if (!S.focus.note && canReply && !S.focus.canned) updateMode(false);
    el.focus();
    if (S.focus.canned) {
      const caret = el.selectionStart;
      const before = text.slice(0, caret);
      const insert = before && !/\s$/.test(before) ? ' /' : '/';
      const next = before + insert + text.slice(el.selectionEnd);
      change(next, caret + insert.length);
      requestAnimationFrame(() => el.setSelectionRange(caret + insert.length, caret + insert.length));
    }
  });

  useEffect(() => () => typing(id, false), [id]);

  function updateMode(n) {
    forcedNote.current = false;
    setNote(n);
    setDraft(id, { text, note: n });
    typing(id, !!text.trim(), n);
  }

  function change(next, caret) {
    setText(next);
    setDraft(id, { text: next, note: isNote });
    const q = cannedQuery(next, caret === undefined ? next.length : caret);
    setPicker(q ? { ...q, index: 0 } : null);
    typing(id, !!next.trim(), isNote);
  }

  const matches = picker ? S.canned.filter((k) => k.shortcut.startsWith(picker.q.toLowerCase())).slice(0, 8) : [];

  function pick(k) {
    const el = ta.current;
    const caret = el ? el.selectionStart : text.length;
    const next = text.slice(0, picker.start) + k.body + text.slice(caret);
    const pos = picker.start + k.body.length;
    setPicker(null);
    setText(next);
    setDraft(id, { text: next, note: isNote });
    requestAnimationFrame(() => {
      if (!ta.current) return;
      ta.current.focus();
      ta.current.setSelectionRange(pos, pos);
    });
  }

  // The files attached (ui-shared/files.js through store/files.js): each
  // uploads at once; the message can go when none is still uploading, with
  // those uploaded (a reply or a note alike: a note's files stay internal).
  const staged = stagedFor(id);
  const busy = staged.some((u) => u.state === 'uploading');
  const ready = staged.filter((u) => u.state === 'done').length;

  function send(asNote) {
    const kind = asNote || isNote ? 'note' : 'message';
    if (kind === 'note' && !canNote) return;
    if (kind === 'message' && !canReply) return;
    if ((!text.trim() && !ready) || text.length > MAX || busy) return;
    if (sendMessage(id, text, kind, takeUploaded(id), { whisper: kind === 'note' && isWhisper })) {
      setText('');
      setPicker(null);
      setDraft(id, { text: '', note: isNote });
      typing(id, false);
    }
  }

  /** A pasted image (a screenshot): attached. Text, even with a picture of it (a spreadsheet), pastes as text. */
  function onPaste(e) {
    const dt = e.clipboardData;
    if (!dt || !dt.files || !dt.files.length) return;
    if (Array.from(dt.types || []).includes('text/plain') && dt.getData('text/plain')) return;
    e.preventDefault();
    attachTransfer(id, dt);
  }

  function onKeyDown(e) {
    if (picker && matches.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setPicker({ ...picker, index: (picker.index + d + matches.length) % matches.length });
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
        e.preventDefault();
        pick(matches[Math.min(picker.index, matches.length - 1)]);
        return;
      }
    }
    if (e.key === 'Escape') {
      if (picker) {
        e.preventDefault();
        e.stopPropagation();
        setPicker(null);
      } else {
        e.currentTarget.blur();
      }
      return;
    }
    if (e.key === 'Enter' && !e.isComposing) {
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        send(true);
      } else if (!e.shiftKey && !e.altKey) {
        e.preventDefault();
        send(false);
      }
    }
  }

  const over = text.length > MAX;
  const canSend = (!!text.trim() || ready > 0) && !over && !busy;
  return (
    <div class={`composer ${isNote ? 'composer-note' : ''} ${isWhisper ? 'composer-whisper' : ''}`} data-testid="composer">
      <div class="composer-tabs" role="tablist" aria-label={t('replyOrNote')}>
        <button
          type="button"
          role="tab"
          aria-selected={!isNote ? 'true' : 'false'}
          class={!isNote ? 'on' : ''}
          disabled={!canReply}
          onClick={() => updateMode(false)}
          data-testid="mode-reply"
        >
          <Icon name="message" size={14} /> {t('reply')}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={isNote ? 'true' : 'false'}
          class={isNote ? 'on note' : ''}
          disabled={!canNote}
          onClick={() => updateMode(true)}
          data-testid="mode-note"
        >
          <Icon name="note" size={14} /> {t('internalNote')}
        </button>
        {isNote && isPrivileged() ? <WhisperToggle on={whisper} onChange={setWhisper} /> : null}
        {isNote && !isWhisper ? <span class="note-hint">{t('notesHint')}</span> : null}
      </div>
      {picker && (matches.length || picker.q) ? (
        <div class="canned-picker" role="listbox" aria-label={t('cannedResponses')} data-testid="canned-picker">
          <div class="canned-head">
            <Icon name="zap" size={14} /> {t('cannedResponses')} {picker.q ? <span class="mono">/{picker.q}</span> : null}
          </div>
          {matches.length ? (
            matches.map((k, i) => (
              <button
                type="button"
                role="option"
                aria-selected={i === picker.index ? 'true' : 'false'}
                key={k.id}
                class={`canned-opt ${i === picker.index ? 'on' : ''}`}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(k);
                }}
              >
                <span class="mono">/{k.shortcut}</span>
                <Bdi class="canned-body" text={k.body} />
              </button>
            ))
          ) : (
            <div class="canned-none">{t('cannedNone', { q: picker.q })}</div>
          )}
        </div>
      ) : null}
      <StagedFiles id={id} />
      <textarea
        ref={ta}
        rows={2}
        value={text}
        placeholder={isWhisper ? t('whisperPlaceholder') : isNote ? t('notePlaceholder') : t('replyPlaceholder')}
        aria-label={isWhisper ? t('whisper') : isNote ? t('internalNote') : t('reply')}
        data-testid="composer-input"
        onInput={(e) => change(e.currentTarget.value, e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        onBlur={() => setTimeout(() => setPicker(null), 150)}
      />
      <div class="composer-foot">
        <input
          ref={fileInput}
          type="file"
          multiple
          class="file-input"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="attach-input"
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files || []);
            e.currentTarget.value = '';
            if (files.length) attachFiles(id, files);
            if (ta.current) ta.current.focus();
          }}
        />
        <button
          type="button"
          class="icon-btn"
          title={isNote ? t('attachToNote') : t('attachToReply')}
          aria-label={isNote ? t('attachToNote') : t('attachToReply')}
          disabled={staged.length >= MAX_ATTACHMENTS}
          data-testid="attach-button"
          onClick={() => fileInput.current && fileInput.current.click()}
        >
          <Icon name="paperclip" />
        </button>
        <button
          type="button"
          class="icon-btn"
          title={t('cannedButtonTitle')}
          aria-label={t('cannedInsert')}
          data-testid="canned-button"
          onClick={() => {
            const el = ta.current;
            const caret = el ? el.selectionStart : text.length;
            const before = text.slice(0, caret);
            const insert = before && !/\s$/.test(before) ? ' /' : '/';
            const next = before + insert + text.slice(caret);
            change(next, caret + insert.length);
            requestAnimationFrame(() => {
              if (!ta.current) return;
              ta.current.focus();
              ta.current.setSelectionRange(caret + insert.length, caret + insert.length);
            });
          }}
        >
          <Icon name="zap" />
        </button>
        <span class="hint">
          <KeyHint text={t('composerKeys')} />
        </span>
        {text.length > MAX - 400 ? <span class={`counter ${over ? 'over' : ''}`}>{MAX - text.length}</span> : null}
        <button
          type="button"
          class={`btn ${isNote ? 'note-btn' : 'primary'}`}
          disabled={!canSend}
          title={busy ? t('waitForUploads') : undefined}
          onClick={() => send(false)}
          data-testid="send"
        >
          <Icon name={isNote ? 'note' : 'send'} size={15} />
          {isWhisper ? t('addWhisper') : isNote ? t('addNote') : t('send')}
        </button>
      </div>
    </div>
  );
}
