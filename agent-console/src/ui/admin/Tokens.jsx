import { useEffect, useState } from 'preact/hooks';
import { S, confirmDialog, toast } from '../../store/index.js';
import { del, get, post } from '../../lib/api.js';
import { fmtDateTime, relTime, ts } from '../../../../ui-shared/time.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Bdi, CopyButton, Field, Modal, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';

const SCOPES = [
  ['conversations:read', 'Read conversations and messages'],
  ['conversations:write', 'Send messages, assign, close, reopen'],
  ['transcripts:read', 'Export transcripts'],
  ['reports:read', 'Read reports'],
  ['admin', 'Everything, including agents, teams and sites'],
];

function state(t) {
  if (t.revoked_at) return ['revoked', 'closed'];
  if (t.expires_at && ts(t.expires_at) <= Date.now()) return ['expired', 'closed'];
  return ['active', 'assigned'];
}

function NewToken({ onClose, onCreated }) {
  const f = useForm({ name: '', scopes: ['conversations:read'], days: '' });
  const v = f.values;
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const body = { name: v.name.trim(), scopes: v.scopes };
      if (v.days) body.expires_in_days = Number(v.days);
      const r = await post('/api/tokens', body);
      onCreated(r.token);
    });
  };
  const toggle = (s, on) => f.setValues({ ...v, scopes: on ? [...v.scopes, s] : v.scopes.filter((x) => x !== s) });
  return (
    <Modal
      title="New API token"
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="token-form" class="btn primary" disabled={f.busy || !v.scopes.length} data-testid="token-create">
            Create token
          </button>
        </>
      }
    >
      <form id="token-form" onSubmit={submit}>
        {f.error ? <div class="notice notice-error">{f.error}</div> : null}
        <Field label="Name" id="token-name" error={f.errors.name} hint="What uses it, e.g. “CRM sync”.">
          <input id="token-name" required maxLength={100} value={v.name} onInput={f.set('name')} autofocus data-testid="token-name" />
        </Field>
        <div class="field">
          <label>Scopes</label>
          <div class="member-list">
            {SCOPES.map(([s, what]) => (
              <label class="pick" key={s}>
                <input type="checkbox" checked={v.scopes.includes(s)} onChange={(e) => toggle(s, e.currentTarget.checked)} data-testid={`scope-${s}`} />
                <span class="pick-name mono">{s}</span>
                <span class="muted small">{what}</span>
              </label>
            ))}
          </div>
          {f.errors.scopes ? <div class="field-error">{f.errors.scopes}</div> : null}
        </div>
        <Field label="Expires after (days, optional)" id="token-days" error={f.errors.expires_in_days} hint="Leave empty for a token that does not expire.">
          <input id="token-days" type="number" min="1" max="3650" value={v.days} onInput={f.set('days')} />
        </Field>
      </form>
    </Modal>
  );
}

export function Tokens() {
  const [tokens, setTokens] = useState(null);
  const [error, setError] = useState(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  const load = async () => {
    try {
      setTokens((await get('/api/tokens')).tokens);
    } catch (e) {
      setError(e.text);
    }
  };
  useEffect(() => {
    load();
  }, []);
  const revoke = async (t) => {
    const ok = await confirmDialog({
      title: (
        <>
          Revoke “<Bdi text={t.name} />
          ”?
        </>
      ),
      label: `Revoke “${isolate(t.name)}”?`,
      body: 'Programs using this token are refused from now on. This cannot be undone.',
      confirm: 'Revoke token',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/tokens/${t.id}`);
      toast([<Bdi text={t.name} />, ' revoked'], 'success', 2500);
      load();
    } catch (e) {
      toast(e.text, 'error');
    }
  };
  const agentName = (id) => (S.agents.get(id) || {}).name || (id ? `#${id}` : '—');
  return (
    <>
      <PageHead title="API tokens" sub="Bearer tokens for the REST API (/api/v1). The secret is shown once, when the token is created.">
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-token">
          <Icon name="plus" size={16} /> New token
        </button>
      </PageHead>
      {error ? <div class="notice notice-error">{error}</div> : null}
      <div class="card">
        {!tokens && !error ? (
          <div class="list-status">
            <Spinner />
          </div>
        ) : tokens && tokens.length ? (
          <table class="table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Scopes</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => {
                const [label, pill] = state(t);
                return (
                  <tr key={t.id} class={label === 'active' ? '' : 'inactive'} data-testid="token-row" data-name={t.name}>
                    <td class="strong">
                      <Bdi text={t.name} />
                    </td>
                    <td>
                      <div class="chips">
                        {(t.scopes || []).map((s) => (
                          <span class="chip mono" key={s}>
                            {s}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td>
                      <div>{fmtDateTime(t.created_at)}</div>
                      <div class="muted small">
                        by <Bdi text={agentName(t.created_by)} />
                      </div>
                    </td>
                    <td>{t.last_used_at ? relTime(t.last_used_at) : <span class="muted">never</span>}</td>
                    <td>
                      <span class={`pill pill-${pill}`}>{label}</span>
                      {t.expires_at && label === 'active' ? <div class="muted small">until {fmtDateTime(t.expires_at)}</div> : null}
                    </td>
                    <td class="actions">
                      {label === 'active' ? (
                        <button type="button" class="btn small danger-ghost" onClick={() => revoke(t)} data-testid="token-revoke">
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <div class="empty">
            <Icon name="key" size={28} />
            <strong>No API tokens yet</strong>
            <p>Create one to connect your CRM, helpdesk or reporting to Parley.</p>
          </div>
        )}
      </div>
      {creating ? (
        <NewToken
          onClose={() => setCreating(false)}
          onCreated={(t) => {
            setCreating(false);
            setCreated(t);
            load();
          }}
        />
      ) : null}
      {created ? (
        <Modal
          title="Token created"
          onClose={() => setCreated(null)}
          footer={
            <button type="button" class="btn primary" onClick={() => setCreated(null)}>
              Done
            </button>
          }
        >
          <p>
            Copy the secret of{' '}
            <strong>
              <Bdi text={created.name} />
            </strong>{' '}
            now — it is not shown again:
          </p>
          <div class="secret-row">
            <code class="secret" data-testid="token-secret">
              {created.token}
            </code>
            <CopyButton text={created.token} />
          </div>
          <p class="muted small">
            Send it as <span class="mono">Authorization: Bearer …</span> to <span class="mono">{location.origin}/api/v1/</span>.
          </p>
        </Modal>
      ) : null}
    </>
  );
}
