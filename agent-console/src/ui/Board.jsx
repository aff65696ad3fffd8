// Board: the supervisors' live board (#/board). Per team: whether it is
// within its business hours, the chats waiting (with their waiting time,
// ticking), the agents (status, load against their maximum) and the chats
// at risk of missing an SLA target (or past it). Read through board.get and
// read again when events say something changed (store/board.js).
import { useEffect } from 'preact/hooks';
import { S, navigate, refreshBoard, watchBoard } from '../store/index.js';
import { fmtClock, fmtTime, ts } from '../../../ui-shared/time.js';
import { lang, t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { Avatar, Bdi, Spinner, useNow } from './common.jsx';
import { Icon } from './icons.jsx';
import { fmtCountdown } from './SlaClock.jsx';

const KIND = { first_response: 'slaFirst', next_response: 'slaNext', resolution: 'slaResolution' };
const PRIO = { low: 'prioLow', normal: 'prioNormal', high: 'prioHigh', urgent: 'prioUrgent' };
const STATUS = { online: 'statusOnline', away: 'statusAway', offline: 'statusOffline' };

/** "Mon 09:00" in the agent's language: when a closed team opens again. */
export function backAtText(iso) {
  const d = new Date(ts(iso));
  if (Number.isNaN(d.getTime())) return '';
  const day = d.toLocaleDateString(lang(), { weekday: 'short' });
  return `${day} ${fmtClock(iso, lang())}`;
}

/** Opens a chat in the list it is in: the queue while it waits, else all open chats. */
function openConv(id, queued) {
  navigate({ area: 'inbox', list: queued ? 'queue' : 'all', selected: id });
}

function Waiting({ w, team, now }) {
  const waited = (w.waiting_seconds || 0) * 1000 + (now - S.board.receivedAt);
  const c = S.convs.get(w.conversation_id);
  const name = w.visitor || (c ? visitorName(c) : `${t('boardVisitor')} #${w.conversation_id}`);
  return (
    <li>
      <button
        type="button"
        class="board-row"
        onClick={() => openConv(w.conversation_id, true)}
        data-testid="board-waiting"
        data-id={w.conversation_id}
        data-team={team.id}
      >
        <Avatar name={name} seed={`c${w.conversation_id}`} size={26} />
        <Bdi class="board-name" text={name} />
        {w.priority && w.priority !== 'normal' ? <span class={`pill prio-${w.priority}`}>{t(PRIO[w.priority] || w.priority)}</span> : null}
        <span class={`board-wait ${waited > 120000 ? 'wait-long' : ''}`} data-testid="board-wait">
          {fmtCountdown(waited)}
        </span>
      </button>
    </li>
  );
}

function AgentRow({ a }) {
  const pct = a.max_chats ? Math.min(100, Math.round((a.load / a.max_chats) * 100)) : 100;
  const st = a.connected ? a.status : 'offline';
  return (
    <li class="board-agent" data-testid="board-agent" data-id={a.id} data-load={a.load}>
      <span class={`status-dot status-${st}`} aria-hidden="true" />
      <Bdi class="board-name" text={a.name} />
      <span class="muted small board-status">{a.connected ? t(STATUS[a.status] || a.status) : t('statusDisconnected')}</span>
      <span class="board-load" title={t('boardLoad', { load: a.load, max: a.max_chats })}>
        <span class="board-load-bar">
          <span class={`board-load-fill ${pct >= 100 ? 'full' : ''}`} style={{ width: `${pct}%` }} />
        </span>
        <span class="board-load-text" data-testid="board-load">
          {a.load}/{a.max_chats}
        </span>
      </span>
    </li>
  );
}

function Risk({ r, now }) {
  const due = ts(r.due_at);
  const over = r.breached || due <= now;
  const c = S.convs.get(r.conversation_id);
  return (
    <li>
      <button
        type="button"
        class={`board-row ${over ? 'risk-breached' : 'risk-soon'}`}
        onClick={() => openConv(r.conversation_id, !r.assignee)}
        data-testid="board-risk"
        data-id={r.conversation_id}
        data-state={over ? 'breached' : 'running'}
      >
        <span class="board-risk-line">
          <Icon name={over ? 'alert' : 'clock'} size={14} />
          <span class="board-name">
            {r.visitor || c ? <Bdi text={r.visitor || visitorName(c)} /> : null}
            <span class="muted"> #{r.conversation_id}</span>
          </span>
          <span class="board-due">{over ? t('boardOverdue', { time: fmtCountdown(now - due) }) : t('boardDueIn', { time: fmtCountdown(due - now) })}</span>
        </span>
        <span class="board-risk-sub">
          <span class="board-kind">{t(KIND[r.kind] || r.kind)}</span>
          <Bdi class="muted board-assignee" text={r.assignee || t('boardUnassigned')} />
        </span>
      </button>
    </li>
  );
}

function TeamBoard({ team, now }) {
  return (
    <section class="card board-team" data-testid="board-team" data-id={team.id} aria-labelledby={`board-team-${team.id}`}>
      <header class="board-team-head">
        <h2 id={`board-team-${team.id}`}>
          <Bdi text={team.name} />
        </h2>
        <span class={`pill ${team.open_now ? 'pill-open' : 'pill-closed'}`} data-testid="board-hours">
          {team.open_now ? t('boardOpen') : team.back_at ? t('closedNow', { when: backAtText(team.back_at) }) : t('boardClosed')}
        </span>
      </header>
      <div class="board-cols">
        <div class="board-col">
          <h3>
            {t('boardWaiting')} <span class="board-count">{team.waiting.length}</span>
          </h3>
          {team.waiting.length ? (
            <ul class="board-list">
              {team.waiting.map((w) => (
                <Waiting key={w.conversation_id} w={w} team={team} now={now} />
              ))}
            </ul>
          ) : (
            <p class="muted small">{t('boardNobodyWaiting')}</p>
          )}
        </div>
        <div class="board-col">
          <h3>
            {t('boardAgents')} <span class="board-count">{team.agents.length}</span>
          </h3>
          {team.agents.length ? (
            <ul class="board-list">
              {team.agents.map((a) => (
                <AgentRow key={a.id} a={a} />
              ))}
            </ul>
          ) : (
            <p class="muted small">{t('boardNoAgents')}</p>
          )}
        </div>
        <div class="board-col">
          <h3>
            {t('boardAtRisk')} <span class={`board-count ${team.at_risk.length ? 'board-count-alert' : ''}`}>{team.at_risk.length}</span>
          </h3>
          {team.at_risk.length ? (
            <ul class="board-list">
              {team.at_risk.map((r) => (
                <Risk key={`${r.conversation_id}-${r.kind}`} r={r} now={now} />
              ))}
            </ul>
          ) : (
            <p class="muted small">{t('boardNoRisk')}</p>
          )}
        </div>
      </div>
    </section>
  );
}

export function Board() {
  const now = useNow(1000);
  useEffect(() => watchBoard(), []);
  useEffect(() => {
    if (S.conn.state === 'open') refreshBoard();
  }, [S.conn.state]);
  const b = S.board;
  return (
    <div class="admin board" lang={lang()} data-testid="board">
      <header class="admin-head">
        <div>
          <h1>{t('board')}</h1>
          <p class="muted">{t('boardSub')}</p>
        </div>
        <div class="admin-head-actions">{b ? <span class="muted small">{t('boardUpdated', { time: fmtTime(b.generated_at) })}</span> : null}</div>
      </header>
      {S.boardError ? <div class="notice notice-error">{t('boardError', { error: S.boardError })}</div> : null}
      {!b ? (
        <div class="empty big">
          <Spinner />
        </div>
      ) : b.teams.length ? (
        <div class="board-teams">
          {b.teams.map((team) => (
            <TeamBoard key={team.id} team={team} now={now} />
          ))}
        </div>
      ) : (
        <p class="muted">{t('boardNoTeams')}</p>
      )}
    </div>
  );
}
