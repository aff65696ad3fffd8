// The open conversation's people: its owner and the others in it (invited
// colleagues, supervisors who joined, agents an escalation brought in),
// with what the agent may do (invite, escalate, join, take over, leave),
// the priority and label chips beside them, and the dialogs those open.
// The whisper switch of the composer lives here too.

import { useState } from 'preact/hooks';
import {
  PRIORITIES,
  S,
  closeDialog,
  confirmDialog,
  escalateConv,
  inviteAgent,
  joinConv,
  leaveConv,
  myRole,
  openDialog,
  peopleActions,
  priorityText,
  takeConv,
  watching,
} from '../store/index.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { lang, t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { Avatar, Bdi, Field, Modal } from './common.jsx';
import { Icon } from './icons.jsx';
import { LabelChips, PriorityChip } from './LabelChips.jsx';

const STATUS_WORD = { online: 'stOnline', away: 'stAway', offline: 'stOffline' };
const ROLE_WORD = { collaborator: 'roleCollaborator', supervisor: 'roleSupervisor', escalation: 'roleEscalation' };

/** An agent's presence as a pick list shows it: online, away, offline, or not connected. */
export const presenceText = (a) => (a.connected ? t(STATUS_WORD[a.status] || 'stOffline') : t('notConnected'));

function Person({ p, role }) {
  const me = S.me && p.id === S.me.id;
  return (
    <span class={`person person-${role}`} data-testid="participant" data-role={role} data-agent={p.id} title={t(role === 'owner' ? 'owner' : ROLE_WORD[role])}>
      <Avatar name={p.name} seed={`a${p.id}`} kind="agent" size={22} />
      <span class="person-name">{me ? t('youSuffix', { name: isolate(p.name) }) : <Bdi text={p.name} />}</span>
      <span class="person-role">{t(role === 'owner' ? 'owner' : ROLE_WORD[role])}</span>
    </span>
  );
}

/** Runs act once the agent confirms the dialog's words ({title, body, confirm, danger}). */
async function confirmThen(words, act) {
  if (await confirmDialog({ ...words, cancel: t('cancel'), close: t('closeDialog'), lang: lang() })) act();
}

/** The bar under the header: people, their actions, priority and labels. */
export function ConvBar({ c }) {
  const can = peopleActions(c);
  const role = myRole(c);
  const others = c.participants || [];
  const owner = c.assignee && c.status !== 'queued' ? c.assignee.name : null;
  const take = () =>
    confirmThen({ title: t('takeTitle'), body: owner ? t('takeBody', { name: isolate(owner) }) : t('takeBodyQueued'), confirm: t('takeOver') }, () =>
      takeConv(c.id),
    );
  const join = () => confirmThen({ title: t('joinTitle'), body: t('joinBody'), confirm: t('join') }, () => joinConv(c.id));
  const leave = () => confirmThen({ title: t('leaveTitle'), body: t('leaveBody'), confirm: t('leave'), danger: true }, () => leaveConv(c.id));
  return (
    <div class="conv-bar" data-testid="conv-bar" lang={lang()}>
      <div class="people" role="group" aria-label={t('people')} data-testid="participants">
        {c.assignee && c.status !== 'queued' ? <Person p={c.assignee} role="owner" /> : <span class="person person-none muted">{t('noOwner')}</span>}
        {others.map((p) => (
          <Person key={p.id} p={p} role={p.role} />
        ))}
      </div>
      <span class="triage">
        <PriorityChip c={c} />
        <LabelChips c={c} />
      </span>
      <div class="conv-bar-actions">
        <BarButton on={can.join} onClick={join} icon="user" label="join" title="joinLong" testid="join" />
        <BarButton on={can.take} onClick={take} icon="check" label="takeOver" title="takeOverLong" testid="take-over" />
        <BarButton on={can.invite} onClick={() => openDialog({ type: 'invite', id: c.id })} icon="users" label="invite" title="inviteLong" testid="invite" />
        <BarButton
          on={can.escalate}
          onClick={() => openDialog({ type: 'escalate', id: c.id })}
          icon="transfer"
          label="escalate"
          title="escalateTitle"
          testid="escalate"
        />
        <BarButton on={can.leave && role} onClick={leave} icon="logout" label="leave" title="leaveLong" testid="leave" />
      </div>
    </div>
  );
}

/** One action of the bar (its label hides in a narrow conversation; title and aria-label keep it named). */
function BarButton({ on, onClick, icon, label, title, testid }) {
  if (!on) return null;
  return (
    <button type="button" class="btn small" onClick={onClick} title={t(title)} aria-label={t(label)} data-testid={testid}>
      <Icon name={icon} size={14} />
      <span class="bar-label">{t(label)}</span>
    </button>
  );
}

/** The banner of a supervisor reading along: not in it, the visitor does not see them. */
export function WatchBanner({ c }) {
  if (!watching(c)) return null;
  return (
    <div class="banner banner-info watch-banner" data-testid="watch-banner" lang={lang()}>
      <Icon name="eye" size={16} />
      <span>{t('watching')}</span>
    </div>
  );
}

/** The composer's whisper switch (supervisors and admins, in note mode). */
export function WhisperToggle({ on, onChange }) {
  return (
    <label class={`whisper-toggle ${on ? 'on' : ''}`} title={t('whisperHint')} lang={lang()}>
      <input type="checkbox" checked={on} onChange={(e) => onChange(e.currentTarget.checked)} data-testid="whisper-toggle" />
      <Icon name="eye" size={13} />
      {t('whisper')}
    </label>
  );
}

/** Agents one may bring in: active, not me, connected first. */
function candidates(c) {
  const inIt = new Set([...(c.participants || []).map((p) => p.id), ...(c.assignee ? [c.assignee.id] : [])]);
  return [...S.agents.values()]
    .filter((a) => a.active && S.me && a.id !== S.me.id)
    .map((a) => ({ ...a, inIt: inIt.has(a.id) }))
    .sort((a, b) => Number(b.connected && !b.inIt) - Number(a.connected && !a.inIt) || a.name.localeCompare(b.name));
}

function AgentPicks({ c, target, setTarget, testid }) {
  const list = candidates(c);
  const none = !list.some((a) => a.connected && !a.inIt);
  return (
    <div class="pick-list agent-picks" role="radiogroup" aria-label={t('toAgent')}>
      {none ? <p class="muted">{t('inviteNone')}</p> : null}
      {list.map((a) => {
        const off = !a.connected || a.inIt;
        return (
          <label key={a.id} class={`pick ${target === a.id ? 'on' : ''} ${off ? 'disabled' : ''}`} data-testid={testid}>
            <input type="radio" name="target" value={a.id} disabled={off} checked={target === a.id} onChange={() => setTarget(a.id)} />
            <Avatar name={a.name} seed={`a${a.id}`} kind="agent" size={28} />
            <Bdi class="pick-name" text={a.name} />
            <span class={`presence presence-${a.connected ? a.status : 'gone'}`}>
              <span class="dot" />
              {a.inIt ? t('alreadyIn') : presenceText(a)}
            </span>
            <span class="muted small pick-load">{a.open_chats !== undefined ? t('chatsLoad', { open: a.open_chats, max: a.max_chats }) : ''}</span>
          </label>
        );
      })}
    </div>
  );
}

export function InviteDialog({ id }) {
  const c = S.convs.get(id);
  const [target, setTarget] = useState(null);
  const [busy, setBusy] = useState(false);
  if (!c) return null;
  const submit = async (e) => {
    e.preventDefault();
    if (!target) return;
    setBusy(true);
    if (await inviteAgent(id, target)) closeDialog();
    else setBusy(false);
  };
  return (
    <Modal
      title={t('inviteTitle')}
      lang={lang()}
      closeLabel={t('closeDialog')}
      onClose={closeDialog}
      footer={<DialogFooter form="invite-form" ready={!!target} busy={busy} label={t('inviteSubmit')} busyLabel={t('inviting')} testid="invite-submit" />}
    >
      <form id="invite-form" onSubmit={submit}>
        <p class="dialog-intro">{t('inviteIntro')}</p>
        <AgentPicks c={c} target={target} setTarget={setTarget} testid="invite-agent" />
      </form>
    </Modal>
  );
}

/** Cancel, and the submit button of form (enabled when ready and not busy). */
function DialogFooter({ form, ready, busy, label, busyLabel, testid }) {
  return (
    <>
      <button type="button" class="btn" onClick={closeDialog}>
        {t('cancel')}
      </button>
      <button type="submit" form={form} class="btn primary" disabled={!ready || busy} data-testid={testid}>
        {busy ? busyLabel : label}
      </button>
    </>
  );
}

export function EscalateDialog({ id }) {
  const c = S.convs.get(id);
  const [tab, setTab] = useState('team');
  const [target, setTarget] = useState(null);
  const [reason, setReason] = useState('');
  const [priority, setPriority] = useState('');
  const [busy, setBusy] = useState(false);
  if (!c) return null;
  const submit = async (e) => {
    e.preventDefault();
    if (!target) return;
    setBusy(true);
    const ok = await escalateConv(id, tab === 'agent' ? { to_agent_id: target } : { to_team_id: target }, reason.trim(), priority);
    if (ok) closeDialog();
    else setBusy(false);
  };
  const pickTab = (x) => {
    setTab(x);
    setTarget(null);
  };
  return (
    <Modal
      title={
        <>
          {t('escalateTitle')} · <Bdi text={visitorName(c)} />
        </>
      }
      label={`${t('escalateTitle')} ${isolate(visitorName(c))}`}
      lang={lang()}
      closeLabel={t('closeDialog')}
      onClose={closeDialog}
      footer={
        <DialogFooter form="escalate-form" ready={!!target} busy={busy} label={t('escalateSubmit')} busyLabel={t('escalating')} testid="escalate-submit" />
      }
    >
      <form id="escalate-form" onSubmit={submit}>
        <p class="dialog-intro" data-testid="escalate-intro">
          {t('escalateIntro')}
        </p>
        <div class="segmented" role="tablist">
          <button type="button" role="tab" aria-selected={tab === 'team' ? 'true' : 'false'} class={tab === 'team' ? 'on' : ''} onClick={() => pickTab('team')}>
            <Icon name="users" size={15} /> {t('toTeam')}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'agent' ? 'true' : 'false'}
            class={tab === 'agent' ? 'on' : ''}
            onClick={() => pickTab('agent')}
            data-testid="escalate-tab-agent"
          >
            <Icon name="user" size={15} /> {t('toAgent')}
          </button>
        </div>
        {tab === 'agent' ? (
          <AgentPicks c={c} target={target} setTarget={setTarget} testid="escalate-agent" />
        ) : S.teams.length ? (
          <div class="pick-list" role="radiogroup" aria-label={t('toTeam')}>
            {S.teams.map((tm) => {
              const here = tm.id === c.team_id && c.status === 'queued';
              return (
                <label key={tm.id} class={`pick ${target === tm.id ? 'on' : ''} ${here ? 'disabled' : ''}`} data-testid="escalate-team">
                  <input type="radio" name="target" value={tm.id} disabled={here} checked={target === tm.id} onChange={() => setTarget(tm.id)} />
                  <span class="pick-icon">
                    <Icon name="users" size={16} />
                  </span>
                  <Bdi class="pick-name" text={tm.name} />
                </label>
              );
            })}
          </div>
        ) : (
          <p class="muted">{t('noTeams')}</p>
        )}
        <Field label={t('reason')} hint={t('reasonHint')} id="escalate-reason">
          <textarea
            id="escalate-reason"
            rows={2}
            maxLength={500}
            value={reason}
            placeholder={t('reasonPlaceholder')}
            onInput={(e) => setReason(e.currentTarget.value)}
            data-testid="escalate-reason"
          />
        </Field>
        <Field label={t('escalatePriority')} id="escalate-priority">
          <select id="escalate-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)} data-testid="escalate-priority">
            <option value="">{t('escalatePriorityKeep')}</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {priorityText(p)}
              </option>
            ))}
          </select>
        </Field>
      </form>
    </Modal>
  );
}
