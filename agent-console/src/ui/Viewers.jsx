// Who else has the open conversation on screen ("Ana is viewing") and who
// of them is typing ("Ben is typing a reply", "… a note"), above the
// composer; the agent themself is left out. Names are isolated text.

import { useEffect } from 'preact/hooks';
import { othersViewing, showConv } from '../store/index.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { lang, t } from '../lib/i18n.js';
import { Avatar } from './common.jsx';

/** Tells the server this console shows conversation id while it is mounted. */
export function useViewing(id) {
  useEffect(() => {
    showConv(id, true);
    return () => showConv(id, false);
  }, [id]);
}

function viewingText(list) {
  const n = list.map((v) => isolate(v.name));
  if (n.length === 1) return t('viewing', { name: n[0] });
  if (n.length === 2) return t('viewing2', { a: n[0], b: n[1] });
  return t('viewingN', { a: n[0], b: n[1], n: n.length - 2 });
}

export function Viewers({ id }) {
  const others = othersViewing(id);
  if (!others.length) return null;
  const typing = others.filter((v) => v.typing);
  const idle = others.filter((v) => !v.typing);
  return (
    <div class="viewers" data-testid="viewers" aria-live="polite" lang={lang()}>
      <span class="viewer-faces" aria-hidden="true">
        {others.slice(0, 4).map((v) => (
          <Avatar key={v.id} name={v.name} seed={`a${v.id}`} kind="agent" size={20} />
        ))}
      </span>
      {typing.map((v) => (
        <span key={v.id} class={`viewer-typing ${v.note ? 'is-note' : ''}`} data-testid="viewer-typing" data-note={v.note ? 'true' : 'false'}>
          <span class="typing-dots">
            <i />
            <i />
            <i />
          </span>
          {t(v.note ? 'typingNote' : 'typingReply', { name: isolate(v.name) })}
        </span>
      ))}
      {idle.length ? (
        <span class="viewer-text" data-testid="viewing">
          {viewingText(idle)}
        </span>
      ) : null}
    </div>
  );
}
