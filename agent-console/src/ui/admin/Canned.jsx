import { useState } from 'preact/hooks';
import { S, confirmDialog, refreshCanned, toast } from '../../store/index.js';
import { api, del } from '../../lib/api.js';
import { balance } from '../../../../ui-shared/bidi.js';
import { Field, Modal } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';

function CannedForm({ item, onClose }) {
  const create = !item;
  const f = useForm({ shortcut: item ? item.shortcut : '', body: item ? item.body : '' });
  const v = f.values;
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const body = { shortcut: v.shortcut.trim().replace(/^\//, ''), body: v.body };
      if (create) await api('POST', '/api/canned', body);
      else await api('PATCH', `/api/canned/${item.id}`, body);
      await refreshCanned();
      toast(`/${body.shortcut} saved`, 'success', 2500);
      onClose();
    });
  };
  return (
    <Modal
      title={create ? 'New canned response' : `Edit /${item.shortcut}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="canned-form" class="btn primary" disabled={f.busy} data-testid="canned-save">
            Save
          </button>
        </>
      }
    >
      <form id="canned-form" onSubmit={submit}>
        {f.error ? <div class="notice notice-error">{f.error}</div> : null}
        <Field
          label="Shortcut"
          id="canned-shortcut"
          error={f.errors.shortcut}
          hint="Agents type /shortcut in the composer. Lower-case letters, digits, - and _."
        >
          <div class="input-prefix">
            <span>/</span>
            <input id="canned-shortcut" required maxLength={32} value={v.shortcut} onInput={f.set('shortcut')} autofocus data-testid="canned-shortcut" />
          </div>
        </Field>
        <Field label="Text" id="canned-body" error={f.errors.body}>
          <textarea id="canned-body" required rows={5} maxLength={4000} value={v.body} onInput={f.set('body')} data-testid="canned-body" />
        </Field>
      </form>
    </Modal>
  );
}

export function Canned() {
  const [editing, setEditing] = useState(null);
  const [q, setQ] = useState('');
  const items = S.canned.filter((k) => !q || k.shortcut.includes(q.toLowerCase()) || k.body.toLowerCase().includes(q.toLowerCase()));
  const remove = async (k) => {
    const ok = await confirmDialog({ title: `Delete /${k.shortcut}?`, body: 'Agents will no longer be able to insert it.', confirm: 'Delete', danger: true });
    if (!ok) return;
    try {
      await del(`/api/canned/${k.id}`);
      await refreshCanned();
      toast(`/${k.shortcut} deleted`, 'success', 2500);
    } catch (e) {
      toast(e.text, 'error');
    }
  };
  return (
    <>
      <PageHead title="Canned responses" sub="Saved replies every agent can insert by typing / and the shortcut.">
        <button type="button" class="btn primary" onClick={() => setEditing('new')} data-testid="new-canned">
          <Icon name="plus" size={16} /> New response
        </button>
      </PageHead>
      <div class="card">
        <div class="card-toolbar">
          <div class="search">
            <Icon name="search" size={16} />
            <input type="search" placeholder="Filter…" aria-label="Filter canned responses" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
          </div>
          <span class="muted small">{S.canned.length} saved</span>
        </div>
        {items.length ? (
          <table class="table" data-testid="canned-table">
            <thead>
              <tr>
                <th>Shortcut</th>
                <th>Text</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} data-testid="canned-row">
                  <td>
                    <span class="mono shortcut">/{k.shortcut}</span>
                  </td>
                  <td class="canned-text" dir="auto">
                    {balance(k.body)}
                  </td>
                  <td class="actions">
                    <button type="button" class="btn small" onClick={() => setEditing(k)}>
                      <Icon name="edit" size={14} /> Edit
                    </button>
                    <button type="button" class="btn small danger-ghost" onClick={() => remove(k)} aria-label={`Delete /${k.shortcut}`}>
                      <Icon name="trash" size={14} />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div class="empty">
            <Icon name="zap" size={28} />
            <strong>{S.canned.length ? 'No match' : 'No canned responses yet'}</strong>
            <p>Create answers to the questions you get every day.</p>
          </div>
        )}
      </div>
      {editing ? <CannedForm item={editing === 'new' ? null : editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}
