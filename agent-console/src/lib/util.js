// Small helpers of the console: user-agent parsing, initials and avatar
// colours, visitor names, wording, the clipboard. Time formatting and links
// in messages are shared with the widget (ui-shared/time.js, linkify.js).

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
