// Admin → Labels (#/admin/labels): the workspace's labels over /api/labels.
// Create with a name and a colour, rename or recolour in place, delete
// (it comes off every conversation). Admins only; every agent reads the
// list to label conversations.

import { useEffect, useState } from 'preact/hooks';
import { S, confirmDialog, loadLabels, toast } from '../../store/index.js';
import { ApiError, del, patch, post } from '../../lib/api.js';
import { isolate } from '../../../../ui-shared/bidi.js';
import { lang, t } from '../../lib/i18n.js';
import { Bdi, Field, Spinner } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { PageHead, useForm } from './Admin.jsx';

const COLOURS = ['#6b7280', '#dc2626', '#d97706', '#16a34a', '#0d9488', '#2563eb', '#4f46e5', '#c026d3'];

/** The server's refusal of a label in words: {fields, error}. */
function explain(e) {
  if (e.status === 409) return { fields: {}, error: e.slug === 'limit_reached' ? t('labelErrLimit') : t('labelErrConflict') };
  if (e.status === 403) return { fields: {}, error: t('labelErrForbidden') };
  if (e.status === 404) return { fields: {}, error: t('labelErrNotFound') };
  const fields = {};
  if (e.fields.name) fields.name = t('labelErrName');
  if (e.fields.colour) fields.colour = t('labelErrColour');
  return { fields, error: Object.keys(fields).length ? null : e.text };
}

function ColourPick({ value, onChange, id, testid }) {
  return (
    <div class="colour-pick">
      <input type="color" id={id} value={value} onInput={(e) => onChange(e.currentTarget.value)} data-testid={testid} />
      {COLOURS.map((c) => (
        <button
          key={c}
          type="button"
          class={`swatch ${value === c ? 'on' : ''}`}
          style={{ background: c }}
          aria-label={c}
          aria-pressed={value === c ? 'true' : 'false'}
          onClick={() => onChange(c)}
        />
      ))}
    </div>
  );
}

function Chip({ name, colour }) {
  return (
    <span class="label-chip">
      <span class="label-dot" style={{ background: colour }} />
      <Bdi text={name || '…'} />
    </span>
  );
}

function NewLabel() {
  const f = useForm({ name: '', colour: COLOURS[5] }, { explain });
  const v = f.values;
  const submit = (e) => {
    e.preventDefault();
    f.run(async () => {
      const r = await post('/api/labels', { name: v.name.trim(), colour: v.colour });
      await loadLabels(true);
      toast(t('labelCreated', { name: isolate(r.label.name) }), 'success', 2500);
      f.setValues({ name: '', colour: v.colour });
    });
  };
  return (
    <form class="card label-new" onSubmit={submit} data-testid="label-new">
      <h2>{t('labelNew')}</h2>
      {f.error ? <div class="notice notice-error">{f.error}</div> : null}
      <div class="label-form">
        <Field label={t('labelName')} id="label-name" error={f.errors.name}>
          <input id="label-name" required maxLength={50} value={v.name} onInput={f.set('name')} data-testid="label-name" />
        </Field>
        <Field label={t('labelColour')} id="label-colour" error={f.errors.colour}>
          <ColourPick id="label-colour" value={v.colour} onChange={(c) => f.setValues((o) => ({ ...o, colour: c }))} testid="label-colour" />
        </Field>
        <div class="label-form-end">
          <Chip name={v.name.trim()} colour={v.colour} />
          <button type="submit" class="btn primary" disabled={f.busy || !v.name.trim()} data-testid="label-create">
            <Icon name="plus" size={15} /> {t('labelCreate')}
          </button>
        </div>
      </div>
    </form>
  );
}

function LabelRow({ l }) {
  const [editing, setEditing] = useState(false);
  const f = useForm({ name: l.name, colour: l.colour }, { explain });
  const v = f.values;
  const save = (e) => {
    e.preventDefault();
    f.run(async () => {
      const body = {};
      if (v.name.trim() !== l.name) body.name = v.name.trim();
      if (v.colour !== l.colour) body.colour = v.colour;
      if (Object.keys(body).length) await patch(`/api/labels/${l.id}`, body);
      await loadLabels(true);
      toast(t('labelSaved'), 'success', 2000);
      setEditing(false);
    });
  };
  const remove = async () => {
    const ok = await confirmDialog({
      title: t('labelDeleteTitle', { name: isolate(l.name) }),
      body: t('labelDeleteBody'),
      confirm: t('labelDelete'),
      danger: true,
      cancel: t('cancel'),
      close: t('closeDialog'),
      lang: lang(),
    });
    if (!ok) return;
    try {
      await del(`/api/labels/${l.id}`);
      await loadLabels(true);
      toast(t('labelDeleted', { name: isolate(l.name) }), 'success', 2500);
    } catch (e) {
      toast(e instanceof ApiError ? explain(e).error || e.text : String(e), 'error');
    }
  };
  if (editing) {
    return (
      <li class="label-row editing" data-testid="label-row" data-label={l.id}>
        <form class="label-form" onSubmit={save}>
          {f.error ? <div class="notice notice-error">{f.error}</div> : null}
          <Field label={t('labelName')} id={`label-name-${l.id}`} error={f.errors.name}>
            <input id={`label-name-${l.id}`} required maxLength={50} value={v.name} onInput={f.set('name')} autofocus data-testid="label-edit-name" />
          </Field>
          <Field label={t('labelColour')} id={`label-colour-${l.id}`} error={f.errors.colour}>
            <ColourPick id={`label-colour-${l.id}`} value={v.colour} onChange={(c) => f.setValues((o) => ({ ...o, colour: c }))} testid="label-edit-colour" />
          </Field>
          <div class="label-form-end">
            <Chip name={v.name.trim()} colour={v.colour} />
            <button
              type="button"
              class="btn"
              onClick={() => {
                f.setValues({ name: l.name, colour: l.colour });
                setEditing(false);
              }}
            >
              {t('cancel')}
            </button>
            <button type="submit" class="btn primary" disabled={f.busy || !v.name.trim()} data-testid="label-save">
              {t('labelSave')}
            </button>
          </div>
        </form>
      </li>
    );
  }
  return (
    <li class="label-row" data-testid="label-row" data-label={l.id}>
      <Chip name={l.name} colour={l.colour} />
      <span class="mono muted small">{l.colour}</span>
      <span class="label-row-actions">
        <button
          type="button"
          class="btn small"
          onClick={() => {
            f.setValues({ name: l.name, colour: l.colour });
            setEditing(true);
          }}
          aria-label={t('labelEditName', { name: isolate(l.name) })}
          data-testid="label-edit"
        >
          <Icon name="edit" size={14} /> {t('labelRename')}
        </button>
        <button
          type="button"
          class="btn small danger-ghost"
          onClick={remove}
          aria-label={t('labelDeleteName', { name: isolate(l.name) })}
          title={t('labelDelete')}
          data-testid="label-delete"
        >
          <Icon name="trash" size={14} />
        </button>
      </span>
    </li>
  );
}

export function Labels() {
  const [state, setState] = useState({ loading: true, error: null });
  useEffect(() => {
    loadLabels(true).then(
      () => setState({ loading: false, error: null }),
      (e) => setState({ loading: false, error: e.text || String(e) }),
    );
  }, []);
  return (
    <div class="labels-page" lang={lang()}>
      <PageHead title={t('labelsTitle')} sub={t('labelsSub')} />
      <NewLabel />
      <div class="card">
        {state.error ? <div class="notice notice-error">{t('labelLoadError', { error: state.error })}</div> : null}
        {state.loading && !S.labels.length ? (
          <div class="list-status">
            <Spinner label={t('labelLoading')} />
          </div>
        ) : S.labels.length ? (
          <ul class="label-rows" data-testid="label-list">
            {S.labels.map((l) => (
              <LabelRow key={`${l.id}:${l.name}:${l.colour}`} l={l} />
            ))}
          </ul>
        ) : (
          <div class="empty">
            <Icon name="tag" size={28} />
            <strong>{t('labelsEmpty')}</strong>
            <p>{t('labelsEmptyHint')}</p>
          </div>
        )}
      </div>
    </div>
  );
}
