import { useEffect, useRef, useState } from 'preact/hooks';
import { Icon } from './icons.jsx';
import { balance } from '../../../ui-shared/bidi.js';
import { safeHref } from '../../../ui-shared/linkify.js';
import { copyText, hue, initials } from '../lib/util.js';
import { S, dismissToast, resolveConfirm } from '../store/index.js';

export function Avatar({ name, seed, size = 32, kind = 'visitor' }) {
  const h = hue(seed === undefined ? name : seed);
  const style =
    kind === 'agent'
      ? { width: `${size}px`, height: `${size}px`, background: `hsl(${h} 45% 42%)`, fontSize: `${Math.round(size * 0.38)}px` }
      : { width: `${size}px`, height: `${size}px`, background: `hsl(${h} 70% 92%)`, color: `hsl(${h} 55% 32%)`, fontSize: `${Math.round(size * 0.38)}px` };
  return (
    <span class={`avatar avatar-${kind}`} style={style} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/**
 * A name (or any short text from people) shown among other text: in a
 * <bdi>, so that neither its direction nor a control inside it can reorder
 * what is around it, and balanced (ui-shared/bidi.js), so that a stray PDI cannot
 * end the <bdi>'s isolation early. Every visitor, agent, team, site and
 * token name in the console goes through here.
 */
export function Bdi({ text, class: cls, title, testid }) {
  return (
    <bdi class={cls} title={title} data-testid={testid}>
      {balance(text)}
    </bdi>
  );
}

/** A link for a URL we did not write: only http(s), opened without referrer. */
export function SafeLink({ url, children }) {
  const href = safeHref(url);
  if (!href) return <span class="mono">{children || balance(url)}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" title={balance(url)}>
      {children || balance(url)}
    </a>
  );
}

// Open modals, innermost last: Escape closes the innermost one wherever
// the focus is.
const modalStack = [];
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !modalStack.length) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  modalStack[modalStack.length - 1].current();
});

/**
 * What every dialog does while it is open: Escape closes it (the innermost
 * one), the focus moves into it (box: a ref to its element) and goes back,
 * when it closes, to where it was.
 */
export function useDialog(box, onClose) {
  const close = useRef(onClose);
  close.current = onClose;
  // What had the focus, read while rendering the first time: by the time an
  // effect runs, the browser may already have moved it into the dialog
  // (an [autofocus] element inserted into the page).
  const [opener] = useState(() => document.activeElement);
  useEffect(() => {
    const prev = opener;
    modalStack.push(close);
    // [autofocus] first: one selector list would match in document order,
    // and the header's close button comes before every field.
    const el = box.current && (box.current.querySelector('[autofocus]') || box.current.querySelector('input, select, textarea, button.primary, button'));
    if (el) el.focus();
    return () => {
      const i = modalStack.indexOf(close);
      if (i >= 0) modalStack.splice(i, 1);
      if (prev && prev.focus && document.contains(prev)) prev.focus();
    };
  }, []);
}

/** title: text or JSX (a name in a <Bdi>); then label is its text for aria-label. */
export function Modal({ title, onClose, children, footer, wide, label, lang, closeLabel = 'Close dialog' }) {
  const box = useRef(null);
  useDialog(box, onClose);
  return (
    <div
      class="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        class={`modal ${wide ? 'modal-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={label || (typeof title === 'string' ? title : undefined)}
        lang={lang}
        ref={box}
      >
        <div class="modal-head">
          <h2>{title}</h2>
          <button class="icon-btn" type="button" onClick={onClose} aria-label={closeLabel}>
            <Icon name="x" />
          </button>
        </div>
        <div class="modal-body">{children}</div>
        {footer ? <div class="modal-foot">{footer}</div> : null}
      </div>
    </div>
  );
}

export function ConfirmDialog() {
  const d = S.dialog;
  return (
    <Modal
      title={d.title}
      label={d.label}
      lang={d.lang}
      closeLabel={d.close}
      onClose={() => resolveConfirm(false)}
      footer={
        <>
          <button type="button" class="btn" onClick={() => resolveConfirm(false)}>
            {d.cancel || 'Cancel'}
          </button>
          <button type="button" class={`btn ${d.danger ? 'danger' : 'primary'}`} autofocus onClick={() => resolveConfirm(true)}>
            {d.confirm}
          </button>
        </>
      }
    >
      <p class="confirm-text">{d.body}</p>
    </Modal>
  );
}

export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {S.toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <Icon name="x" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

export function Field({ label, error, hint, children, id, wide }) {
  return (
    <div class={`field ${error ? 'has-error' : ''} ${wide ? 'span2' : ''}`}>
      {label ? <label for={id}>{label}</label> : null}
      {children}
      {error ? (
        <div class="field-error" role="alert">
          {error}
        </div>
      ) : hint ? (
        <div class="field-hint">{hint}</div>
      ) : null}
    </div>
  );
}

/** A translated hint with {Key} tokens ("{Enter} send"), each shown as a key. */
export function KeyHint({ text }) {
  return text.split(/(\{[^{}]+\})/).map((part, i) => (/^\{[^{}]+\}$/.test(part) ? <Kbd key={i}>{part.slice(1, -1)}</Kbd> : part));
}

export function Spinner({ label = 'Loading' }) {
  return <span class="spinner" role="progressbar" aria-label={label} />;
}

/** A button that copies text; its words (label, copied, failed) can be translated. */
export function CopyButton({ text, label = 'Copy', copied = 'Copied!', failed = 'Copy failed', onCopied, class: cls = '', testid }) {
  const [done, setDone] = useState(null); // null | 'ok' | 'failed'
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      class={`btn ${cls}`}
      data-testid={testid}
      onClick={async () => {
        const ok = await copyText(text);
        setDone(ok ? 'ok' : 'failed');
        if (ok && onCopied) onCopied();
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setDone(null), 1800);
      }}
    >
      <Icon name={done === 'ok' ? 'check' : 'copy'} size={15} />
      {done === 'ok' ? copied : done === 'failed' ? failed : label}
    </button>
  );
}

/** Re-renders every `ms` milliseconds (live wait times). */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function Kbd({ children }) {
  return <kbd>{children}</kbd>;
}
