// state: the console's one state object S, which the components read, and
// the change signal: every change calls changed(), which re-renders the app
// once per tick. Each field of S is written by one module (named beside it);
// the others only read it.
//
// Also here, because every module needs them: the roles of the agent
// signed in, and the per-agent part of localStorage.

export const S = {
  // session.js
  phase: 'boot', // boot | login | app
  loginNotice: null,
  me: null, // also updated by events.js (the socket's auth) and workspace.js (own row)
  csrf: null,
  // socket.js, events.js
  conn: { state: 'idle', attempt: 0, retryAt: 0 },
  everOpen: false,
  listed: false, // the socket's conversation list has arrived
  myTeams: [],
  // workspace.js
  status: 'offline',
  agents: new Map(),
  teams: [],
  canned: [],
  // conversations.js
  convs: new Map(),
  details: new Map(), // id -> {earlier, loading, error}
  missing: new Set(), // conversations the server would not show
  closed: { q: '', items: [], next: null, loading: false, error: null, loaded: false },
  // messages.js
  msgs: new Map(), // id -> { bySeq: Map, list: [], contig: 0, loading, error, rev }
  drafts: new Map(), // id -> {text, note}
  seen: new Set(), // queued conversations opened at least once
  // files.js
  uploads: new Map(), // id -> [{key, name, size, state: uploading | done | failed, sent, total, error, file, ...}]
  convFiles: new Map(), // id -> {files, loading, error}
  // reading.js
  typing: new Map(), // id -> until (ms)
  localRead: new Map(), // id -> seq seen here
  // notify.js
  notify: { sound: true, permission: typeof Notification === 'undefined' ? 'unsupported' : Notification.permission },
  // webhooks.js
  hookAlerts: [], // endpoints the server disabled: [{id, url, reason, disabled_at, failing_since}]
  hookHidden: null, // the alerts the inbox's notice was hidden for
  // participants.js
  viewers: new Map(), // id -> [{id, name, typing, note, until}] (the others with it open)
  labels: [], // the workspace's labels [{id, name, colour}]
  listFilter: { priority: null, label: null, country: null },
  // visitors.js
  online: { rows: null, total: 0, now: null, receivedAt: 0, error: null, sites: new Map(), countries: new Set() },
  onlineFilter: { site: '', country: '', chatting: '', returning: '', q: '' },
  visitorCtx: new Map(), // visitor id -> {data, loading, error, at}
  geo: null, // GET /api/geo once read: {attribution, database}
  // reports.js
  reportQuery: null, // {preset, from, to, tz, team, agent, site, label}
  report: { loading: false, error: null }, // + summary, timeseries, agents, heatmap, activity, query
  reportSites: null, // [{id, name}] once read ([] when not allowed)
  reportDrill: null, // {title, params, outcome, rating, query, rows, next, loading, error}
  // calls.js
  calls: new Map(), // call id -> call object (live: ringing or active) from call.updated and acks
  myCall: null, // the call this tab is an end of: {id, conversation_id, media, phase, local, remote, streams, stats, ...}
  siteCalls: new Map(), // site id -> 'off' | 'agent' | 'visitor' (what is known of widget_settings.calls)
  // view.js
  view: { area: 'inbox', list: 'mine', selected: null, admin: 'agents', item: null },
  toasts: [],
  help: false,
  dialog: null, // {type: 'transfer', id} | {type: 'confirm', ...}
  focus: { composer: 0, note: false, canned: false },
};

const listeners = new Set();

let scheduled = false;

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const fn of listeners) fn();
  });
}

// ----------------------------------------------------------------------- roles

export const isPrivileged = () => !!S.me && S.me.role !== 'agent';

export const isAdmin = () => !!S.me && S.me.role === 'admin';

// --------------------------------------------------------------------- storage

/** localStorage, per agent ("parley:<what>:<agent id>"); memory only when it is unavailable. */
export const saved = {
  key: (what) => `parley:${what}:${S.me ? S.me.id : 0}`,
  load(what) {
    try {
      return JSON.parse(localStorage.getItem(this.key(what)) || 'null');
    } catch {
      return null;
    }
  },
  save(what, value) {
    try {
      if (value == null) localStorage.removeItem(this.key(what));
      else localStorage.setItem(this.key(what), JSON.stringify(value));
    } catch {
      /* storage full or disabled: memory only */
    }
  },
};
