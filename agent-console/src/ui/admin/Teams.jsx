import { useState } from 'preact/hooks';
import { S, refreshAgents, refreshTeams, toast } from '../../store/index.js';
import { patch, post } from '../../lib/api.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Avatar, Bdi, Field, Modal } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';
import { TeamSettings } from './TeamSettings.jsx';
import { t as tr } from '../../lib/i18n.js';
import { navigate } from '../../store/index.js';

function TeamForm({ team, onClose }) {
  const create = !team;
  const f = useForm({ name: team ? team.name : '', member_ids: team ? team.member_ids : [] });
  const v = f.values;
  const agents = [...S.agents.values()].filter((a) => a.active || v.member_ids.includes(a.id)).sort((a, b) => a.name.localeCompare(b.name));
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const body = { name: v.name.trim(), member_ids: v.member_ids };
      if (create) await post('/api/teams', body);
      else await patch(`/api/teams/${team.id}`, body);
      await Promise.all([refreshTeams(), refreshAgents()]);
      toast(['Team ', <Bdi text={body.name} />, create ? ' created' : ' saved'], 'success', 2500);
      onClose();
    });
  };
  const toggle = (id, on) => f.setValues({ ...v, member_ids: on ? [...v.member_ids, id] : v.member_ids.filter((x) => x !== id) });
  return (
    <Modal
      title={
        create ? (
          'New team'
        ) : (
          <>
            Edit <Bdi text={team.name} />
          </>
        )
      }
      label={create ? undefined : `Edit ${isolate(team.name)}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="team-form" class="btn primary" disabled={f.busy} data-testid="team-save">
            {create ? 'Create team' : 'Save'}
          </button>
        </>
      }
    >
      <form id="team-form" onSubmit={submit}>
        {f.error ? <div class="notice notice-error">{f.error}</div> : null}
        <Field label="Name" id="team-name" error={f.errors.name}>
          <input id="team-name" required maxLength={100} value={v.name} onInput={f.set('name')} autofocus data-testid="team-name" />
        </Field>
        <div class="field">
          <label>Members</label>
          <div class="member-list">
            {agents.map((a) => (
              <label class="pick" key={a.id} data-testid="team-member">
                <input type="checkbox" checked={v.member_ids.includes(a.id)} onChange={(e) => toggle(a.id, e.currentTarget.checked)} />
                <Avatar name={a.name} seed={`a${a.id}`} kind="agent" size={26} />
                <Bdi class="pick-name" text={a.name} />
                <Bdi class="muted small" text={a.email} />
              </label>
            ))}
          </div>
          {f.errors.member_ids ? <div class="field-error">{f.errors.member_ids}</div> : null}
        </div>
      </form>
    </Modal>
  );
}

export function Teams() {
  const [editing, setEditing] = useState(null);
  if (S.view.item) return <TeamSettings id={S.view.item} />;
  return (
    <>
      <PageHead title="Teams" sub="Conversations are queued per team; sites send their chats to a default team.">
        <button type="button" class="btn primary" onClick={() => setEditing('new')} data-testid="new-team">
          <Icon name="plus" size={16} /> New team
        </button>
      </PageHead>
      <div class="team-grid">
        {S.teams.map((t) => (
          <div class="card team-card" key={t.id} data-testid="team-card">
            <div class="team-card-head">
              <span class="team-mark">
                <Icon name="users" size={16} />
              </span>
              <h3>
                <Bdi text={t.name} />
              </h3>
              <button type="button" class="btn small" onClick={() => setEditing(t)} data-testid="team-edit">
                <Icon name="edit" size={14} /> Edit
              </button>
              <button type="button" class="btn small" onClick={() => navigate({ area: 'admin', admin: 'teams', item: t.id })} data-testid="team-settings-open">
                <Icon name="settings" size={14} /> {tr('teamSettings')}
              </button>
            </div>
            <div class="team-members">
              {t.member_ids.length ? (
                t.member_ids.map((id) => {
                  const a = S.agents.get(id);
                  return (
                    <span class="member" key={id} title={a ? a.email : ''}>
                      <Avatar name={a ? a.name : '?'} seed={`a${id}`} kind="agent" size={22} />
                      <Bdi text={a ? a.name : `#${id}`} />
                    </span>
                  );
                })
              ) : (
                <span class="muted small">No members yet</span>
              )}
            </div>
            <div class="muted small">
              {t.member_ids.length} member{t.member_ids.length === 1 ? '' : 's'}
            </div>
          </div>
        ))}
      </div>
      {editing ? <TeamForm team={editing === 'new' ? null : editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}
