// bots: what the console's bot pages and its agent views need besides
// components. A bot's state in words (its endpoint on or off, and why), the
// server's refusals of a bot turned into translated sentences (per field
// and per page), its timeout in words, and who wrote a message (an agent, a
// visitor, an integration's token, a bot) as the thread and the lists show it.

import { isolate } from '../../../ui-shared/bidi.js';
import { ApiError } from './api.js';
import { t } from './i18n.js';
import { fieldErrors, fmtUnit, problemText as hookProblem } from './webhooks.js';

export const TIMEOUT_MIN = 5;
export const TIMEOUT_MAX = 86400;
export const TIMEOUT_DEFAULT = 60;

/**
 * A bot's state: {key, pill, label}. key: enabled | admin | gone | failing
 * (its endpoint switched off: by an admin, by a 410, after failing for
 * days) | detached (its endpoint was deleted on the Webhooks page).
 */
export function botState(bot) {
  if (!bot.endpoint_id) return { key: 'detached', pill: 'bad', label: t('botStateDetached') };
  if (bot.enabled) return { key: 'enabled', pill: 'ok', label: t('botStateEnabled') };
  if (bot.disabled_reason === 'gone') return { key: 'gone', pill: 'bad', label: t('botStateGone') };
  if (bot.disabled_reason === 'failing') return { key: 'failing', pill: 'bad', label: t('botStateFailing') };
  return { key: 'admin', pill: 'off', label: t('botStateAdmin') };
}

/** "60 seconds", "2 minutes", "1 hour": a timeout in its largest whole unit. */
export function fmtTimeout(seconds) {
  const s = Number(seconds) || 0;
  if (s >= 3600 && s % 3600 === 0) return fmtUnit(s / 3600, 'hour');
  if (s >= 60 && s % 60 === 0) return fmtUnit(s / 60, 'minute');
  return fmtUnit(s, 'second');
}

/** The timeout field as the form checks it: a message, or null. */
export function checkTimeout(text) {
  const n = Number(String(text).trim());
  if (!String(text).trim() || !Number.isInteger(n) || n < TIMEOUT_MIN || n > TIMEOUT_MAX) return t('botTimeoutRange', { min: TIMEOUT_MIN, max: TIMEOUT_MAX });
  return null;
}

/** A refusal that no field carries, as one translated sentence. */
export function botProblemText(e) {
  if (e instanceof ApiError) {
    if (e.status === 404) return t('botErrNotFound');
    if (e.status === 403 && e.slug !== 'csrf_failed') return t('botErrForbidden');
    if (e.status === 409 && e.slug === 'limit_reached') return t('botErrLimit');
  }
  return hookProblem(e);
}

/**
 * For useForm: the fields' messages (the webhook pages' words for the URL,
 * which the same guard checks) and the page's sentence. A name another bot
 * has is the name field's message.
 */
export function explainBotProblem(e) {
  if (e instanceof ApiError && e.status === 409 && e.slug !== 'limit_reached') return { fields: { name: t('botNameTaken') }, error: null };
  const fields = fieldErrors(e);
  if (fields.timeout_seconds) fields.timeout_seconds = t('botTimeoutRange', { min: TIMEOUT_MIN, max: TIMEOUT_MAX });
  if (fields.site_ids) fields.site_ids = t('botSitesGone');
  if (fields.team_ids) fields.team_ids = t('botTeamsGone');
  return { fields, error: Object.keys(fields).length ? null : botProblemText(e) };
}

// -------------------------------------------------------------------- authors

/**
 * Who wrote a message, as the agent views show it: {kind, name, side, badge}.
 * side: 'them' for the visitor, 'us' for everyone answering (agents, an
 * integration's token, a bot). badge: the small label after the name (a
 * bot's). An integration's messages keep reading "API".
 */
export function authorOf(m, meId) {
  const a = (m && m.author) || {};
  switch (a.kind) {
    case 'visitor':
      return { kind: 'visitor', name: a.name || t('theVisitor'), side: 'them', badge: null };
    case 'agent':
      return { kind: 'agent', name: a.id === meId ? 'You' : a.name || 'Agent', side: 'us', badge: null };
    case 'api':
      return { kind: 'api', name: 'API', side: 'us', badge: null };
    case 'bot':
      return { kind: 'bot', name: a.name || t('aBot'), side: 'us', badge: t('botBadge') };
    default:
      return { kind: a.kind || 'system', name: 'System', side: 'us', badge: null };
  }
}

/** A bot's internal note: the summary it handed the conversation over with. */
export const isHandoffNote = (m) => !!m && m.kind === 'note' && !!m.author && m.author.kind === 'bot';

/**
 * A handoff note's text: the bot's own summary as written, or, for the notes
 * the server writes when it hands off by itself (meta.handoff: timeout,
 * bot_off, bot_removed), the reason in the console's language.
 */
export function handoffText(m) {
  const why = m.meta && m.meta.handoff;
  if (why === 'timeout') return t('handoffTimeout', { n: Number(m.meta.seconds) || 0 });
  if (why === 'bot_off') return t('handoffBotOff');
  if (why === 'bot_removed') return t('handoffBotRemoved');
  return m.body;
}

/** A conversation's status as the pills show it: the server's word, "bot" in the console's language. */
const STATUS_WORDS = { bot: 'botStatus', queued: 'statusQueued', assigned: 'statusAssigned', closed: 'statusClosed' };
export const statusText = (status) => (STATUS_WORDS[status] ? t(STATUS_WORDS[status]) : status);

/**
 * A conversation with a bot (c.bot), in words: "handled first by bot Sunny",
 * or "bot Sunny is answering" while it does; start: the form that starts a
 * line ("Handled first by bot Sunny").
 */
export function botSentence(c, { start = false } = {}) {
  const key = c.status === 'bot' ? 'botHandlesNow' : 'botHandledFirst';
  return t(start ? `${key}Line` : key, { name: isolate(c.bot ? c.bot.name : '') });
}
