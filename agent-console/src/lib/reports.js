// Reports in words and numbers (docs/reports.md): the periods the toolbar
// offers (local dates in the report's zone), the interval a period is
// drawn with, the change against the previous period and whether it is
// good news, durations, shares and the labels of buckets, weekdays and
// hours in the console's language. Pure functions; no state.

import { DURATION_UNITS, fmtDuration } from '../../../ui-shared/time.js';
import { lang, t } from './i18n.js';
import { fmtNum } from './visitors.js';

const DAY_MS = 86400000;

/** The most days a report covers (contract). */
export const MAX_DAYS = 366;

/** Milliseconds (UTC midnight) of a local date "YYYY-MM-DD". */
export const dateMs = (d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10));

const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

export const addDays = (d, n) => isoDate(dateMs(d) + n * DAY_MS);

/** How many days from..to spans, both included. */
export const daysIn = (from, to) => Math.round((dateMs(to) - dateMs(from)) / DAY_MS) + 1;

export const isDate = (d) => typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d) && isoDate(dateMs(d)) === d;

/** The browser's IANA zone ("UTC" when it says none). */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Today's date in a zone, "YYYY-MM-DD". */
export function todayIn(tz, now = Date.now()) {
  try {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
        .formatToParts(new Date(now))
        .map((x) => [x.type, x.value]),
    );
    return `${p.year}-${p.month}-${p.day}`;
  } catch {
    return isoDate(now);
  }
}

export const PRESETS = [
  ['7d', 'rptLast7'],
  ['30d', 'rptLast30'],
  ['month', 'rptThisMonth'],
  ['lastMonth', 'rptLastMonth'],
  ['custom', 'rptCustom'],
];

/** The dates of a preset period ending today in tz: {from, to}; null for 'custom'. */
export function presetRange(preset, tz, now = Date.now()) {
  const today = todayIn(tz, now);
  const first = `${today.slice(0, 8)}01`;
  switch (preset) {
    case '7d':
      return { from: addDays(today, -6), to: today };
    case '30d':
      return { from: addDays(today, -29), to: today };
    case 'month':
      return { from: first, to: today };
    case 'lastMonth': {
      const end = addDays(first, -1);
      return { from: `${end.slice(0, 8)}01`, to: end };
    }
    default:
      return null;
  }
}

/** A custom period the server takes: two dates, in order, at most 366 days. */
export const rangeValid = (from, to) => isDate(from) && isDate(to) && from <= to && daysIn(from, to) <= MAX_DAYS;

/** The buckets a period is drawn in: hours up to 2 days, weeks beyond 92 days, else days. */
export function intervalFor(from, to) {
  const n = daysIn(from, to);
  if (n <= 2) return 'hour';
  return n > 92 ? 'week' : 'day';
}

// ------------------------------------------------------------------ words

/** A duration in seconds, as fmtDuration writes it in the console's language; '—' when there is none. */
export function fmtSecs(sec) {
  if (sec === null || sec === undefined || sec === '' || !Number.isFinite(Number(sec))) return '—';
  const u = lang() === 'en' ? DURATION_UNITS : { s: t('rptUnitS'), m: t('rptUnitM'), h: t('rptUnitH'), d: t('rptUnitD'), sep: '' };
  return fmtDuration(Number(sec) * 1000, u);
}

/** A share (0..1) as "83%"; '—' when there is none. */
export function fmtShare(v) {
  if (v === null || v === undefined) return '—';
  try {
    return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 0 }).format(v);
  } catch {
    return `${Math.round(v * 100)}%`;
  }
}

/** A mean with at most `digits` decimals ("1.5"). */
export const fmtDecimal = (v, digits = 1) => (v === null || v === undefined ? '—' : new Intl.NumberFormat(lang(), { maximumFractionDigits: digits }).format(v));

function fmtDate(d, opts) {
  return new Intl.DateTimeFormat(lang(), { timeZone: 'UTC', ...opts }).format(new Date(dateMs(d)));
}

/** "3 Nov" ("11月3日"); with the weekday when long ("Tue, 3 Nov"); with the year when asked. */
export const fmtDay = (d, { long = false, year = false } = {}) =>
  fmtDate(d, { day: 'numeric', month: 'short', ...(long ? { weekday: 'short' } : {}), ...(year ? { year: 'numeric' } : {}) });

/** "3 Nov – 9 Nov" (the year on both ends when they are not this year). */
export function fmtPeriod(from, to) {
  const year = from.slice(0, 4) !== to.slice(0, 4) || from.slice(0, 4) !== String(new Date().getFullYear());
  return from === to ? fmtDay(from, { year }) : t('rptPeriod', { from: fmtDay(from, { year }), to: fmtDay(to, { year }) });
}

/** The weekdays Monday..Sunday, short ("Mon", "周一"). */
export function weekdays(style = 'short') {
  return Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang(), { weekday: style, timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + i))));
}

export const fmtHour = (h) => `${String(h).padStart(2, '0')}:00`;

/** A bucket's start as an axis tick (short) or in a tooltip (long): a day, an hour ("14:00"; midnight: the day) or a week. */
export function bucketLabel(start, interval, long = false) {
  const day = start.slice(0, 10);
  if (interval === 'hour') {
    const hour = start.slice(11, 16);
    if (long) return `${fmtDay(day, { long: true })} ${hour}`;
    return hour === '00:00' ? fmtDay(day) : hour;
  }
  if (interval === 'week') return long ? t('rptWeekOf', { date: fmtDay(day, { year: true }) }) : fmtDay(day);
  return fmtDay(day, { long });
}

/** The spacing of an axis's ticks, in buckets, that reads well: whole parts of a day, a week, a year. */
export const TICK_STEPS = { hour: [1, 2, 3, 4, 6, 12, 24], day: [1, 2, 7, 14, 28], week: [1, 2, 4, 13, 26] };

/** The weekday (0 = Monday) of a local date. */
export const weekdayOf = (d) => (new Date(dateMs(d)).getUTCDay() + 6) % 7;

/**
 * The query that lists a bucket's conversations: its day (interval day), its
 * hour of the week (interval hour: a period of at most two days has each
 * hour once), or its week's dates within the period.
 */
export function bucketDrill(start, interval, period) {
  const day = start.slice(0, 10);
  if (interval === 'hour') return { hour_of_week: `${weekdayOf(day)}:${Number(start.slice(11, 13))}` };
  if (interval === 'week') {
    const end = addDays(day, 6);
    return { from: day < period.from ? period.from : day, to: end > period.to ? period.to : end };
  }
  return { day };
}

// ------------------------------------------------------- previous period

/**
 * How a figure changed since the previous period: {text, dir, tone, label}.
 * better: 'up' (more is good), 'down' (less is good: missed, times) or ''
 * (neither: chats started). share: the change in percentage points.
 */
export function change(cur, prev, { better = 'up', share = false } = {}) {
  if (cur === null || cur === undefined || prev === null || prev === undefined) return null;
  const diff = cur - prev;
  const dir = Math.abs(diff) < 1e-9 ? 'flat' : diff > 0 ? 'up' : 'down';
  let text;
  if (share) text = t('rptPts', { n: fmtNum(Math.round(Math.abs(diff) * 100)) });
  else if (prev === 0) text = dir === 'flat' ? '0%' : t('rptNew');
  else text = fmtShare(Math.abs(diff) / Math.abs(prev));
  const tone = dir === 'flat' || !better ? 'neutral' : dir === better ? 'good' : 'bad';
  const label = dir === 'flat' ? t('rptSame') : t(dir === 'up' ? 'rptChangeUp' : 'rptChangeDown', { n: text });
  return { text, dir, tone, label };
}
