// Visitors in words: a country's flag (regional-indicator letters) and name
// (Intl.DisplayNames in the console's language), a location line, the
// device, a visitor's name, the host of a referrer, durations, numbers and
// the visitor's local time (Intl.DateTimeFormat with the IANA zone of their
// location); the server's refusals of an invitation (409 visitor_offline,
// visitor_chatting, invitation_pending) and of an invitation rule (per
// field) as translated sentences. Everything here returns plain text.

import { isolate } from '../../../ui-shared/bidi.js';
import { lang, t } from './i18n.js';

/** The most characters of an invitation's message (contract: 1..1000). */
export const INVITE_MAX = 1000;

const ISO2 = /^[A-Z]{2}$/;

/** "🇩🇪" for "DE"; '' when the code is not two letters. */
export function flag(country) {
  const c = String(country || '').toUpperCase();
  if (!ISO2.test(c)) return '';
  return String.fromCodePoint(...[...c].map((ch) => 0x1f1e6 + ch.charCodeAt(0) - 65));
}

let flagsDrawn = null;

/**
 * Whether this computer draws flag emoji (Windows and systems without a
 * colour emoji font draw two boxes or two letters instead): a flag drawn as
 * one glyph is about as wide as one emoji, two letters about twice as wide.
 */
export function flagsSupported() {
  if (flagsDrawn !== null) return flagsDrawn;
  try {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '32px sans-serif';
    const pair = ctx.measureText(flag('DE')).width;
    const one = ctx.measureText(String.fromCodePoint(0x1f1e9)).width;
    flagsDrawn = pair > 0 && one > 0 && pair < one * 1.5;
  } catch {
    flagsDrawn = false;
  }
  return flagsDrawn;
}

/** The flag before a country's name in a list of options, when the computer draws flags. */
export const flagPrefix = (country) => (flagsSupported() ? `${flag(country)} ` : '');

const regionNames = new Map();

/** "Germany" (or "德国") for "DE"; the code itself when the browser has no name for it. */
export function countryName(country) {
  const c = String(country || '').toUpperCase();
  if (!ISO2.test(c)) return '';
  const l = lang();
  try {
    if (!regionNames.has(l)) regionNames.set(l, new Intl.DisplayNames([l], { type: 'region' }));
    return regionNames.get(l).of(c) || c;
  } catch {
    return c;
  }
}

/** "Munich, Bavaria, Germany" (what is known of it), or ''. */
export function placeText(loc) {
  if (!loc || typeof loc !== 'object') return '';
  const parts = [loc.city, loc.region, countryName(loc.country)].filter((x) => typeof x === 'string' && x);
  // A city-state's region and city are often the same word.
  return parts.filter((p, i) => parts.indexOf(p) === i).join(', ');
}

/** A visitor's name as the lists show it: name, email, or "Visitor #12". */
export function visitorLabel(v) {
  if (v && v.name) return v.name;
  if (v && v.email) return v.email;
  return t('visAnonymous', { id: v ? v.visitor_id || v.id || '?' : '?' });
}

/** The host of an http(s) URL ("google.com" for www.google.com), or '' (no referrer, another scheme, not a URL). */
export function hostOf(url) {
  if (typeof url !== 'string' || !url) return '';
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host.replace(/^www\./, '') : '';
  } catch {
    return '';
  }
}

/** A URL without its scheme, for showing ("shop.example/cart?x=1"). */
export function shortUrl(url) {
  return String(url || '').replace(/^https?:\/\//i, '');
}

/** A number in the console's language: "1,234" or "1,234". */
export function fmtNum(n) {
  try {
    return new Intl.NumberFormat(lang()).format(n);
  } catch {
    return String(n);
  }
}

/** A share as a percentage in the console's language ("42%"). */
export function fmtPct(part, whole) {
  if (!whole) return '';
  try {
    return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 0 }).format(part / whole);
  } catch {
    return `${Math.round((part / whole) * 100)}%`;
  }
}

/** A time span: "45 s", "12 min", "1 h 5 min" (Intl units in the console's language). */
export function fmtSpan(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const unit = (value, u) => {
    try {
      return new Intl.NumberFormat(lang(), { style: 'unit', unit: u, unitDisplay: 'short' }).format(value);
    } catch {
      return `${value} ${u[0]}`;
    }
  };
  if (s < 60) return unit(s, 'second');
  const m = Math.floor(s / 60);
  if (m < 60) return unit(m, 'minute');
  const h = Math.floor(m / 60);
  return m % 60 ? `${unit(h, 'hour')} ${unit(m % 60, 'minute')}` : unit(h, 'hour');
}

/** A live "mm:ss" / "h:mm:ss" counter. */
export function fmtCounter(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** "Tue 14:05" at the visitor's place (their IANA zone), or '' when the zone is unknown. */
export function localTime(zone, now = Date.now()) {
  if (!zone) return '';
  try {
    return new Intl.DateTimeFormat(lang(), { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(now));
  } catch {
    return '';
  }
}

/** "3 Dec, 09:14" in the console's language (with the year when it is not this one). */
export function fmtWhen(iso, now = Date.now()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const year = d.getFullYear() !== new Date(now).getFullYear() ? { year: 'numeric' } : {};
  return new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'short', ...year, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

const DEVICE_WORD = { desktop: 'devDesktop', mobile: 'devMobile', tablet: 'devTablet', bot: 'devBot' };

/** The device's kind in words ("Mobile"), or ''. */
export function deviceWord(kind) {
  return DEVICE_WORD[kind] ? t(DEVICE_WORD[kind]) : '';
}

/** "Chrome 120", "Windows 10" from a Device. */
export function browserText(d) {
  if (!d || !d.browser) return '';
  return d.browser_version ? `${d.browser} ${String(d.browser_version).split('.')[0]}` : d.browser;
}
export function osText(d) {
  if (!d || !d.os) return '';
  return d.os_version ? `${d.os} ${d.os_version}` : d.os;
}

/** "de-DE" as "German (Germany)" in the console's language, with the tag. */
export function languageText(tag) {
  if (!tag) return '';
  try {
    const name = new Intl.DisplayNames([lang()], { type: 'language' }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

/** "New visitor" or "Returning · 5 visits · 3 past conversations". */
export function returningText(visits, pastConversations) {
  if (!visits || visits <= 1) return t('visNewVisitor');
  const v = visits === 1 ? t('visVisits1') : t('visVisitsN', { n: fmtNum(visits) });
  const p = pastConversations === 1 ? t('visPastConvs1') : pastConversations > 1 ? t('visPastConvsN', { n: fmtNum(pastConversations) }) : t('visPastConvs0');
  return t('visReturningLine', { visits: v, convs: p });
}

/** The refusal of POST /api/visitors/{id}/invitations in words. */
export function inviteProblemText(e) {
  if (!e || typeof e !== 'object') return t('invErrOther', { detail: String(e) });
  if (e.status === 0) return t('networkError');
  if (e.slug === 'visitor_offline') return t('invErrOffline');
  if (e.slug === 'visitor_chatting') return t('invErrChatting');
  if (e.slug === 'invitation_pending') return t('invErrPending');
  if (e.status === 404) return t('invErrNotFound');
  if (e.status === 429) return t('invErrRate');
  return t('invErrOther', { detail: e.text || e.message });
}

// ----------------------------------------------------- automatic invitation rules

export const RULE_BOUNDS = { name: 100, message: 1000, sender: 100, text: 500, countries: 50, seconds: 86400, visits: 1000 };

/** The conditions as the editor's text fields. */
export function ruleToDraft(rule) {
  const c = (rule && rule.conditions) || {};
  const str = (x) => (x === undefined || x === null ? '' : String(x));
  return {
    name: (rule && rule.name) || '',
    site_id: rule && rule.site_id ? String(rule.site_id) : '',
    message: (rule && rule.message) || '',
    sender_name: (rule && rule.sender_name) || '',
    enabled: rule ? rule.enabled !== false : true,
    time_on_page_seconds: str(c.time_on_page_seconds),
    url_contains: str(c.url_contains),
    min_visits: str(c.min_visits),
    countries: Array.isArray(c.countries) ? c.countries.join(', ') : '',
    referrer_contains: str(c.referrer_contains),
  };
}

/** The country codes typed ("de, AT;ch") as a list, upper case. */
export function parseCountries(text) {
  return String(text || '')
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

/**
 * The editor's draft as the body of POST/PATCH (was: the rule being edited):
 * empty conditions left out; numbers as typed when they are not numbers
 * (the server names them).
 */
export function draftToRule(d, was = null) {
  const num = (s) => (/^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());
  const conditions = {};
  if (d.time_on_page_seconds.trim() !== '') conditions.time_on_page_seconds = num(d.time_on_page_seconds);
  if (d.url_contains !== '') conditions.url_contains = d.url_contains;
  if (d.min_visits.trim() !== '') conditions.min_visits = num(d.min_visits);
  const countries = parseCountries(d.countries);
  if (countries.length) conditions.countries = countries;
  if (d.referrer_contains !== '') conditions.referrer_contains = d.referrer_contains;
  const rule = {
    name: d.name,
    site_id: Number(d.site_id) || null,
    message: d.message,
    enabled: !!d.enabled,
    conditions,
  };
  // An empty sender name means the site's name: left out rather than sent
  // as "" (which the server's name check refuses), unless one is cleared.
  if (d.sender_name.trim() || (was && was.sender_name)) rule.sender_name = d.sender_name.trim();
  return rule;
}

/** The editor's own check (what the server would refuse anyway): {field: message}. */
export function checkRuleDraft(d) {
  const errors = {};
  const bad = parseCountries(d.countries).filter((c) => !ISO2.test(c));
  if (bad.length) errors.countries = t('inrErrCountryBad', { list: bad.join(', ') });
  return errors;
}

// The server's field names (conditions.countries[3], conditions.min_visits …)
// to the editor's field and its sentence.
const FIELD_WORDS = {
  name: 'inrErrName',
  site_id: 'inrErrSite',
  message: 'inrErrMessage',
  sender_name: 'inrErrSender',
  time_on_page_seconds: 'inrErrTime',
  url_contains: 'inrErrUrl',
  min_visits: 'inrErrVisits',
  countries: 'inrErrCountries',
  referrer_contains: 'inrErrReferrer',
};

/** The editor field a server path names: "conditions.countries[2]" → "countries". */
export function ruleFieldOf(path) {
  const m = /^(?:conditions\.)?([a-z_]+)/.exec(String(path || ''));
  return m && FIELD_WORDS[m[1]] ? m[1] : null;
}

/** A refusal of the rules API as {fields: {field: sentence}, error: sentence | null}. */
export function explainRuleProblem(e) {
  const fields = {};
  const rest = [];
  for (const [path, message] of Object.entries((e && e.fields) || {})) {
    const f = ruleFieldOf(path);
    if (f) fields[f] = t(FIELD_WORDS[f]);
    else rest.push(`${path}: ${message}`);
  }
  if (Object.keys(fields).length && !rest.length) return { fields, error: t('inrFix') };
  if (rest.length) return { fields, error: t('inrErrOther', { detail: rest.join('; ') }) };
  return { fields, error: ruleProblemText(e) };
}

export function ruleProblemText(e) {
  if (!e || typeof e !== 'object') return t('inrErrOther', { detail: String(e) });
  if (e.status === 0) return t('networkError');
  if (e.status === 403) return t('inrErrForbidden');
  if (e.status === 404) return t('inrErrNotFound');
  if (e.status === 409 || /limit/.test(e.slug || ''))
    return /limit|too_many/.test(`${e.slug} ${e.message}`) ? t('inrErrLimit') : t('inrErrOther', { detail: e.text });
  return t('inrErrOther', { detail: e.text || e.message });
}

/** "on a page for 30 s · URL contains “/pricing” · from DE, AT" — or "Any visitor on the site". */
export function conditionsSummary(c) {
  const parts = [];
  if (!c) return t('inrAnyVisitor');
  if (c.time_on_page_seconds) parts.push(t('inrCondTime', { n: fmtNum(c.time_on_page_seconds) }));
  if (c.url_contains) parts.push(t('inrCondUrl', { s: isolate(c.url_contains) }));
  if (c.min_visits && c.min_visits > 1) parts.push(t('inrCondVisits', { n: fmtNum(c.min_visits) }));
  if (Array.isArray(c.countries) && c.countries.length) parts.push(t('inrCondCountries', { list: c.countries.join(', ') }));
  if (c.referrer_contains) parts.push(t('inrCondReferrer', { s: isolate(c.referrer_contains) }));
  if (!parts.length) return t('inrAnyVisitor');
  const text = parts.join(t('inrAnd'));
  return text[0].toUpperCase() + text.slice(1);
}
