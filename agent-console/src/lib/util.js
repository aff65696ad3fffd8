// Small helpers: time formatting, user-agent parsing, safe links.
// Everything visitor-supplied is rendered as text by Preact; the only
// place text becomes an element is linkify(), which yields http(s) URLs
// that the caller renders as <a rel="noopener noreferrer">.

export const pad2 = (n) => String(n).padStart(2, '0');

/** Milliseconds of an ISO 8601 time. The server sends milliseconds or
 * microseconds; fractions are cut to milliseconds, which every browser parses. */
export function ts(iso) {
  if (typeof iso !== 'string' || !iso) return 0;
  const t = Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : t;
}

export function fmtTime(iso) {
  const t = ts(iso);
  if (!t) return '';
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const DAY = 86400000;
function startOfDay(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function fmtDay(iso, now = Date.now()) {
  const t = ts(iso);
  if (!t) return '';
  const diff = Math.round((startOfDay(now) - startOfDay(t)) / DAY);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  const d = new Date(t);
  return d.toLocaleDateString(undefined, {
    weekday: diff < 7 ? 'long' : undefined,
    day: 'numeric',
    month: 'short',
    year: d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric',
  });
}

export function fmtDateTime(iso) {
  const t = ts(iso);
  if (!t) return '';
  return `${new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })} ${fmtTime(iso)}`;
}

/** "42s", "3m 05s", "1h 12m", "2d 3h" */
export function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
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

/** Browser and operating system from a User-Agent string (best effort). */
export function parseUA(ua) {
  if (typeof ua !== 'string' || !ua) return { browser: '', os: '' };
  let browser = '';
  let m;
  const ver = (re) => {
    const r = re.exec(ua);
    return r ? r[1].split('.')[0] : '';
  };
  if ((m = /Edg(?:e|A|iOS)?\/([\d.]+)/.exec(ua))) browser = `Edge ${m[1].split('.')[0]}`;
  else if ((m = /OPR\/([\d.]+)/.exec(ua))) browser = `Opera ${m[1].split('.')[0]}`;
  else if ((m = /SamsungBrowser\/([\d.]+)/.exec(ua))) browser = `Samsung Internet ${m[1].split('.')[0]}`;
  else if ((m = /(?:Firefox|FxiOS)\/([\d.]+)/.exec(ua))) browser = `Firefox ${m[1].split('.')[0]}`;
  else if ((m = /CriOS\/([\d.]+)/.exec(ua))) browser = `Chrome ${m[1].split('.')[0]}`;
  else if ((m = /(?:HeadlessChrome|Chromium|Chrome)\/([\d.]+)/.exec(ua)))
    browser = `${/Headless/.test(ua) ? 'Headless Chrome' : 'Chrome'} ${m[1].split('.')[0]}`;
  else if (/Safari\//.test(ua) && /Version\//.test(ua)) browser = `Safari ${ver(/Version\/([\d.]+)/)}`;
  else if ((m = /(?:MSIE |Trident\/.*rv:)([\d.]+)/.exec(ua))) browser = `Internet Explorer ${m[1].split('.')[0]}`;
  else if ((m = /^([A-Za-z][\w-]{1,30})\/([\d.]+)/.exec(ua))) browser = `${m[1]} ${m[2].split('.')[0]}`;

  let os = '';
  if ((m = /Windows NT ([\d.]+)/.exec(ua))) {
    const map = { '10.0': '10/11', 6.3: '8.1', 6.2: '8', 6.1: '7' };
    os = `Windows ${map[m[1]] || m[1]}`;
  } else if ((m = /(?:iPhone|iPad|iPod).*? OS ([\d_]+)/.exec(ua))) os = `iOS ${m[1].split('_').slice(0, 2).join('.')}`;
  else if ((m = /Android ([\d.]+)/.exec(ua))) os = `Android ${m[1]}`;
  else if ((m = /Mac OS X ([\d_.]+)/.exec(ua))) os = `macOS ${m[1].replace(/_/g, '.').split('.').slice(0, 2).join('.')}`;
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  const mobile = /Mobi|iPhone|Android.*Mobile/.test(ua);
  return { browser, os, mobile };
}

/** The URL as a string if it is an absolute http(s) URL, else null. */
export function httpUrl(s) {
  if (typeof s !== 'string' || !/^https?:\/\//i.test(s)) return null;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Splits text into strings and {url} parts; only http(s) URLs become parts. */
export function linkify(text) {
  const out = [];
  let last = 0;
  String(text).replace(URL_RE, (match, offset) => {
    // Trailing punctuation is usually not part of the link.
    let url = match.replace(/[.,;:!?)\]}]+$/, '');
    const safe = httpUrl(url);
    if (!safe) return match;
    if (offset > last) out.push(text.slice(last, offset));
    out.push({ url, href: safe });
    last = offset + url.length;
    return match;
  });
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function initials(name) {
  const words = String(name || '?')
    .trim()
    .split(/[\s@._-]+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+/u, ''))
    .filter(Boolean);
  if (!words.length) return '?';
  const first = [...words[0]];
  if (words.length === 1) return first.slice(0, 2).join('').toUpperCase();
  return (first[0] + [...words[words.length - 1]][0]).toUpperCase();
}

export function hue(seed) {
  // FNV-1a, spread around the colour wheel by the golden angle.
  let h = 0x811c9dc5;
  for (const c of String(seed)) {
    h ^= c.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Math.round((h % 1000) * 137.508) % 360;
}

export function visitorName(conv) {
  const v = conv && conv.visitor;
  if (v && v.name) return v.name;
  if (v && v.email) return v.email;
  return `Visitor #${v && v.id ? v.id : conv ? conv.id : '?'}`;
}

export function uid() {
  const a = new Uint8Array(9);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(36).padStart(2, '0')).join('');
}

export function humanize(key) {
  const s = String(key).replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : String(key);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Copies text to the clipboard; falls back to a hidden textarea. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through */
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  let ok;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}
