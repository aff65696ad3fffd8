import { useEffect, useState } from 'preact/hooks';
import {
  S,
  accept,
  closeConv,
  closeDialog,
  focusComposer,
  isPrivileged,
  openDialog,
  openList,
  reopen,
  setHelp,
  step,
  subscribe,
  totalUnread,
  ringingCalls,
} from '../store/index.js';
import { t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { balance } from '../../../ui-shared/bidi.js';
import { Admin } from './admin/Admin.jsx';
import { Board } from './Board.jsx';
import { CallAudio, CallStrip, RingingCards } from './Call.jsx';
import { HookNotice } from './admin/Webhooks.jsx';
import { ImageZoom } from './Attachments.jsx';
import { ConfirmDialog, KeyHint, Toasts } from './common.jsx';
import { permissions, ConversationView } from './Conversation.jsx';
import { ConversationList } from './ConversationList.jsx';
import { HelpOverlay, PasswordDialog, TransferDialog } from './Dialogs.jsx';
import { Icon } from './icons.jsx';
import { Login } from './Login.jsx';
import { Reports } from './Reports.jsx';
import { EscalateDialog, InviteDialog } from './Participants.jsx';
import { Sidebar } from './Sidebar.jsx';
import { VisitorPanel } from './VisitorPanel.jsx';
import { VisitorInviteDialog, Visitors } from './Visitors.jsx';

function typingTarget(el) {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

function useShortcuts(togglePanel) {
  useEffect(() => {
    const onKey = (e) => {
      if (S.phase !== 'app') return;
      if (e.defaultPrevented) return;
      if (S.dialog || S.help) {
        if (e.key === 'Escape') {
          if (S.help) setHelp(false);
          else closeDialog();
        }
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
      const id = S.view.area === 'inbox' ? S.view.selected : null;
      const c = id ? S.convs.get(id) : null;
      const can = c ? permissions(c) : {};
      let handled = true;
      switch (e.key) {
        case '?':
          setHelp(true);
          break;
        case 'j':
          step(1);
          break;
        case 'k':
          step(-1);
          break;
        case '1':
          openList('queue');
          break;
        case '2':
          openList('mine');
          break;
        case '3':
          if (isPrivileged()) openList('all');
          break;
        case '4':
          openList('closed');
          break;
        case 'a':
          if (can.accept) accept(id);
          break;
        case 'e':
          if (can.close) closeConv(id);
          break;
        case 'R':
          if (can.reopen) reopen(id);
          break;
        case 't':
          if (can.transfer) openDialog({ type: 'transfer', id });
          break;
        case 'r':
          if (can.reply || can.note) focusComposer({ note: !can.reply });
          break;
        case 'n':
          if (can.note) focusComposer({ note: true });
          break;
        case '/':
          if (can.reply || can.note) focusComposer({ note: !can.reply, canned: true });
          break;
        case 'i':
          togglePanel();
          break;
        default:
          handled = false;
      }
      if (handled) e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

/**
 * Files dropped anywhere but on a conversation that takes them are refused
 * (the browser would otherwise leave the console to open the file).
 */
function useNoStrayDrops() {
  useEffect(() => {
    const refuse = (e) => {
      if (e.defaultPrevented || !e.dataTransfer || !Array.from(e.dataTransfer.types || []).includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'none';
    };
    window.addEventListener('dragover', refuse);
    window.addEventListener('drop', refuse);
    return () => {
      window.removeEventListener('dragover', refuse);
      window.removeEventListener('drop', refuse);
    };
  }, []);
}

/**
 * The tab's title: the unread count, and while a visitor's call rings, the
 * call alternating with it every second (the one cue of a call outside the
 * tab: it never sounds).
 */
function usePageTitle(unread, ringing) {
  const base = unread ? `(${unread}) Parley` : 'Parley';
  const c = ringing ? S.convs.get(ringing.conversation_id) : null;
  const ring = ringing ? `📞 ${t('callRingTitle', { name: balance(c ? visitorName(c) : t('theVisitor')) })}` : '';
  useEffect(() => {
    document.title = base;
    if (!ring) return undefined;
    let on = true;
    const timer = setInterval(() => {
      on = !on;
      document.title = on ? ring : base;
    }, 1000);
    document.title = ring;
    return () => {
      clearInterval(timer);
      document.title = base;
    };
  }, [base, ring]);
}

function Inbox({ panel, togglePanel }) {
  const id = S.view.selected;
  return (
    <div class={`inbox ${panel && id ? 'with-panel' : ''} ${id ? 'has-selection' : ''}`}>
      <ConversationList />
      {id ? (
        <ConversationView id={id} panel={panel} onTogglePanel={togglePanel} />
      ) : (
        <section class="conv-view">
          <div class="empty big">
            <Icon name="inbox" size={36} />
            <strong>{t('pickConversation')}</strong>
            <p>
              <KeyHint text={t('pickHint')} />
            </p>
          </div>
        </section>
      )}
      {panel && id && S.convs.get(id) ? <VisitorPanel id={id} /> : null}
    </div>
  );
}

function Shell() {
  const [panel, setPanel] = useState(() => localStorage.getItem('parley:panel') !== 'off');
  const togglePanel = () =>
    setPanel((p) => {
      try {
        localStorage.setItem('parley:panel', p ? 'off' : 'on');
      } catch {
        /* ignore */
      }
      return !p;
    });
  useShortcuts(togglePanel);
  useNoStrayDrops();
  usePageTitle(totalUnread(), ringingCalls()[0]);
  return (
    <div class="shell">
      <Sidebar />
      <main class="main">
        <HookNotice />
        <CallStrip />
        {S.view.area === 'admin' ? (
          <Admin />
        ) : S.view.area === 'board' && isPrivileged() ? (
          <Board />
        ) : S.view.area === 'visitors' ? (
          <Visitors />
        ) : S.view.area === 'reports' ? (
          <Reports />
        ) : (
          <Inbox panel={panel} togglePanel={togglePanel} />
        )}
      </main>
      {S.dialog && S.dialog.type === 'transfer' ? <TransferDialog id={S.dialog.id} /> : null}
      {S.dialog && S.dialog.type === 'invite' ? <InviteDialog id={S.dialog.id} /> : null}
      {S.dialog && S.dialog.type === 'escalate' ? <EscalateDialog id={S.dialog.id} /> : null}
      {S.dialog && S.dialog.type === 'confirm' ? <ConfirmDialog /> : null}
      {S.dialog && S.dialog.type === 'visitorInvite' ? <VisitorInviteDialog visitor={S.dialog.visitor} /> : null}
      {S.dialog && S.dialog.type === 'password' ? <PasswordDialog /> : null}
      {S.dialog && S.dialog.type === 'image' ? <ImageZoom file={S.dialog.file} /> : null}
      {S.help ? <HelpOverlay /> : null}
      <RingingCards />
      <CallAudio />
      <Toasts />
    </div>
  );
}

export function App() {
  const [, force] = useState(0);
  useEffect(() => subscribe(() => force((n) => n + 1)), []);
  if (S.phase === 'boot') return <div class="boot">Loading Parley…</div>;
  if (S.phase === 'login')
    return (
      <>
        <Login />
        <Toasts />
      </>
    );
  return <Shell />;
}
