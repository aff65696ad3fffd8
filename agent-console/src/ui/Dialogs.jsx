import { useState } from 'preact/hooks';
import { S, closeDialog, setHelp, transfer } from '../store.js';
import { isolate } from '../lib/bidi.js';
import { visitorName } from '../lib/util.js';
import { Avatar, Bdi, Field, Kbd, Modal } from './common.jsx';
import { Icon } from './icons.jsx';

export function TransferDialog({ id }) {
  const c = S.convs.get(id);
  const [tab, setTab] = useState('agent');
  const [target, setTarget] = useState(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  if (!c) return null;
  const agents = [...S.agents.values()]
    .filter((a) => a.active && a.id !== S.me.id && !(c.assignee && c.assignee.id === a.id))
    .sort((a, b) => Number(b.connected) - Number(a.connected) || (a.status === 'online' ? -1 : 0) - (b.status === 'online' ? -1 : 0) || a.name.localeCompare(b.name));
  const teams = S.teams;
  const submit = async (e) => {
    e.preventDefault();
    if (!target) return;
    setBusy(true);
    const ok = await transfer(id, tab === 'agent' ? { to_agent_id: target } : { to_team_id: target }, reason.trim());
    if (!ok) setBusy(false);
  };
  return (
    <Modal
      title={
        <>
          Transfer <Bdi text={visitorName(c)} />
        </>
      }
      label={`Transfer ${isolate(visitorName(c))}`}
      onClose={closeDialog}
      footer={
        <>
          <button type="button" class="btn" onClick={closeDialog}>
            Cancel
          </button>
          <button type="submit" form="transfer-form" class="btn primary" disabled={!target || busy} data-testid="transfer-submit">
            {busy ? 'Transferring…' : 'Transfer'}
          </button>
        </>
      }
    >
      <form id="transfer-form" onSubmit={submit}>
        <div class="segmented" role="tablist">
          <button type="button" role="tab" aria-selected={tab === 'agent' ? 'true' : 'false'} class={tab === 'agent' ? 'on' : ''} onClick={() => { setTab('agent'); setTarget(null); }}>
            <Icon name="user" size={15} /> To an agent
          </button>
          <button type="button" role="tab" aria-selected={tab === 'team' ? 'true' : 'false'} class={tab === 'team' ? 'on' : ''} onClick={() => { setTab('team'); setTarget(null); }} data-testid="transfer-tab-team">
            <Icon name="users" size={15} /> To a team
          </button>
        </div>
        <div class="pick-list" role="radiogroup" aria-label={tab === 'agent' ? 'Agents' : 'Teams'}>
          {tab === 'agent' ? (
            agents.length ? (
              agents.map((a) => (
                <label key={a.id} class={`pick ${target === a.id ? 'on' : ''} ${a.connected ? '' : 'disabled'}`} data-testid="transfer-agent">
                  <input type="radio" name="target" value={a.id} disabled={!a.connected} checked={target === a.id} onChange={() => setTarget(a.id)} />
                  <Avatar name={a.name} seed={`a${a.id}`} kind="agent" size={28} />
                  <Bdi class="pick-name" text={a.name} />
                  <span class={`presence presence-${a.connected ? a.status : 'gone'}`}>
                    <span class="dot" />
                    {a.connected ? a.status : 'not connected'}
                  </span>
                  <span class="muted small">
                    {a.open_chats !== undefined ? `${a.open_chats}/${a.max_chats} chats` : ''}
                  </span>
                </label>
              ))
            ) : (
              <p class="muted">There is no other active agent.</p>
            )
          ) : (
            teams.map((t) => (
              <label key={t.id} class={`pick ${target === t.id ? 'on' : ''}`} data-testid="transfer-team">
                <input type="radio" name="target" value={t.id} checked={target === t.id} onChange={() => setTarget(t.id)} />
                <span class="team-mark">
                  <Icon name="users" size={15} />
                </span>
                <Bdi class="pick-name" text={t.name} />
                <span class="muted small">
                  {t.member_ids.length} member{t.member_ids.length === 1 ? '' : 's'}
                  {t.id === c.team_id ? ' · current team' : ''}
                </span>
              </label>
            ))
          )}
        </div>
        {tab === 'agent' ? <p class="field-hint">Only agents who are connected right now can receive a transfer.</p> : <p class="field-hint">The chat goes back to the chosen team's queue.</p>}
        <Field label="Reason (shown to agents as an internal note)" id="transfer-reason">
          <input id="transfer-reason" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="e.g. billing question" data-testid="transfer-reason" />
        </Field>
      </form>
    </Modal>
  );
}

const SHORTCUTS = [
  ['Navigation', [
    [['?'], 'Show this help'],
    [['j'], 'Next conversation'],
    [['k'], 'Previous conversation'],
    [['1'], 'Queue'],
    [['2'], 'Mine'],
    [['3'], 'All open (supervisors, admins)'],
    [['4'], 'Closed'],
    [['i'], 'Show or hide visitor details'],
    [['Esc'], 'Close a dialog / leave the composer'],
  ]],
  ['Conversation', [
    [['a'], 'Accept the chat'],
    [['e'], 'Close the conversation'],
    [['Shift', 'R'], 'Reopen a closed conversation'],
    [['t'], 'Transfer'],
    [['r'], 'Reply (focus the composer)'],
    [['n'], 'Write an internal note'],
    [['/'], 'Insert a canned response'],
  ]],
  ['Composer', [
    [['Enter'], 'Send'],
    [['Shift', 'Enter'], 'New line'],
    [['Ctrl', 'Enter'], 'Send as internal note'],
    [['↑', '↓'], 'Choose a canned response'],
    [['Tab'], 'Insert the canned response'],
  ]],
];

export function HelpOverlay() {
  return (
    <Modal title="Keyboard shortcuts" onClose={() => setHelp(false)} wide label="Keyboard shortcuts">
      <div class="help-grid" data-testid="help">
        {SHORTCUTS.map(([group, rows]) => (
          <section key={group}>
            <h3>{group}</h3>
            <table>
              <tbody>
                {rows.map(([keys, what]) => (
                  <tr key={what}>
                    <td class="keys">
                      {keys.map((k, i) => (
                        <>
                          {i ? <span class="plus">+</span> : null}
                          <Kbd>{k}</Kbd>
                        </>
                      ))}
                    </td>
                    <td>{what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </Modal>
  );
}
