import { useState } from 'preact/hooks';
import { S, confirmDialog, refreshAgents, refreshTeams, toast } from '../../store/index.js';
import { patch, post } from '../../lib/api.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Avatar, Bdi, CopyButton, Field, Modal } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';

const ROLES = [
  ['agent', 'Agent', 'Answers chats of their teams'],
  ['supervisor', 'Supervisor', 'Sees every conversation, manages canned responses'],
  ['admin', 'Admin', 'Everything, including agents, teams and sites'],
];

function TeamChecks({ value, onChange }) {
  return (
    <div class="checks">
      {S.teams.map((t) => (
        <label key={t.id} class="check">
          <input
            type="checkbox"
            checked={value.includes(t.id)}
            onChange={(e) => onChange(e.currentTarget.checked ? [...value, t.id] : value.filter((x) => x !== t.id))}
          />
          <Bdi text={t.name} />
        </label>
      ))}
      {!S.teams.length ? <span class="muted small">No teams yet.</span> : null}
    </div>
  );
}

function AgentForm({ agent, onClose, onCreated }) {
  const create = !agent;
  const f = useForm(
    create
      ? { email: '', name: '', role: 'agent', max_chats: '5', team_ids: S.teams.length === 1 ? [S.teams[0].id] : [], password: '' }
      : { name: agent.name, role: agent.role, max_chats: String(agent.max_chats), team_ids: agent.team_ids || [], password: '' },
  );
  const v = f.values;
  const self = agent && agent.id === S.me.id;
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const body = { name: v.name.trim(), role: v.role, max_chats: Number(v.max_chats), team_ids: v.team_ids };
      if (v.password) body.password = v.password;
      if (!Number.isInteger(body.max_chats)) {
        f.setErrors({ max_chats: 'must be a whole number' });
        return;
      }
      if (create) {
        body.email = v.email.trim();
        const r = await post('/api/agents', body);
        await Promise.all([refreshAgents(), refreshTeams()]);
        onCreated(r);
      } else {
        if (self) delete body.role;
        await patch(`/api/agents/${agent.id}`, body);
        await Promise.all([refreshAgents(), refreshTeams()]);
        toast([<Bdi text={body.name} />, ' saved'], 'success', 2500);
        onClose();
      }
    });
  };
  const setActive = async (active) => {
    if (!active) {
      const ok = await confirmDialog({
        title: (
          <>
            Deactivate <Bdi text={agent.name} />?
          </>
        ),
        label: `Deactivate ${isolate(agent.name)}?`,
        body: 'They are signed out everywhere at once, their open chats go back to the queue, and they cannot sign in until reactivated.',
        confirm: 'Deactivate',
        danger: true,
      });
      if (!ok) return;
    }
    await f.run(async () => {
      await patch(`/api/agents/${agent.id}`, { active });
      await refreshAgents();
      toast([<Bdi text={agent.name} />, active ? ' reactivated' : ' deactivated'], 'success', 2500);
      onClose();
    });
  };
  return (
    <Modal
      title={
        create ? (
          'Invite an agent'
        ) : (
          <>
            Edit <Bdi text={agent.name} />
          </>
        )
      }
      label={create ? undefined : `Edit ${isolate(agent.name)}`}
      onClose={onClose}
      footer={
        <>
          {!create && !self ? (
            agent.active ? (
              <button type="button" class="btn danger-ghost push-left" onClick={() => setActive(false)} data-testid="deactivate">
                Deactivate
              </button>
            ) : (
              <button type="button" class="btn push-left" onClick={() => setActive(true)}>
                Reactivate
              </button>
            )
          ) : null}
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="agent-form" class="btn primary" disabled={f.busy} data-testid="agent-save">
            {create ? 'Create agent' : 'Save'}
          </button>
        </>
      }
    >
      <form id="agent-form" onSubmit={submit} class="form-grid">
        {f.error ? <div class="notice notice-error span2">{f.error}</div> : null}
        {create ? (
          <Field label="Email" id="ag-email" error={f.errors.email}>
            <input id="ag-email" type="email" required value={v.email} onInput={f.set('email')} autofocus data-testid="agent-email" />
          </Field>
        ) : null}
        <Field label="Name" id="ag-name" error={f.errors.name}>
          <input id="ag-name" required maxLength={100} value={v.name} onInput={f.set('name')} data-testid="agent-name" />
        </Field>
        <Field label="Role" id="ag-role" error={f.errors.role} hint={self ? 'You cannot change your own role.' : ROLES.find((r) => r[0] === v.role)[2]}>
          <select id="ag-role" value={v.role} onChange={f.set('role')} disabled={self} data-testid="agent-role">
            {ROLES.map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Max. open chats" id="ag-max" error={f.errors.max_chats} hint="Automatic assignment stops at this number (0–100).">
          <input id="ag-max" type="number" min="0" max="100" required value={v.max_chats} onInput={f.set('max_chats')} data-testid="agent-max" />
        </Field>
        <Field
          label={create ? 'Password (optional)' : 'New password (optional)'}
          id="ag-pw"
          error={f.errors.password}
          hint={
            create
              ? 'Leave empty to generate one; it is shown once.'
              : self
                ? 'Leave empty to keep the current password. A new one signs out your other sessions.'
                : 'Leave empty to keep the current password. A new one signs them out everywhere.'
          }
        >
          <input id="ag-pw" type="password" autocomplete="new-password" value={v.password} onInput={f.set('password')} />
        </Field>
        <div class="field span2">
          <label>Teams</label>
          <TeamChecks value={v.team_ids} onChange={(ids) => f.setValues({ ...v, team_ids: ids })} />
          {f.errors.team_ids ? <div class="field-error">{f.errors.team_ids}</div> : null}
        </div>
      </form>
    </Modal>
  );
}

function Invited({ result, onClose }) {
  return (
    <Modal
      title="Agent created"
      onClose={onClose}
      footer={
        <button type="button" class="btn primary" onClick={onClose}>
          Done
        </button>
      }
    >
      <p>
        <strong>
          <Bdi text={result.agent.name} />
        </strong>{' '}
        can now sign in as <Bdi class="mono" text={result.agent.email} />.
      </p>
      {result.password ? (
        <>
          <p>Their temporary password is shown only this once — pass it on securely:</p>
          <div class="secret-row">
            <code class="secret" data-testid="generated-password">
              {result.password}
            </code>
            <CopyButton text={result.password} />
          </div>
        </>
      ) : null}
    </Modal>
  );
}

export function Agents() {
  const [editing, setEditing] = useState(null); // 'new' | agent
  const [created, setCreated] = useState(null);
  const agents = [...S.agents.values()].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));
  const teamName = (id) => (S.teams.find((t) => t.id === id) || {}).name || `#${id}`;
  return (
    <>
      <PageHead title="Agents" sub="Who can sign in, what they may do and how many chats they take.">
        <button type="button" class="btn primary" onClick={() => setEditing('new')} data-testid="invite-agent">
          <Icon name="plus" size={16} /> Invite agent
        </button>
      </PageHead>
      <div class="card">
        <table class="table" data-testid="agents-table">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Role</th>
              <th>Teams</th>
              <th class="num">Chats</th>
              <th>Presence</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.id} class={a.active ? '' : 'inactive'} data-testid="agent-row" data-email={a.email}>
                <td>
                  <div class="person">
                    <Avatar name={a.name} seed={`a${a.id}`} kind="agent" size={30} />
                    <div>
                      <div class="strong">
                        <Bdi text={a.name} /> {a.id === S.me.id ? <span class="muted">(you)</span> : null}
                      </div>
                      <div class="muted small">
                        <Bdi text={a.email} />
                      </div>
                    </div>
                  </div>
                </td>
                <td>
                  <span class={`role role-${a.role}`}>{a.role}</span>
                </td>
                <td>
                  <div class="chips">
                    {(a.team_ids || []).map((t) => (
                      <Bdi class="chip" key={t} text={teamName(t)} />
                    ))}
                    {!(a.team_ids || []).length ? <span class="muted small">none</span> : null}
                  </div>
                </td>
                <td class="num">
                  {a.open_chats} / {a.max_chats}
                </td>
                <td>
                  {a.active ? (
                    <span class={`presence presence-${a.connected ? a.status : 'gone'}`}>
                      <span class="dot" />
                      {a.connected ? a.status : 'not connected'}
                    </span>
                  ) : (
                    <span class="pill pill-closed">deactivated</span>
                  )}
                </td>
                <td class="actions">
                  <button type="button" class="btn small" onClick={() => setEditing(a)} data-testid="agent-edit">
                    <Icon name="edit" size={14} /> Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing ? (
        <AgentForm
          agent={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(r) => {
            setEditing(null);
            setCreated(r);
          }}
        />
      ) : null}
      {created ? <Invited result={created} onClose={() => setCreated(null)} /> : null}
    </>
  );
}
