// time: the server's timestamps, parsed and formatted, for both front ends.
// Pure functions; each bundle keeps only what it imports (the widget takes
// ts and fmtClock, the console the rest).

export const pad2 = (n) => String(n).padStart(2, '0');

/**
 * Milliseconds of an ISO 8601 time, 0 when there is none. The server sends
 * milliseconds or microseconds; fractions are cut to milliseconds, which
 * every browser parses.
 */
export function ts(iso) {
  if (typeof iso !== 'string' || !iso) return 0;
  const t = Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : t;
}

/** "14:05": the time of day, 24-hour (the console). */
export function fmtTime(iso) {
  const t = ts(iso);
  if (!t) return '';
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const clocks = new Map(); // language -> Intl.DateTimeFormat

/** The time of day as the language writes it ("2:05 PM", "14:05"; the widget). */
export function fmtClock(iso, lang) {
  const t = ts(iso);
  if (!t) return '';
  let f = clocks.get(lang);
  if (!f) clocks.set(lang, (f = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' })));
  return f.format(new Date(t));
}

const DAY = 86400000;
function startOfDay(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

let relative = null; // Intl.RelativeTimeFormat of the browser's language

/** "Today", "Yesterday", "Monday, 3 Mar", "3 Mar 2023" (in the browser's language: "今天"). */
export function fmtDay(iso, now = Date.now()) {
  const t = ts(iso);
  if (!t) return '';
  const diff = Math.round((startOfDay(now) - startOfDay(t)) / DAY);
  if (diff === 0 || diff === 1) {
    if (!relative) relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
    const word = relative.format(-diff, 'day');
    return word.charAt(0).toUpperCase() + word.slice(1);
  }
  const d = new Date(t);
  return d.toLocaleDateString(undefined, {
    weekday: diff < 7 ? 'long' : undefined,
    day: 'numeric',
    month: 'short',
    year: d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric',
  });
}

/** "3 Mar 2024 14:05" */
export function fmtDateTime(iso) {
  const t = ts(iso);
  if (!t) return '';
  return `${new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })} ${fmtTime(iso)}`;
}

/** The units fmtDuration writes by default; a language passes its own (zh: 秒 分 小时 天, no space). */
export const DURATION_UNITS = { s: 's', m: 'm', h: 'h', d: 'd', sep: ' ' };

/** "42s", "3m 05s", "1h 12m", "2d 3h" (or in the units given: "3分05秒"). */
export function fmtDuration(ms, u = DURATION_UNITS) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}${u.s}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}${u.m}${u.sep}${pad2(s % 60)}${u.s}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}${u.h}${u.sep}${pad2(m % 60)}${u.m}`;
  return `${Math.floor(h / 24)}${u.d}${u.sep}${h % 24}${u.h}`;
}

/** Short relative time for lists: "now", "5m", "3h", "2d", or a date. */
export function relTime(iso, now = Date.now()) {
  const t = ts(iso);
  if (!t) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'now';
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  if (s < 7 * 86400) return `${Math.round(s / 86400)}d`;
  return new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}
