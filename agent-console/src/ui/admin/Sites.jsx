import { useEffect, useState } from 'preact/hooks';
import { S, confirmDialog, noteSiteCalls, toast } from '../../store/index.js';
import { get, patch, post } from '../../lib/api.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { Bdi, CopyButton, Field, Modal, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';
import { FILE_TYPES } from '../../lib/filetypes.js';
import { t } from '../../lib/i18n.js';

const ORIGIN_RE = /^https?:\/\/[a-z0-9.\-:[\]]+$/;
const DEFAULTS = { color: '#4f46e5', position: 'right', greeting: '', launcher_text: '', language: 'auto', prechat_fields: [], calls: 'agent' };
/** widget_settings.calls: who may start a voice or video call (absent: agents). */
const CALLS = [
  ['off', 'callsOff'],
  ['agent', 'callsAgent'],
  ['visitor', 'callsVisitor'],
];
const LANGUAGES = [
  ['auto', 'Visitor’s browser language'],
  ['en', 'English'],
  ['zh-CN', '简体中文 (Chinese, simplified)'],
];

export function snippet(site) {
  return `<script src="${location.origin}/widget.js" data-site="${site.public_key}" async></script>`;
}

function parseOrigins(text) {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

function NewSite({ onClose, onCreated }) {
  const f = useForm({ name: '', origins: '' });
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const origins = parseOrigins(f.values.origins);
      const bad = origins.find((o) => !ORIGIN_RE.test(o));
      if (bad) {
        f.setErrors({ allowed_origins: `${bad} is not an origin like https://shop.example.com (lower case, no path)` });
        return;
      }
      const r = await post('/api/sites', { name: f.values.name.trim(), allowed_origins: origins });
      onCreated(r.site);
    });
  };
  return (
    <Modal
      title="New site"
      onClose={onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="site-new" class="btn primary" disabled={f.busy} data-testid="site-create">
            Create site
          </button>
        </>
      }
    >
      <form id="site-new" onSubmit={submit}>
        {f.error ? <div class="notice notice-error">{f.error}</div> : null}
        <Field label="Name" id="ns-name" error={f.errors.name}>
          <input id="ns-name" required maxLength={100} value={f.values.name} onInput={f.set('name')} autofocus data-testid="new-site-name" />
        </Field>
        <Field label="Allowed origins (one per line)" id="ns-origins" error={f.errors.allowed_origins} hint="The widget only runs on pages of these origins.">
          <textarea
            id="ns-origins"
            rows={3}
            placeholder="https://shop.example.com"
            value={f.values.origins}
            onInput={f.set('origins')}
            data-testid="new-site-origins"
          />
        </Field>
      </form>
    </Modal>
  );
}

function PrechatEditor({ fields, onChange }) {
  const set = (i, k, v) => onChange(fields.map((f, j) => (j === i ? { ...f, [k]: v } : f)));
  return (
    <div class="prechat-editor" data-testid="prechat-editor">
      {fields.length ? (
        <table class="table compact">
          <thead>
            <tr>
              <th>Field name</th>
              <th>Label shown to the visitor</th>
              <th>Type</th>
              <th>Required</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {fields.map((f, i) => (
              <tr key={i} data-testid="prechat-row">
                <td>
                  <input
                    aria-label="Field name"
                    class="mono"
                    value={f.name}
                    maxLength={40}
                    placeholder="order_number"
                    onInput={(e) => set(i, 'name', e.currentTarget.value.toLowerCase().replace(/[^a-z0-9_]/g, '_'))}
                  />
                </td>
                <td>
                  <input
                    aria-label="Label"
                    value={f.label}
                    maxLength={100}
                    placeholder="Order number"
                    onInput={(e) => set(i, 'label', e.currentTarget.value)}
                  />
                </td>
                <td>
                  <select aria-label="Type" value={f.type || 'text'} onChange={(e) => set(i, 'type', e.currentTarget.value)}>
                    <option value="text">Text</option>
                    <option value="email">Email</option>
                  </select>
                </td>
                <td class="center">
                  <input type="checkbox" aria-label="Required" checked={!!f.required} onChange={(e) => set(i, 'required', e.currentTarget.checked)} />
                </td>
                <td class="actions">
                  <button type="button" class="icon-btn" aria-label="Remove field" onClick={() => onChange(fields.filter((_, j) => j !== i))}>
                    <Icon name="trash" size={15} />
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted small">No pre-chat form: visitors start chatting at once.</p>
      )}
      <div class="row-gap">
        <button
          type="button"
          class="btn small"
          disabled={fields.length >= 10}
          onClick={() => onChange([...fields, { name: '', label: '', type: 'text', required: false }])}
          data-testid="prechat-add"
        >
          <Icon name="plus" size={14} /> Add field
        </button>
        {!fields.some((f) => f.name === 'name') ? (
          <button
            type="button"
            class="btn small"
            disabled={fields.length >= 10}
            onClick={() => onChange([...fields, { name: 'name', label: 'Your name', type: 'text', required: true }])}
          >
            + Name
          </button>
        ) : null}
        {!fields.some((f) => f.name === 'email') ? (
          <button
            type="button"
            class="btn small"
            disabled={fields.length >= 10}
            onClick={() => onChange([...fields, { name: 'email', label: 'Email', type: 'email', required: true }])}
          >
            + Email
          </button>
        ) : null}
      </div>
      <p class="field-hint">The answers to “name” and “email” also become the visitor’s name and email.</p>
    </div>
  );
}

function Preview({ ws }) {
  const color = /^#[0-9a-f]{6}$/i.test(ws.color) ? ws.color : DEFAULTS.color;
  const side = ws.position === 'left' ? 'left' : 'right';
  return (
    <div class="widget-preview" aria-label="Widget preview">
      <div class="preview-page">
        <span />
        <span />
        <span class="short" />
      </div>
      {ws.greeting ? (
        <div class={`preview-greeting preview-${side}`}>
          <Bdi text={ws.greeting} />
        </div>
      ) : null}
      <div class={`preview-launcher preview-${side} ${ws.launcher_text ? 'with-text' : ''}`} style={{ background: color }}>
        <Icon name="message" size={18} />
        {ws.launcher_text ? <Bdi text={ws.launcher_text} /> : null}
      </div>
    </div>
  );
}

// ----------------------------------------------------------------- files

const MB = 1024 * 1024; // sizes read as fmtBytes writes them (1024-based: 25 MiB reads 25 MB)

/** "25" for 26214400: at most two decimals, never above the value. */
const toMb = (bytes) => String(Math.floor((Number(bytes) / MB) * 100) / 100);

/** The form's values of a site's file settings (the site JSON's `files`). */
function filesForm(files) {
  return {
    max_mb: toMb(files.max_bytes || files.ceiling_bytes),
    types: Array.isArray(files.types) ? [...files.types] : [],
    visitor_uploads: files.visitor_uploads !== false,
    retention: files.retention_days == null ? '' : String(files.retention_days),
  };
}

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The PATCH's `files` object: only what changed (so that a size the form
 * shows rounded is not written back unless edited), or null when nothing
 * did; {error: {field: text}} when a value is not valid.
 */
function filesPatch(files, before, ceiling) {
  const out = {};
  const errors = {};
  if (files.max_mb.trim() !== before.max_mb) {
    const mb = Number(files.max_mb.trim().replace(',', '.'));
    const bytes = Math.round(mb * MB);
    if (!files.max_mb.trim() || !Number.isFinite(mb) || bytes < 1) errors.max_bytes = t('maxSizeInvalid');
    else if (ceiling && bytes > ceiling) errors.max_bytes = t('maxSizeOverCeiling', { max: toMb(ceiling) });
    else out.max_bytes = bytes;
  }
  if (!files.types.length) errors.types = t('typesNone');
  else if (!sameSet(files.types, before.types)) out.types = FILE_TYPES.map((x) => x.type).filter((x) => files.types.includes(x));
  if (files.visitor_uploads !== before.visitor_uploads) out.visitor_uploads = files.visitor_uploads;
  if (files.retention.trim() !== before.retention) {
    const r = files.retention.trim();
    if (!r) out.retention_days = null;
    else if (!/^\d+$/.test(r) || Number(r) < 1 || Number(r) > 3650) errors.retention_days = t('retentionInvalid');
    else out.retention_days = Number(r);
  }
  if (Object.keys(errors).length) return { error: errors };
  return Object.keys(out).length ? out : null;
}

/** A field error of the files group, as the server or the form names it. */
function filesError(errors, key) {
  return errors[`files.${key}`] || errors[`files/${key}`] || errors[key] || null;
}

const GROUPS = [
  ['images', 'ftGroupImages'],
  ['documents', 'ftGroupDocuments'],
  ['other', 'ftGroupOther'],
];

function FilesSettings({ files, ceiling, errors, onChange }) {
  const set = (k, v) => onChange({ ...files, [k]: v });
  const toggleType = (type, on) => set('types', on ? [...files.types, type] : files.types.filter((x) => x !== type));
  const typesError = filesError(errors, 'types');
  return (
    <section class="card section" data-testid="site-files">
      <div class="section-head">
        <h2>{t('files')}</h2>
      </div>
      <p class="muted small">{t('filesIntro')}</p>
      {errors.files ? <div class="notice notice-error">{errors.files}</div> : null}
      <div class="form-grid">
        <Field
          label={t('maxFileSize')}
          id="files-max"
          error={filesError(errors, 'max_bytes')}
          hint={ceiling ? t('maxFileSizeHint', { max: `${toMb(ceiling)} MB` }) : null}
        >
          <div class="input-suffix">
            <input
              id="files-max"
              type="text"
              inputMode="decimal"
              value={files.max_mb}
              onInput={(e) => set('max_mb', e.currentTarget.value)}
              data-testid="files-max-mb"
            />
            <span aria-hidden="true">MB</span>
          </div>
        </Field>
        <Field label={t('retention')} id="files-retention" error={filesError(errors, 'retention_days')} hint={t('retentionHint')}>
          <div class="input-suffix">
            <input
              id="files-retention"
              type="text"
              inputMode="numeric"
              placeholder={t('keepForever')}
              value={files.retention}
              onInput={(e) => set('retention', e.currentTarget.value)}
              data-testid="files-retention"
            />
            <span aria-hidden="true">{t('days')}</span>
          </div>
        </Field>
      </div>
      <label class="check toggle-row files-toggle">
        <input
          type="checkbox"
          checked={files.visitor_uploads}
          onChange={(e) => set('visitor_uploads', e.currentTarget.checked)}
          data-testid="files-visitor-uploads"
        />
        <span>
          <strong>{t('visitorUploads')}</strong>
          <span class="muted small"> — {t('visitorUploadsHint')}</span>
        </span>
      </label>
      <fieldset class={`file-types ${typesError ? 'has-error' : ''}`} data-testid="files-types">
        <legend>{t('allowedTypes')}</legend>
        <div class="file-type-groups">
          {GROUPS.map(([g, label]) => (
            <div class={`file-type-group file-type-group-${g}`} key={g}>
              <h4>{t(label)}</h4>
              {FILE_TYPES.filter((x) => x.group === g).map((x) => (
                <label class="check file-type" key={x.type} title={x.type}>
                  <input
                    type="checkbox"
                    checked={files.types.includes(x.type)}
                    onChange={(e) => toggleType(x.type, e.currentTarget.checked)}
                    data-testid={`files-type-${x.type}`}
                  />
                  <span>
                    {t(x.label)}
                    {x.risky ? <span class="file-type-warn">{t(`${x.label}Warn`)}</span> : null}
                  </span>
                </label>
              ))}
            </div>
          ))}
        </div>
        {typesError ? (
          <div class="field-error" role="alert">
            {typesError}
          </div>
        ) : (
          <div class="field-hint">{t('allowedTypesHint')}</div>
        )}
      </fieldset>
    </section>
  );
}

/** Who may start a voice or video call on this site (widget_settings.calls),
 * and, read-only, what the server gives every site's calls (GET
 * /api/calls/settings: its STUN and TURN servers and timeouts, set in its
 * configuration). */
function CallsSettings({ value, error, onChange }) {
  const [server, setServer] = useState(null);
  useEffect(() => {
    get('/api/calls/settings').then(setServer, () => setServer(null));
  }, []);
  return (
    <section class="card section" data-testid="site-calls">
      <div class="section-head">
        <h2>{t('callsSection')}</h2>
      </div>
      <div class="form-grid">
        <Field label={t('callsSetting')} id="ws-calls" error={error} hint={t('callsHint')} wide>
          <select id="ws-calls" value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid="ws-calls">
            {CALLS.map(([id, word]) => (
              <option key={id} value={id}>
                {t(word)}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {server ? (
        <div class="calls-server" data-testid="calls-server">
          <h3>{t('callsServer')}</h3>
          <dl>
            <dt>{t('callsTurn')}</dt>
            <dd data-testid="calls-turn">
              {server.turn_urls.length ? <code>{server.turn_urls.join(', ')}</code> : <span class="warn-text">{t('callsTurnNone')}</span>}
            </dd>
            <dt>{t('callsStun')}</dt>
            <dd data-testid="calls-stun">{server.stun_urls.length ? <code>{server.stun_urls.join(', ')}</code> : t('callsStunNone')}</dd>
            <dt>{t('callsRules')}</dt>
            <dd data-testid="calls-rules">
              {t('callsTimes', { ring: server.ring_seconds, lost: server.lost_seconds, max: server.max_minutes })}
              {server.relay_only ? ` ${t('callsRelayOnly')}` : ''}
            </dd>
          </dl>
          <div class="field-hint">{t('callsServerHint')}</div>
        </div>
      ) : null}
    </section>
  );
}

function SiteEditor({ site, onSaved }) {
  const ws0 = { ...DEFAULTS, ...(site.widget_settings || {}) };
  const f = useForm({
    name: site.name,
    origins: (site.allowed_origins || []).join('\n'),
    default_team_id: String(site.default_team_id || ''),
    identity_required: !!site.identity_required,
    files: site.files ? filesForm(site.files) : null,
    ws: { ...ws0, prechat_fields: (ws0.prechat_fields || []).map((x) => ({ type: 'text', required: false, ...x })) },
  });
  const [secretShown, setSecretShown] = useState(false);
  const v = f.values;
  const setWs = (k, val) => f.setValues({ ...v, ws: { ...v.ws, [k]: val } });
  const code = snippet(site);

  const save = (e) => {
    e.preventDefault();
    f.run(async () => {
      const origins = parseOrigins(v.origins);
      const bad = origins.find((o) => !ORIGIN_RE.test(o));
      if (bad) {
        f.setErrors({ allowed_origins: `${bad} is not an origin like https://shop.example.com (lower case, no path)` });
        return;
      }
      if (!/^#[0-9a-fA-F]{6}$/.test(v.ws.color)) {
        f.setErrors({ widget_settings: 'The colour must look like #1f6feb.' });
        return;
      }
      const prechat = v.ws.prechat_fields.map((p) => ({ name: p.name.trim(), label: p.label.trim(), type: p.type || 'text', required: !!p.required }));
      if (prechat.some((p) => !p.name || !p.label)) {
        f.setErrors({ widget_settings: 'Every pre-chat field needs a field name and a label.' });
        return;
      }
      const body = {
        name: v.name.trim(),
        allowed_origins: origins,
        identity_required: v.identity_required,
        widget_settings: {
          color: v.ws.color.toLowerCase(),
          position: v.ws.position,
          greeting: v.ws.greeting,
          launcher_text: v.ws.launcher_text,
          language: v.ws.language,
          prechat_fields: prechat,
        },
      };
      // Written when the site has it or the admin chose other than the
      // default, so that a site never set keeps following the default.
      if ((site.widget_settings || {}).calls !== undefined || v.ws.calls !== DEFAULTS.calls) body.widget_settings.calls = v.ws.calls;
      if (v.default_team_id) body.default_team_id = Number(v.default_team_id);
      if (v.files) {
        const files = filesPatch(v.files, filesForm(site.files), site.files.ceiling_bytes);
        if (files && files.error) {
          f.setErrors(Object.fromEntries(Object.entries(files.error).map(([k, m]) => [`files.${k}`, m])));
          return;
        }
        if (files) body.files = files;
      }
      const r = await patch(`/api/sites/${site.id}`, body);
      noteSiteCalls(r.site);
      toast([<Bdi text={r.site.name} />, ' saved'], 'success', 2500);
      onSaved(r.site);
    });
  };

  const rotate = async () => {
    const ok = await confirmDialog({
      title: 'Rotate the identity secret?',
      body: 'Identity hashes signed with the current secret stop working at once. Update the secret on your servers right after.',
      confirm: 'Rotate secret',
      danger: true,
    });
    if (!ok) return;
    f.run(async () => {
      const r = await patch(`/api/sites/${site.id}`, { rotate_identity_secret: true });
      setSecretShown(true);
      toast('A new identity secret was generated', 'success', 2500);
      onSaved(r.site, true);
    });
  };

  return (
    <form class="site-editor" onSubmit={save} data-testid="site-editor">
      {f.error ? <div class="notice notice-error">{f.error}</div> : null}

      <section class="card section">
        <div class="section-head">
          <h2>Install</h2>
          <span class="muted small">
            Site key{' '}
            <span class="mono" data-testid="site-key">
              {site.public_key}
            </span>
          </span>
        </div>
        <p class="muted small">Paste this snippet before the closing &lt;/body&gt; tag of every page that should show the chat.</p>
        <div class="snippet">
          <code data-testid="snippet">{code}</code>
          <CopyButton text={code} label="Copy" class="primary" />
        </div>
      </section>

      <section class="card section">
        <div class="section-head">
          <h2>General</h2>
        </div>
        <div class="form-grid">
          <Field label="Name" id="site-name" error={f.errors.name}>
            <input id="site-name" required maxLength={100} value={v.name} onInput={f.set('name')} data-testid="site-name" />
          </Field>
          <Field label="Default team" id="site-team" error={f.errors.default_team_id} hint="New chats from this site wait in this team's queue.">
            <select id="site-team" value={v.default_team_id} onChange={f.set('default_team_id')} data-testid="site-team">
              {S.teams.map((t) => (
                <option key={t.id} value={String(t.id)}>
                  {isolate(t.name) /* an <option> holds text only */}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Allowed origins (one per line)"
            id="site-origins"
            wide
            error={f.errors.allowed_origins}
            hint="Scheme, host and port only, e.g. https://shop.example.com. The widget refuses to start anywhere else."
          >
            <textarea id="site-origins" rows={3} value={v.origins} onInput={f.set('origins')} data-testid="site-origins" />
          </Field>
        </div>
      </section>

      <section class="card section">
        <div class="section-head">
          <h2>Widget</h2>
        </div>
        {f.errors.widget_settings ? <div class="notice notice-error">{f.errors.widget_settings}</div> : null}
        <div class="widget-grid">
          <div class="form-grid">
            <Field label="Colour" id="ws-color">
              <div class="color-row">
                <input
                  type="color"
                  aria-label="Pick a colour"
                  value={/^#[0-9a-f]{6}$/i.test(v.ws.color) ? v.ws.color : DEFAULTS.color}
                  onInput={(e) => setWs('color', e.currentTarget.value)}
                />
                <input
                  id="ws-color"
                  class="mono"
                  maxLength={7}
                  value={v.ws.color}
                  onInput={(e) => setWs('color', e.currentTarget.value)}
                  data-testid="ws-color"
                />
              </div>
            </Field>
            <Field label="Position">
              <div class="segmented small">
                {['left', 'right'].map((p) => (
                  <button
                    type="button"
                    key={p}
                    class={v.ws.position === p ? 'on' : ''}
                    aria-pressed={v.ws.position === p ? 'true' : 'false'}
                    onClick={() => setWs('position', p)}
                    data-testid={`ws-position-${p}`}
                  >
                    {p === 'left' ? 'Bottom left' : 'Bottom right'}
                  </button>
                ))}
              </div>
            </Field>
            <Field label="Launcher text" id="ws-launcher" hint="Optional, up to 40 characters.">
              <input
                id="ws-launcher"
                maxLength={40}
                value={v.ws.launcher_text}
                onInput={(e) => setWs('launcher_text', e.currentTarget.value)}
                placeholder="Chat with us"
                data-testid="ws-launcher"
              />
            </Field>
            <Field label="Language" id="ws-lang">
              <select id="ws-lang" value={v.ws.language} onChange={(e) => setWs('language', e.currentTarget.value)} data-testid="ws-language">
                {LANGUAGES.map(([id, label]) => (
                  <option key={id} value={id}>
                    {label}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Greeting" id="ws-greeting" hint="Shown when the chat opens (up to 500 characters).">
              <textarea
                id="ws-greeting"
                rows={2}
                maxLength={500}
                value={v.ws.greeting}
                onInput={(e) => setWs('greeting', e.currentTarget.value)}
                placeholder="Hi! How can we help?"
                data-testid="ws-greeting"
              />
            </Field>
          </div>
          <Preview ws={v.ws} />
        </div>
        <h3 class="subhead">Pre-chat form</h3>
        <PrechatEditor fields={v.ws.prechat_fields} onChange={(list) => setWs('prechat_fields', list)} />
      </section>

      <CallsSettings value={v.ws.calls} error={f.errors['widget_settings.calls']} onChange={(val) => setWs('calls', val)} />

      {v.files ? (
        <FilesSettings files={v.files} ceiling={site.files.ceiling_bytes} errors={f.errors} onChange={(files) => f.setValues({ ...v, files })} />
      ) : null}

      <section class="card section">
        <div class="section-head">
          <h2>Identity verification</h2>
        </div>
        <p class="muted small">
          Your server signs the signed-in user's id: <span class="mono">hex(HMAC-SHA256(secret, user_id))</span>. Verified visitors are marked in the console
          and keep their history on every device. Never put the secret in a web page.
        </p>
        <div class="secret-row">
          <code class="secret" data-testid="identity-secret">
            {site.identity_secret ? (secretShown ? site.identity_secret : '•'.repeat(24)) : 'no secret yet'}
          </code>
          {site.identity_secret ? (
            <>
              <button type="button" class="btn" onClick={() => setSecretShown(!secretShown)} data-testid="secret-toggle">
                <Icon name="eye" size={15} /> {secretShown ? 'Hide' : 'Show'}
              </button>
              <CopyButton text={site.identity_secret} />
            </>
          ) : null}
          <button type="button" class="btn danger-ghost" onClick={rotate} data-testid="secret-rotate">
            <Icon name="refresh" size={15} /> {site.identity_secret ? 'Rotate' : 'Generate'}
          </button>
        </div>
        <label class="check toggle-row">
          <input type="checkbox" checked={v.identity_required} onChange={f.set('identity_required')} data-testid="identity-required" />
          <span>
            <strong>Require a verified identity</strong>
            <span class="muted small"> — anonymous visitors cannot start a chat</span>
          </span>
        </label>
      </section>

      <div class="save-bar">
        <span class="muted small">Changes apply to the widget on its next load.</span>
        <button type="submit" class="btn primary" disabled={f.busy} data-testid="site-save">
          {f.busy ? 'Saving…' : 'Save site'}
        </button>
      </div>
    </form>
  );
}

export function Sites() {
  const [sites, setSites] = useState(null);
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [creating, setCreating] = useState(false);
  const [rev, setRev] = useState(0);
  const load = async () => {
    try {
      const r = await get('/api/sites');
      for (const s of r.sites) noteSiteCalls(s);
      setSites(r.sites);
      setSelected((s) => s || (r.sites[0] && r.sites[0].id));
    } catch (e) {
      setError(e.text);
    }
  };
  useEffect(() => {
    load();
  }, []);
  const site = sites && sites.find((s) => s.id === selected);
  return (
    <>
      <PageHead title="Sites" sub="Each website that embeds the chat widget.">
        <button type="button" class="btn primary" onClick={() => setCreating(true)} data-testid="new-site">
          <Icon name="plus" size={16} /> New site
        </button>
      </PageHead>
      {error ? <div class="notice notice-error">{error}</div> : null}
      {!sites && !error ? <Spinner /> : null}
      {sites ? (
        <div class="sites">
          <ul class="site-list" aria-label="Sites">
            {sites.map((s) => (
              <li key={s.id}>
                <button type="button" class={`site-item ${s.id === selected ? 'active' : ''}`} onClick={() => setSelected(s.id)} data-testid="site-item">
                  <span
                    class="site-dot"
                    style={{ background: /^#[0-9a-f]{6}$/i.test((s.widget_settings || {}).color || '') ? s.widget_settings.color : DEFAULTS.color }}
                  />
                  <span class="site-text">
                    <Bdi class="strong" text={s.name} />
                    <span class="muted small">{(s.allowed_origins || [])[0] || 'no origin yet'}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {site ? (
            <SiteEditor
              key={`${site.id}:${rev}`}
              site={site}
              onSaved={(saved, keepForm) => {
                setSites((list) => list.map((s) => (s.id === saved.id ? saved : s)));
                if (!keepForm) setRev((n) => n + 1);
              }}
            />
          ) : null}
        </div>
      ) : null}
      {creating ? (
        <NewSite
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setCreating(false);
            setSites((list) => [...(list || []), s]);
            setSelected(s.id);
            toast([<Bdi text={s.name} />, ' created'], 'success', 2500);
          }}
        />
      ) : null}
    </>
  );
}
