// webhooks: what the console's webhook pages need besides components. The
// event catalogue (the contract's nine types, in its order, with their
// translated labels), an endpoint's state in words, the server's refusals
// turned into translated sentences (per field and per page), and times in
// the console's language.

import { ts } from '../../../ui-shared/time.js';
import { ApiError } from './api.js';
import { lang, t } from './i18n.js';

/** The event types an endpoint may subscribe to, grouped as the create form shows them. */
export const EVENT_GROUPS = [
  [
    'whGroupConversations',
    [
      'conversation.created',
      'conversation.queued',
      'conversation.assigned',
      'conversation.transferred',
      'conversation.closed',
      'conversation.reopened',
      'conversation.rated',
      'conversation.sla_breached',
    ],
  ],
  ['whGroupMessages', ['message.created']],
  ['whGroupVisitors', ['visitor.updated']],
  ['whGroupCalls', ['call.ringing', 'call.accepted', 'call.ended']],
];

export const EVENT_TYPES = EVENT_GROUPS.flatMap(([, types]) => types);

const EVENT_LABELS = {
  'conversation.created': 'whEvConversationCreated',
  'conversation.queued': 'whEvConversationQueued',
  'conversation.assigned': 'whEvConversationAssigned',
  'conversation.transferred': 'whEvConversationTransferred',
  'conversation.closed': 'whEvConversationClosed',
  'conversation.reopened': 'whEvConversationReopened',
  'conversation.rated': 'whEvConversationRated',
  'conversation.sla_breached': 'whEvConversationSlaBreached',
  'message.created': 'whEvMessageCreated',
  'visitor.updated': 'whEvVisitorUpdated',
  'call.ringing': 'whEvCallRinging',
  'call.accepted': 'whEvCallAccepted',
  'call.ended': 'whEvCallEnded',
  'webhook.test': 'whEvWebhookTest',
};

/** "New message" for message.created; an unknown type as it is. */
export function eventLabel(type) {
  return EVENT_LABELS[type] ? t(EVENT_LABELS[type]) : String(type);
}

/** The types in the catalogue's order (what the form sends). */
export const orderEvents = (list) => EVENT_TYPES.filter((x) => list.includes(x));

/**
 * An endpoint's state: {key, pill, label, reason}. key: enabled | failing
 * (enabled, but nothing delivered since failing_since) | admin | gone |
 * failing_disabled.
 */
export function endpointState(ep) {
  if (ep.enabled && !ep.disabled_reason) {
    return ep.failing_since ? { key: 'failing', pill: 'warn', label: t('whStateFailingNow') } : { key: 'enabled', pill: 'ok', label: t('whStateEnabled') };
  }
  if (ep.disabled_reason === 'gone') return { key: 'gone', pill: 'bad', label: t('whStateGone') };
  if (ep.disabled_reason === 'failing') {
    const span = ts(ep.disabled_at) - ts(ep.failing_since);
    const label = ts(ep.failing_since) && span > 0 ? t('whStateFailingFor', { span: fmtLength(span) }) : t('whStateFailing');
    return { key: 'failing_disabled', pill: 'bad', label };
  }
  return { key: 'admin', pill: 'off', label: t('whStateAdmin') };
}

/** Endpoints the server switched off itself: the admins' notice names them. */
export const serverDisabled = (ep) => !ep.enabled && (ep.disabled_reason === 'gone' || ep.disabled_reason === 'failing');

/** A delivery's status in words (pending, delivered, failed, cancelled). */
export function deliveryStatus(status) {
  const key = { pending: 'whDlvPending', delivered: 'whDlvDelivered', failed: 'whDlvFailed', cancelled: 'whDlvCancelled' }[status];
  return key ? t(key) : String(status || '');
}

/**
 * A delivery's or attempt's error in words (docs/webhooks.md, last_error):
 * status (another HTTP status: the code says it, so no words), redirect,
 * timeout, dns, connect, tls, response_too_large, network, secret_unreadable,
 * "refused_address (<class>)"; no_response: a last attempt without an
 * answer, reason unknown here. Anything else as the server wrote it.
 */
export function deliveryError(error) {
  if (!error || error === 'status') return '';
  const refused = /^refused_address(?: \(([a-z0-9-]+)\))?$/.exec(error);
  if (refused) return refused[1] ? t('whNetRefusedClass', { what: t(ADDRESS_CLASSES[refused[1]] || 'whAddrReserved') }) : t('whNetRefusedAddress');
  const key = {
    timeout: 'whNetTimeout',
    connect: 'whNetConnect',
    redirect: 'whNetRedirect',
    dns: 'whNetDns',
    tls: 'whNetTls',
    response_too_large: 'whNetTooLarge',
    network: 'whNetNetwork',
    secret_unreadable: 'whNetSecret',
    no_response: 'whNetNoResponse',
  }[error];
  return key ? t(key) : String(error);
}

// ------------------------------------------------------------------- refusals

// The SSRF guard's classes of address (core/netguard), as the server names
// them in its refusal of a url: "points to a <class> address, which ...".
const ADDRESS_CLASSES = {
  loopback: 'whAddrLoopback',
  private: 'whAddrPrivate',
  'unique-local': 'whAddrPrivate',
  cgnat: 'whAddrPrivate',
  'link-local': 'whAddrLinkLocal',
  metadata: 'whAddrMetadata',
  'ipv4-mapped': 'whAddrMapped',
  multicast: 'whAddrReserved',
  broadcast: 'whAddrReserved',
  unspecified: 'whAddrReserved',
  reserved: 'whAddrReserved',
};

// The server's refusals of a url (chat/webhooks.c, webhooks_url_refusal),
// recognised by their wording; anything else is shown as the server wrote it.
const URL_REFUSALS = [
  [/at most 2048/, 'whUrlShape'],
  [/spaces or characters outside ascii/, 'whUrlAscii'],
  [/not a valid url/, 'whUrlInvalid'],
  [/plain http/, 'whUrlHttpsOnly'],
  [/must start with https/, 'whUrlScheme'],
  [/user name or password/, 'whUrlCredentials'],
  [/unusual form/, 'whUrlOddSpelling'],
  [/host name that is not valid/, 'whUrlBadHost'],
];

/** The url field's refusal in words. */
function urlRefusal(message) {
  const m = String(message || '').toLowerCase();
  const addr = /points to an? ([a-z0-9-]+) address/.exec(m);
  if (addr) return t('whUrlInternal', { what: t(ADDRESS_CLASSES[addr[1]] || 'whAddrReserved') });
  for (const [re, key] of URL_REFUSALS) if (re.test(m)) return t(key);
  return t('whFieldRefused', { detail: message });
}

/** The server's per-field messages, translated where we know what they say. */
export function fieldErrors(e) {
  const out = {};
  for (const [field, message] of Object.entries(e.fields || {})) {
    if (field === 'url') out.url = urlRefusal(message);
    else if (field === 'events') out.events = t('whEventsNone');
    else if (/at most (\d+)/.test(message)) out[field] = t('whTooLong', { max: /at most (\d+)/.exec(message)[1] });
    else out[field] = t('whFieldRefused', { detail: message });
  }
  return out;
}

/** A refusal that no field carries, as one translated sentence. */
export function problemText(e) {
  if (!(e instanceof ApiError)) return t('whErrOther', { detail: String((e && e.message) || e) });
  if (e.status === 0) return t('networkError');
  if (e.status === 403) return e.slug === 'csrf_failed' ? t('whErrCsrf') : t('whErrForbidden');
  if (e.status === 404) return t('whErrNotFound');
  if (e.status === 409) return t('whErrConflict', { detail: e.message });
  if (e.status === 429) return t('whErrRateLimited');
  if (e.status === 503) return t('whErrUnavailable');
  if (e.status === 400) return t('whErrInvalid', { detail: e.message });
  return t('whErrOther', { detail: e.message });
}

/** For useForm: the fields' messages and the page's sentence (none when a field says it). */
export function explainProblem(e) {
  const fields = fieldErrors(e);
  return { fields, error: Object.keys(fields).length ? null : problemText(e) };
}

/** The url as the form checks it before asking the server: a message, or null. */
export function checkUrl(url) {
  if (!url) return t('whUrlMissing');
  if (url.length > 2048) return t('whUrlTooLong');
  if (!/^https?:\/\/[^\s/?#]+/i.test(url) || /\s/.test(url)) return t('whUrlScheme');
  if (/^https?:\/\/[^/?#]*@/i.test(url)) return t('whUrlCredentials');
  return null;
}

// ---------------------------------------------------------------------- times

const formats = new Map();
function format(key, make) {
  const k = `${lang()}|${key}`;
  if (!formats.has(k)) formats.set(k, make(lang()));
  return formats.get(k);
}

/** "2 Dec 2026, 18:30:52" (the year only when not this one), in the console's language. */
export function fmtWhen(iso) {
  const ms = ts(iso);
  if (!ms) return '';
  const d = new Date(ms);
  const thisYear = d.getFullYear() === new Date().getFullYear();
  return format(
    thisYear ? 'when' : 'when-y',
    (l) =>
      new Intl.DateTimeFormat(l, {
        year: thisYear ? undefined : 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }),
  ).format(d);
}

/** "5 min ago", "in 30 sec", "now": relative to now, in the console's language. */
export function fmtAgo(iso, now = Date.now()) {
  const ms = ts(iso);
  if (!ms) return '';
  const s = Math.round((ms - now) / 1000);
  const abs = Math.abs(s);
  const rtf = format('ago', (l) => new Intl.RelativeTimeFormat(l, { numeric: 'auto', style: 'short' }));
  if (abs < 5) return rtf.format(0, 'second');
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

/** "24 hours", "7 days": n units (day, hour, minute) in words, one unbreakable phrase. */
export function fmtUnit(n, unit) {
  return format(`unit-${unit}`, (l) => new Intl.NumberFormat(l, { style: 'unit', unit, unitDisplay: 'long' }))
    .format(n)
    .replace(/ /g, '\u00a0');
}

/** "5 days", "3 hours", "10 minutes": a length of time (ms), rounded to its largest unit. */
export function fmtLength(ms) {
  const s = Math.max(60, Math.round(ms / 1000));
  const unit = s >= 86400 ? 'day' : s >= 3600 ? 'hour' : 'minute';
  return fmtUnit(Math.round(s / { day: 86400, hour: 3600, minute: 60 }[unit]), unit);
}
