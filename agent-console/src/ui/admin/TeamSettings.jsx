// TeamSettings: Admin → Teams → a team's settings (#/admin/teams/3): its
// time zone, weekly business hours and holidays, SLA targets (business or
// wall time), escalation rules (queue wait, reassign, idle visitors) and
// whether collaborations use capacity. Saved with PATCH /api/teams/{id};
// the server's refusals (field names such as "business_hours.week.mon[0]"
// or "sla.first_response_seconds") are shown next to the field they name.
import { S, navigate, refreshTeams, toast } from '../../store/index.js';
import { patch } from '../../lib/api.js';
import { lang, t } from '../../lib/i18n.js';
import { Bdi } from '../common.jsx';
import { Icon } from '../icons.jsx';
import { backAtText } from '../Board.jsx';
import { PageHead, useForm } from './Admin.jsx';

const DAYS = [
  ['mon', 'dayMon'],
  ['tue', 'dayTue'],
  ['wed', 'dayWed'],
  ['thu', 'dayThu'],
  ['fri', 'dayFri'],
  ['sat', 'daySat'],
  ['sun', 'daySun'],
];
const MAX_SPANS = 4;
const UNITS = [
  [1, 'unitSeconds'],
  [60, 'unitMinutes'],
  [3600, 'unitHours'],
];
const PRIORITIES = [
  ['low', 'prioLow'],
  ['normal', 'prioNormal'],
  ['high', 'prioHigh'],
  ['urgent', 'prioUrgent'],
];

let zoneList = null;
/** The IANA zone names this browser knows (the server checks its own list). */
function zones() {
  if (!zoneList) {
    let list;
    try {
      list = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
    } catch {
      list = [];
    }
    zoneList = [...new Set(['UTC', ...list])];
  }
  return zoneList;
}

function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Seconds as {n, unit} in the largest unit that divides them. */
function toDuration(sec, fallbackUnit = 60) {
  if (typeof sec !== 'number') return { n: '', unit: fallbackUnit };
  for (const u of [3600, 60]) if (sec >= u && sec % u === 0) return { n: String(sec / u), unit: u };
  return { n: String(sec), unit: 1 };
}

/** {n, unit} as seconds; null when empty; the text itself when not a number (the server names the field). */
function seconds(d) {
  const s = String(d.n).trim();
  if (!s) return null;
  const n = Number(s);
  return Number.isFinite(n) ? Math.round(n * d.unit) : s;
}

function initial(team) {
  const h = team.business_hours;
  const sla = team.sla;
  const esc = team.escalation || {};
  const week = {};
  for (const [d] of DAYS) {
    const spans = h && h.week && Array.isArray(h.week[d]) ? h.week[d] : null;
    week[d] = spans ? spans.map((s) => [s[0], s[1]]) : !h && !['sat', 'sun'].includes(d) ? [['09:00', '17:00']] : [];
  }
  const qw = esc.queue_wait || null;
  const idle = esc.visitor_idle || null;
  return {
    hoursOn: !!h,
    timezone: (h && h.timezone) || localZone(),
    week,
    holidays: h && Array.isArray(h.holidays) ? [...h.holidays] : [],
    slaOn: !!sla,
    first: toDuration(sla ? sla.first_response_seconds : 900),
    next: toDuration(sla ? sla.next_response_seconds : 1800),
    resolution: toDuration(sla ? sla.resolution_seconds : null, 3600),
    businessTime: sla ? !!sla.business_time : !!h,
    qwOn: !!qw,
    qwAfter: toDuration(qw ? qw.after_seconds : 300),
    qwAction: qw && qw.to_team_id ? 'team' : 'priority',
    qwTeam: qw && qw.to_team_id ? String(qw.to_team_id) : '',
    qwPriority: (qw && qw.priority) || 'high',
    reOn: typeof esc.reassign_after_seconds === 'number',
    reAfter: toDuration(typeof esc.reassign_after_seconds === 'number' ? esc.reassign_after_seconds : 120),
    idleOn: !!idle,
    idleAfter: toDuration(idle ? idle.after_seconds : 1800),
    idleMessage: idle ? idle.message : t('escIdleMessageDefault'),
    capacity: !!team.collaborators_use_capacity,
  };
}

/** The PATCH body for the form's values. */
function body(v) {
  const out = { collaborators_use_capacity: !!v.capacity };
  if (v.hoursOn) {
    const week = {};
    for (const [d] of DAYS) if (v.week[d].length) week[d] = v.week[d].map((s) => [s[0].trim(), s[1].trim()]);
    out.business_hours = { timezone: v.timezone.trim(), week, holidays: v.holidays.filter(Boolean) };
  } else out.business_hours = null;
  out.sla = v.slaOn
    ? {
        first_response_seconds: seconds(v.first),
        next_response_seconds: seconds(v.next),
        resolution_seconds: seconds(v.resolution),
        business_time: !!v.businessTime,
      }
    : null;
  const esc = {};
  if (v.qwOn) {
    esc.queue_wait = { after_seconds: seconds(v.qwAfter) };
    if (v.qwAction === 'team') esc.queue_wait.to_team_id = Number(v.qwTeam) || null;
    else esc.queue_wait.priority = v.qwPriority;
  }
  if (v.reOn) esc.reassign_after_seconds = seconds(v.reAfter);
  if (v.idleOn) esc.visitor_idle = { after_seconds: seconds(v.idleAfter), message: v.idleMessage };
  out.escalation = Object.keys(esc).length ? esc : null;
  return out;
}

/** The server's message for a field or anything under it ("business_hours.week.mon" takes "...mon[0]"). */
function errorOf(errors, name) {
  for (const [k, m] of Object.entries(errors)) if (k === name || k.startsWith(`${name}.`) || k.startsWith(`${name}[`)) return m;
  return null;
}

const KNOWN = [
  'business_hours.timezone',
  ...DAYS.map(([d]) => `business_hours.week.${d}`),
  'business_hours.holidays',
  'sla.first_response_seconds',
  'sla.next_response_seconds',
  'sla.resolution_seconds',
  'sla.business_time',
  'escalation.queue_wait',
  'escalation.reassign_after_seconds',
  'escalation.visitor_idle.after_seconds',
  'escalation.visitor_idle.message',
  'collaborators_use_capacity',
];

/** A labelled setting whose server errors show under it (data-field: the field the server names). */
function Setting({ label, id, field, errors, hint, children, wide }) {
  const err = field ? errorOf(errors, field) : null;
  return (
    <div class={`field ts-field ${err ? 'has-error' : ''} ${wide ? 'span2' : ''}`} data-field={field}>
      {label ? <label for={id}>{label}</label> : null}
      {children}
      {err ? (
        <div class="field-error" role="alert">
          {err}
        </div>
      ) : hint ? (
        <div class="field-hint">{hint}</div>
      ) : null}
    </div>
  );
}

function Duration({ id, value, onChange, testid, min = 1 }) {
  return (
    <div class="ts-duration">
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={min}
        step="any"
        value={value.n}
        onInput={(e) => onChange({ ...value, n: e.currentTarget.value })}
        data-testid={`${testid}-n`}
      />
      <select
        aria-label={t('unitMinutes')}
        value={String(value.unit)}
        onChange={(e) => onChange({ ...value, unit: Number(e.currentTarget.value) })}
        data-testid={`${testid}-unit`}
      >
        {UNITS.map(([u, k]) => (
          <option key={u} value={String(u)}>
            {t(k)}
          </option>
        ))}
      </select>
    </div>
  );
}

function DayRow({ day, label, spans, onChange, error }) {
  const setSpan = (i, j, val) => onChange(spans.map((s, k) => (k === i ? (j === 0 ? [val, s[1]] : [s[0], val]) : s)));
  return (
    <div class={`ts-day ${error ? 'has-error' : ''}`} data-testid="ts-day" data-day={day} data-field={`business_hours.week.${day}`}>
      <span class="ts-day-name">{label}</span>
      <div class="ts-spans">
        {spans.length ? null : <span class="muted small ts-closed">{t('closedDay')}</span>}
        {spans.map((s, i) => (
          <span class="ts-span" key={i}>
            <input
              class="ts-time"
              value={s[0]}
              maxLength={5}
              placeholder="09:00"
              aria-label={`${label} ${t('opensAt')}`}
              onInput={(e) => setSpan(i, 0, e.currentTarget.value)}
              data-testid="ts-open"
            />
            <span aria-hidden="true">–</span>
            <input
              class="ts-time"
              value={s[1]}
              maxLength={5}
              placeholder="17:00"
              aria-label={`${label} ${t('closesAt')}`}
              onInput={(e) => setSpan(i, 1, e.currentTarget.value)}
              data-testid="ts-close"
            />
            <button
              type="button"
              class="icon-btn small"
              aria-label={t('removeSpan')}
              title={t('removeSpan')}
              onClick={() => onChange(spans.filter((_, k) => k !== i))}
            >
              <Icon name="x" size={14} />
            </button>
          </span>
        ))}
        {spans.length < MAX_SPANS ? (
          <button
            type="button"
            class="btn small ts-add"
            onClick={() => onChange([...spans, spans.length ? [spans[spans.length - 1][1], '24:00'] : ['09:00', '17:00']])}
            aria-label={`${t('addSpan')}: ${label}`}
            data-testid="ts-add-span"
          >
            <Icon name="plus" size={13} />
            <span>{t('addSpan')}</span>
          </button>
        ) : null}
      </div>
      {error ? (
        <div class="field-error ts-day-error" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

function Check({ checked, onChange, label, testid }) {
  return (
    <label class="check toggle-row">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} data-testid={testid} />
      <span>{label}</span>
    </label>
  );
}

function Form({ team }) {
  const f = useForm(initial(team));
  const v = f.values;
  const set = (k, val) => f.setValues({ ...v, [k]: val });
  const errors = f.errors;
  const others = Object.entries(errors).filter(([k]) => !KNOWN.some((n) => k === n || k.startsWith(`${n}.`) || k.startsWith(`${n}[`)));
  const tzKnown = zones().includes(v.timezone.trim());
  const otherTeams = S.teams.filter((x) => x.id !== team.id);
  const save = (e) => {
    e.preventDefault();
    f.run(async () => {
      await patch(`/api/teams/${team.id}`, body(v));
      await refreshTeams();
      toast(t('settingsSaved'), 'success', 2500);
    });
  };
  return (
    <form class="team-settings" onSubmit={save} data-testid="team-settings" lang={lang()}>
      {f.error ? <div class="notice notice-error">{f.error}</div> : null}
      {Object.keys(errors).length ? (
        <div class="notice notice-error" data-testid="ts-errors">
          {t('settingsFix')}
          {others.map(([k, m]) => (
            <div key={k}>
              {k}: {m}
            </div>
          ))}
        </div>
      ) : null}

      <section class="card section">
        <div class="section-head">
          <h2>{t('hoursTitle')}</h2>
        </div>
        <div class="segmented ts-mode" role="radiogroup" aria-label={t('hoursTitle')}>
          <label class={`check ${!v.hoursOn ? 'on' : ''}`}>
            <input type="radio" name="ts-hours" checked={!v.hoursOn} onChange={() => set('hoursOn', false)} data-testid="ts-hours-always" />
            <span>{t('hoursAlways')}</span>
          </label>
          <label class={`check ${v.hoursOn ? 'on' : ''}`}>
            <input type="radio" name="ts-hours" checked={v.hoursOn} onChange={() => set('hoursOn', true)} data-testid="ts-hours-set" />
            <span>{t('hoursSet')}</span>
          </label>
        </div>
        {v.hoursOn ? (
          <>
            <Setting
              label={t('timezone')}
              id="ts-timezone"
              field="business_hours.timezone"
              errors={errors}
              hint={tzKnown ? t('timezoneHint') : t('timezoneUnknown')}
            >
              <input
                id="ts-timezone"
                list="ts-zones"
                autoComplete="off"
                spellcheck={false}
                value={v.timezone}
                onInput={(e) => set('timezone', e.currentTarget.value)}
                data-testid="ts-timezone"
              />
              <datalist id="ts-zones">
                {zones().map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </Setting>
            <div class="ts-week" role="group" aria-label={t('hoursTitle')}>
              {DAYS.map(([d, k]) => (
                <DayRow
                  key={d}
                  day={d}
                  label={t(k)}
                  spans={v.week[d]}
                  error={errorOf(errors, `business_hours.week.${d}`)}
                  onChange={(spans) => set('week', { ...v.week, [d]: spans })}
                />
              ))}
            </div>
            <div class="ts-week-foot">
              <span class="field-hint">{t('timeHint')}</span>
              <button
                type="button"
                class="btn small"
                onClick={() => {
                  const mon = v.week.mon.map((s) => [...s]);
                  set('week', {
                    ...v.week,
                    tue: mon.map((s) => [...s]),
                    wed: mon.map((s) => [...s]),
                    thu: mon.map((s) => [...s]),
                    fri: mon.map((s) => [...s]),
                  });
                }}
                data-testid="ts-copy-weekdays"
              >
                {t('copyToWeekdays')}
              </button>
            </div>
            <Setting label={t('holidays')} field="business_hours.holidays" errors={errors} hint={t('holidaysHint')} wide>
              <div class="ts-holidays">
                {v.holidays.length ? null : <span class="muted small">{t('noHolidays')}</span>}
                {v.holidays.map((d, i) => (
                  <span class="ts-holiday" key={i}>
                    <input
                      type="date"
                      value={d}
                      aria-label={t('holidays')}
                      onInput={(e) =>
                        set(
                          'holidays',
                          v.holidays.map((x, k) => (k === i ? e.currentTarget.value : x)),
                        )
                      }
                      data-testid="ts-holiday"
                    />
                    <button
                      type="button"
                      class="icon-btn small"
                      aria-label={t('removeHoliday')}
                      title={t('removeHoliday')}
                      onClick={() =>
                        set(
                          'holidays',
                          v.holidays.filter((_, k) => k !== i),
                        )
                      }
                    >
                      <Icon name="x" size={14} />
                    </button>
                  </span>
                ))}
                <button type="button" class="btn small" onClick={() => set('holidays', [...v.holidays, ''])} data-testid="ts-add-holiday">
                  <Icon name="plus" size={13} />
                  <span>{t('addHoliday')}</span>
                </button>
              </div>
            </Setting>
          </>
        ) : null}
      </section>

      <section class="card section">
        <div class="section-head">
          <h2>{t('slaTitle')}</h2>
        </div>
        <Check checked={v.slaOn} onChange={(x) => set('slaOn', x)} label={t('slaOn')} testid="ts-sla-on" />
        {v.slaOn ? (
          <div class="ts-grid">
            <Setting label={t('slaFirstTarget')} id="ts-first" field="sla.first_response_seconds" errors={errors} hint={t('slaTargetHint')}>
              <Duration id="ts-first" value={v.first} onChange={(x) => set('first', x)} testid="ts-first" />
            </Setting>
            <Setting label={t('slaNextTarget')} id="ts-next" field="sla.next_response_seconds" errors={errors} hint={t('slaTargetHint')}>
              <Duration id="ts-next" value={v.next} onChange={(x) => set('next', x)} testid="ts-next" />
            </Setting>
            <Setting label={t('slaResolutionTarget')} id="ts-resolution" field="sla.resolution_seconds" errors={errors} hint={t('slaTargetHint')}>
              <Duration id="ts-resolution" value={v.resolution} onChange={(x) => set('resolution', x)} testid="ts-resolution" />
            </Setting>
            <Setting field="sla.business_time" errors={errors} wide>
              <div class="ts-radios" role="radiogroup">
                <label class="check">
                  <input type="radio" name="ts-bt" checked={v.businessTime} onChange={() => set('businessTime', true)} data-testid="ts-business-time" />
                  <span>{t('slaBusinessTime')}</span>
                </label>
                <label class="check">
                  <input type="radio" name="ts-bt" checked={!v.businessTime} onChange={() => set('businessTime', false)} data-testid="ts-wall-time" />
                  <span>{t('slaWallTime')}</span>
                </label>
              </div>
            </Setting>
          </div>
        ) : null}
      </section>

      <section class="card section">
        <div class="section-head">
          <h2>{t('escTitle')}</h2>
        </div>
        <div class="ts-rule">
          <Check checked={v.qwOn} onChange={(x) => set('qwOn', x)} label={t('escQueueWait')} testid="ts-qw-on" />
          {v.qwOn ? (
            <div class="ts-grid">
              <Setting label={t('escAfter')} id="ts-qw-after" field="escalation.queue_wait.after_seconds" errors={errors}>
                <Duration id="ts-qw-after" value={v.qwAfter} onChange={(x) => set('qwAfter', x)} testid="ts-qw-after" />
              </Setting>
              <Setting label={t('escAction')} id="ts-qw-action" field="escalation.queue_wait.priority" errors={errors}>
                <select id="ts-qw-action" value={v.qwAction} onChange={(e) => set('qwAction', e.currentTarget.value)} data-testid="ts-qw-action">
                  <option value="priority">{t('escActionRaise')}</option>
                  <option value="team">{t('escActionMove')}</option>
                </select>
              </Setting>
              {v.qwAction === 'team' ? (
                <Setting label={t('escMoveTo')} id="ts-qw-team" field="escalation.queue_wait.to_team_id" errors={errors}>
                  <select id="ts-qw-team" value={v.qwTeam} onChange={(e) => set('qwTeam', e.currentTarget.value)} data-testid="ts-qw-team">
                    <option value="">{t('pickTeam')}</option>
                    {otherTeams.map((x) => (
                      <option key={x.id} value={String(x.id)}>
                        {x.name}
                      </option>
                    ))}
                  </select>
                </Setting>
              ) : (
                <Setting label={t('escRaiseTo')} id="ts-qw-priority" field="escalation.queue_wait.to_team_id" errors={errors}>
                  <select id="ts-qw-priority" value={v.qwPriority} onChange={(e) => set('qwPriority', e.currentTarget.value)} data-testid="ts-qw-priority">
                    {PRIORITIES.map(([p, k]) => (
                      <option key={p} value={p}>
                        {t(k)}
                      </option>
                    ))}
                  </select>
                </Setting>
              )}
            </div>
          ) : null}
        </div>
        <div class="ts-rule">
          <Check checked={v.reOn} onChange={(x) => set('reOn', x)} label={t('escReassign')} testid="ts-re-on" />
          {v.reOn ? (
            <div class="ts-grid">
              <Setting label={t('escAfter')} id="ts-re-after" field="escalation.reassign_after_seconds" errors={errors}>
                <Duration id="ts-re-after" value={v.reAfter} onChange={(x) => set('reAfter', x)} testid="ts-re-after" />
              </Setting>
            </div>
          ) : null}
        </div>
        <div class="ts-rule">
          <Check checked={v.idleOn} onChange={(x) => set('idleOn', x)} label={t('escIdle')} testid="ts-idle-on" />
          {v.idleOn ? (
            <div class="ts-grid">
              <Setting label={t('escAfter')} id="ts-idle-after" field="escalation.visitor_idle.after_seconds" errors={errors}>
                <Duration id="ts-idle-after" value={v.idleAfter} onChange={(x) => set('idleAfter', x)} testid="ts-idle-after" />
              </Setting>
              <Setting label={t('escIdleMessage')} id="ts-idle-message" field="escalation.visitor_idle.message" errors={errors} wide>
                <textarea
                  id="ts-idle-message"
                  rows={3}
                  maxLength={2000}
                  value={v.idleMessage}
                  onInput={(e) => set('idleMessage', e.currentTarget.value)}
                  data-testid="ts-idle-message"
                />
              </Setting>
            </div>
          ) : null}
        </div>
      </section>

      <section class="card section">
        <div class="section-head">
          <h2>{t('capacityTitle')}</h2>
        </div>
        <Setting field="collaborators_use_capacity" errors={errors} hint={t('collabCapacityHint')}>
          <Check checked={v.capacity} onChange={(x) => set('capacity', x)} label={t('collabCapacity')} testid="ts-capacity" />
        </Setting>
      </section>

      <div class="save-bar">
        <span class="muted small">
          {team.business_hours
            ? team.open_now
              ? t('openNow')
              : team.back_at
                ? t('closedNow', { when: backAtText(team.back_at) })
                : t('closedNowNoTime')
            : null}
        </span>
        <button type="submit" class="btn primary" disabled={f.busy} data-testid="ts-save">
          {t('saveSettings')}
        </button>
      </div>
    </form>
  );
}

export function TeamSettings({ id }) {
  const team = S.teams.find((x) => x.id === id);
  return (
    <>
      <PageHead title={team ? <Bdi text={t('teamSettingsOf', { name: team.name })} /> : t('teamSettings')} sub={t('teamSettingsSub')}>
        <button type="button" class="btn" onClick={() => navigate({ area: 'admin', admin: 'teams' })} data-testid="ts-back">
          <Icon name="chevronLeft" size={16} /> {t('backToTeams')}
        </button>
      </PageHead>
      {team ? <Form key={team.id} team={team} /> : <div class="notice notice-error">{t('teamNotFound')}</div>}
    </>
  );
}
