// Priority and labels: the chips of the open conversation with their
// editors (conversation.set_priority, conversation.set_labels), the small
// chips of a list row, and the list's filter by priority, label and country.

import { useEffect, useRef, useState } from 'preact/hooks';
import {
  PRIORITIES,
  S,
  canSeeAdmin,
  filterActive,
  labelOf,
  listCountries,
  loadLabels,
  navigate,
  priorityText,
  setLabels,
  setListFilter,
  setPriority,
} from '../store/index.js';
import { lang, t } from '../lib/i18n.js';
import { countryName, flagPrefix } from '../lib/visitors.js';
import { Bdi } from './common.jsx';
import { Icon } from './icons.jsx';

/** A popover's open state, closed by a click elsewhere or Escape. */
function usePopover() {
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => {
      if (box.current && !box.current.contains(e.target)) setOpen(false);
    };
    const onKey = (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [open]);
  return { open, setOpen, box };
}

/** A label as a coloured chip (the colour is a dot, the text stays readable). */
export function Label({ l, small }) {
  const cur = labelOf(l);
  return (
    <span class={`label-chip ${small ? 'small' : ''}`} data-testid="label-chip" data-label={cur.id}>
      <span class="label-dot" style={{ background: cur.colour }} />
      <Bdi text={cur.name} />
    </span>
  );
}

const editable = (c) => c.status !== 'closed';

export function PriorityChip({ c }) {
  const { open, setOpen, box } = usePopover();
  const p = c.priority || 'normal';
  const can = editable(c);
  return (
    <span class="popover-wrap" ref={box}>
      <button
        type="button"
        class={`prio-chip prio-${p}`}
        disabled={!can}
        aria-haspopup="menu"
        aria-expanded={open ? 'true' : 'false'}
        title={t('priorityOf', { p: priorityText(p) })}
        onClick={() => setOpen(!open)}
        data-testid="priority-chip"
        data-priority={p}
      >
        <Icon name="flag" size={13} />
        <span class="prio-text">{priorityText(p)}</span>
      </button>
      {open ? (
        <div class="popover" role="menu" aria-label={t('priority')} lang={lang()}>
          {PRIORITIES.slice()
            .reverse()
            .map((x) => (
              <button
                key={x}
                type="button"
                role="menuitemradio"
                aria-checked={x === p ? 'true' : 'false'}
                class={`popover-item ${x === p ? 'on' : ''}`}
                onClick={async () => {
                  setOpen(false);
                  await setPriority(c.id, x);
                }}
                data-testid="priority-option"
                data-priority={x}
              >
                <span class={`prio-dot prio-${x}`} />
                {priorityText(x)}
                {x === p ? <Icon name="check" size={14} class="popover-check" /> : null}
              </button>
            ))}
        </div>
      ) : null}
    </span>
  );
}

export function LabelChips({ c }) {
  const { open, setOpen, box } = usePopover();
  const labels = Array.isArray(c.labels) ? c.labels : [];
  const ids = new Set(labels.map((l) => l.id));
  const can = editable(c);
  const toggle = (id) => {
    const next = ids.has(id) ? labels.map((l) => l.id).filter((x) => x !== id) : [...labels.map((l) => l.id), id];
    setLabels(c.id, next);
  };
  return (
    <span class="popover-wrap labels-wrap" ref={box}>
      {labels.map((l) => (
        <Label key={l.id} l={l} />
      ))}
      {can ? (
        <button
          type="button"
          class="label-add"
          aria-haspopup="menu"
          aria-expanded={open ? 'true' : 'false'}
          title={t('editLabels')}
          aria-label={t('editLabels')}
          onClick={() => {
            if (!open) loadLabels(true);
            setOpen(!open);
          }}
          data-testid="labels-edit"
        >
          <Icon name="tag" size={13} />
          {labels.length ? null : <span>{t('addLabel')}</span>}
        </button>
      ) : null}
      {open ? (
        <div class="popover popover-labels" role="menu" aria-label={t('labels')} lang={lang()}>
          {S.labels.length ? (
            S.labels.map((l) => (
              <label key={l.id} class="popover-item" data-testid="label-option" data-label={l.id}>
                <input type="checkbox" checked={ids.has(l.id)} onChange={() => toggle(l.id)} />
                <span class="label-dot" style={{ background: l.colour }} />
                <Bdi text={l.name} />
              </label>
            ))
          ) : (
            <p class="popover-empty muted">{t('noLabelsYet')}</p>
          )}
          {canSeeAdmin('labels') ? (
            <button
              type="button"
              class="popover-item popover-foot"
              onClick={() => {
                setOpen(false);
                navigate({ area: 'admin', admin: 'labels' });
              }}
            >
              <Icon name="settings" size={14} />
              {t('manageLabels')}
            </button>
          ) : null}
        </div>
      ) : null}
    </span>
  );
}

/** A list row's priority (when not normal) and labels. */
export function RowTriage({ c }) {
  const p = c.priority || 'normal';
  const labels = Array.isArray(c.labels) ? c.labels : [];
  if (p === 'normal' && !labels.length) return null;
  return (
    <>
      {p !== 'normal' ? (
        <span class={`prio-chip small prio-${p}`} data-testid="row-priority" data-priority={p} title={t('priorityOf', { p: priorityText(p) })}>
          <Icon name="flag" size={11} />
          {priorityText(p)}
        </span>
      ) : null}
      {labels.slice(0, 3).map((l) => (
        <Label key={l.id} l={l} small />
      ))}
      {labels.length > 3 ? <span class="meta-text">+{labels.length - 3}</span> : null}
    </>
  );
}

/** The list's country filter (the countries of the conversations known; the closed list asks the server). */
function CountryFilter() {
  const countries = listCountries()
    .map((c) => [c, countryName(c)])
    .sort((a, b) => a[1].localeCompare(b[1], lang()));
  // Without geolocation nobody has a country: no filter to offer.
  if (!countries.length) return null;
  return (
    <>
      <Icon name="globe" size={14} />
      <select
        aria-label={t('filterCountry')}
        value={S.listFilter.country || ''}
        onChange={(e) => setListFilter({ country: e.currentTarget.value || null })}
        data-testid="filter-country"
      >
        <option value="">{t('allCountries')}</option>
        {countries.map(([c, name]) => (
          <option key={c} value={c}>
            {`${flagPrefix(c)}${name}`}
          </option>
        ))}
      </select>
    </>
  );
}

/** The list's filter: by priority, by label and by country. */
export function ListFilter() {
  const f = S.listFilter;
  return (
    <div class="list-filter" lang={lang()} data-testid="list-filter">
      <Icon name="flag" size={14} />
      <select
        aria-label={t('filterPriority')}
        value={f.priority || ''}
        onChange={(e) => setListFilter({ priority: e.currentTarget.value || null })}
        data-testid="filter-priority"
      >
        <option value="">{t('allPriorities')}</option>
        {PRIORITIES.slice()
          .reverse()
          .map((p) => (
            <option key={p} value={p}>
              {priorityText(p)}
            </option>
          ))}
      </select>
      <Icon name="tag" size={14} />
      <select
        aria-label={t('filterLabel')}
        value={f.label || ''}
        onFocus={() => loadLabels(true)}
        onChange={(e) => setListFilter({ label: Number(e.currentTarget.value) || null })}
        data-testid="filter-label"
      >
        <option value="">{t('allLabels')}</option>
        {S.labels.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </select>
      <CountryFilter />
      {filterActive() ? (
        <button type="button" class="link-btn" onClick={() => setListFilter({ priority: null, label: null, country: null })} data-testid="filter-clear">
          {t('clearFilter')}
        </button>
      ) : null}
    </div>
  );
}
