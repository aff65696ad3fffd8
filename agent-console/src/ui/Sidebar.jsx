import { useEffect, useRef, useState } from 'preact/hooks';
import {
  S,
  canSeeAdmin,
  capacity,
  enableDesktop,
  isPrivileged,
  lists,
  logout,
  navigate,
  openDialog,
  openList,
  reconnectNow,
  setHelp,
  setStatus,
  toggleSound,
  unreadCount,
} from '../store/index.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { t } from '../lib/i18n.js';
import { Avatar, Bdi, useNow } from './common.jsx';
import { Icon } from './icons.jsx';

export function ConnectionState() {
  const now = useNow(500);
  const c = S.conn;
  let cls = 'ok';
  let text = t('connConnected');
  let retry = false;
  if (c.state === 'connecting') {
    cls = 'warn';
    text = S.everOpen ? t('connReconnecting') : t('connConnecting');
  } else if (c.state === 'waiting') {
    cls = 'bad';
    const s = Math.max(0, Math.ceil((c.retryAt - now) / 1000));
    text = t('connWaiting', { s });
    retry = true;
  } else if (c.state !== 'open') {
    cls = 'bad';
    text = t('connDisconnected');
  }
  return (
    <div class={`conn conn-${cls}`} role="status" aria-live="polite" data-testid="connection" data-state={c.state}>
      <span class="dot" />
      <span class="conn-text">{text}</span>
      {retry ? (
        <button type="button" class="link-btn" onClick={reconnectNow}>
          {t('connRetry')}
        </button>
      ) : null}
    </div>
  );
}

const STATUSES = [
  { id: 'online', label: 'statusOnline' },
  { id: 'away', label: 'statusAway' },
  { id: 'offline', label: 'statusOffline' },
];

const ROLES = { admin: 'roleAdmin', supervisor: 'roleSupervisor', agent: 'roleAgent' };

export function StatusSwitch() {
  const disabled = S.conn.state !== 'open';
  return (
    <div class="status-switch" role="radiogroup" aria-label={t('statusLabel')}>
      {STATUSES.map((s) => (
        <button
          key={s.id}
          type="button"
          role="radio"
          aria-checked={S.status === s.id ? 'true' : 'false'}
          class={`status-opt status-${s.id} ${S.status === s.id ? 'on' : ''}`}
          disabled={disabled}
          onClick={() => S.status !== s.id && setStatus(s.id)}
        >
          <span class="dot" />
          {t(s.label)}
        </button>
      ))}
    </div>
  );
}

function NavItem({ icon, label, count, active, onClick, testid, alert }) {
  return (
    <button type="button" class={`nav-item ${active ? 'active' : ''}`} onClick={onClick} data-testid={testid} aria-current={active ? 'page' : undefined}>
      <Icon name={icon} />
      <span class="nav-label">{label}</span>
      {count !== undefined && count !== null ? <span class={`count ${alert ? 'count-alert' : ''}`}>{count}</span> : null}
    </button>
  );
}

/** The agent's own menu (the name in the sidebar's foot): open state,
 * closed by a click elsewhere or Escape. */
function useMenu() {
  const [menu, setMenu] = useState(false);
  const meRef = useRef(null);
  useEffect(() => {
    if (!menu) return undefined;
    const onDown = (e) => {
      if (meRef.current && !meRef.current.contains(e.target)) setMenu(false);
    };
    const onKey = (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      setMenu(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [menu]);
  return { menu, setMenu, meRef };
}

export function Sidebar() {
  const { menu, setMenu, meRef } = useMenu();
  const l = lists();
  const v = S.view;
  const me = S.me;
  const mineUnread = l.mine.some((c) => unreadCount(c.id) > 0);
  const { open, max } = capacity();
  const pct = max ? Math.min(100, Math.round((open / max) * 100)) : 100;
  const inbox = v.area === 'inbox';
  return (
    <nav class="sidebar" aria-label={t('navMain')}>
      <div class="brand">
        <span class="brand-mark">
          <Icon name="message" size={18} />
        </span>
        <span class="brand-name">Parley</span>
      </div>
      <ConnectionState />
      <div class="nav-section">
        <div class="nav-title">{t('navInbox')}</div>
        <NavItem
          icon="clock"
          label={t('navQueue')}
          count={l.queue.length}
          alert={l.queue.length > 0}
          active={inbox && v.list === 'queue'}
          onClick={() => openList('queue')}
          testid="nav-queue"
        />
        <NavItem
          icon="user"
          label={t('navMine')}
          count={l.mine.length}
          alert={mineUnread}
          active={inbox && v.list === 'mine'}
          onClick={() => openList('mine')}
          testid="nav-mine"
        />
        {isPrivileged() ? (
          <NavItem icon="layers" label={t('navAll')} count={l.all.length} active={inbox && v.list === 'all'} onClick={() => openList('all')} testid="nav-all" />
        ) : null}
        <NavItem icon="archive" label={t('navClosed')} active={inbox && v.list === 'closed'} onClick={() => openList('closed')} testid="nav-closed" />
        {isPrivileged() ? (
          <NavItem icon="monitor" label={t('board')} active={v.area === 'board'} onClick={() => navigate({ area: 'board' })} testid="nav-board" />
        ) : null}
        <NavItem icon="eye" label={t('visitors')} active={v.area === 'visitors'} onClick={() => navigate({ area: 'visitors' })} testid="nav-visitors" />
        <NavItem
          icon="chart"
          label={t(isPrivileged() ? 'rptTitle' : 'rptTitleMine')}
          active={v.area === 'reports'}
          onClick={() => navigate({ area: 'reports' })}
          testid="nav-reports"
        />
      </div>
      {canSeeAdmin('canned') ? (
        <div class="nav-section">
          <div class="nav-title">{canSeeAdmin('agents') ? t('navAdmin') : t('navWorkspace')}</div>
          {canSeeAdmin('agents') ? (
            <>
              <NavItem
                icon="users"
                label={t('navAgents')}
                active={!inbox && v.admin === 'agents'}
                onClick={() => navigate({ area: 'admin', admin: 'agents' })}
                testid="nav-admin-agents"
              />
              <NavItem
                icon="layers"
                label={t('navTeams')}
                active={!inbox && v.admin === 'teams'}
                onClick={() => navigate({ area: 'admin', admin: 'teams' })}
                testid="nav-admin-teams"
              />
              <NavItem
                icon="globe"
                label={t('navSites')}
                active={!inbox && v.admin === 'sites'}
                onClick={() => navigate({ area: 'admin', admin: 'sites' })}
                testid="nav-admin-sites"
              />
              <NavItem
                icon="key"
                label={t('navTokens')}
                active={!inbox && v.admin === 'tokens'}
                onClick={() => navigate({ area: 'admin', admin: 'tokens' })}
                testid="nav-admin-tokens"
              />
              <NavItem
                icon="webhook"
                label={t('webhooks')}
                count={S.hookAlerts.length || null}
                alert
                active={!inbox && v.admin === 'webhooks'}
                onClick={() => navigate({ area: 'admin', admin: 'webhooks' })}
                testid="nav-admin-webhooks"
              />
              <NavItem
                icon="bot"
                label={t('bots')}
                active={!inbox && v.admin === 'bots'}
                onClick={() => navigate({ area: 'admin', admin: 'bots' })}
                testid="nav-admin-bots"
              />
              <NavItem
                icon="tag"
                label={t('labelsTitle')}
                active={!inbox && v.admin === 'labels'}
                onClick={() => navigate({ area: 'admin', admin: 'labels' })}
                testid="nav-admin-labels"
              />
              <NavItem
                icon="workflow"
                label={t('automation')}
                active={!inbox && v.admin === 'automation'}
                onClick={() => navigate({ area: 'admin', admin: 'automation' })}
                testid="nav-admin-automation"
              />
            </>
          ) : null}
          <NavItem
            icon="zap"
            label={t('navCanned')}
            active={!inbox && v.admin === 'canned'}
            onClick={() => navigate({ area: 'admin', admin: 'canned' })}
            testid="nav-admin-canned"
          />
          <NavItem
            icon="send"
            label={t('invitations')}
            active={v.area === 'admin' && v.admin === 'invitations'}
            onClick={() => navigate({ area: 'admin', admin: 'invitations' })}
            testid="nav-admin-invitations"
          />
        </div>
      ) : null}
      <div class="sidebar-foot">
        <div class="me" ref={meRef}>
          <button
            type="button"
            class="me-btn"
            aria-haspopup="menu"
            aria-expanded={menu ? 'true' : 'false'}
            onClick={() => setMenu(!menu)}
            title={me.email}
            data-testid="me-menu"
          >
            <Avatar name={me.name} seed={`a${me.id}`} kind="agent" size={34} />
            <span class="me-text">
              <span class="me-name">
                <Bdi text={me.name} />
              </span>
              <span class="me-role">{ROLES[me.role] ? t(ROLES[me.role]) : me.role}</span>
            </span>
            <Icon name="chevronDown" size={14} />
          </button>
          {menu ? (
            <div class="me-menu" role="menu" aria-label={isolate(me.name)}>
              <div class="me-menu-head" title={me.email}>
                {me.email}
              </div>
              <button
                type="button"
                role="menuitem"
                class="me-menu-item"
                onClick={() => {
                  setMenu(false);
                  openDialog({ type: 'password' });
                }}
                data-testid="change-password"
              >
                <Icon name="key" size={15} />
                {t('changePassword')}
              </button>
            </div>
          ) : null}
          <button type="button" class="icon-btn" onClick={() => setHelp(true)} aria-label={t('shortcuts')} title={t('shortcutsTitle')}>
            <Icon name="keyboard" />
          </button>

          <button type="button" class="icon-btn" onClick={logout} aria-label={t('logOut')} title={t('logOut')} data-testid="logout">
            <Icon name="logout" />
          </button>
        </div>
        <StatusSwitch />
        <div class="capacity" title={t('openChatsTitle')} data-testid="capacity">
          <div class="capacity-row">
            <span>{t('openChats')}</span>
            <strong>
              {open} / {max}
            </strong>
          </div>
          <div class="bar">
            <span class={pct >= 100 ? 'full' : ''} style={{ width: `${pct}%` }} />
          </div>
        </div>
        <div class="notify-row">
          <button type="button" class="chip-btn" onClick={toggleSound} aria-pressed={S.notify.sound ? 'true' : 'false'} title={t('soundTitle')}>
            <Icon name={S.notify.sound ? 'volume' : 'mute'} size={15} />
            {S.notify.sound ? t('soundOn') : t('soundOff')}
          </button>
          {S.notify.permission === 'default' ? (
            <button type="button" class="chip-btn accent" onClick={enableDesktop} data-testid="enable-notifications">
              <Icon name="bell" size={15} />
              {t('desktopEnable')}
            </button>
          ) : S.notify.permission === 'granted' ? (
            <span class="chip-static" title={t('desktopOnTitle')}>
              <Icon name="bell" size={15} />
              {t('desktopOn')}
            </span>
          ) : S.notify.permission === 'denied' ? (
            <span class="chip-static muted" title={t('desktopBlockedTitle')}>
              <Icon name="bellOff" size={15} />
              {t('desktopBlocked')}
            </span>
          ) : null}
        </div>
      </div>
    </nav>
  );
}
