// reports: the Reports section (#/reports, docs/reports.md). The period,
// zone and filters the agent picked (S.reportQuery, kept per agent in
// localStorage; a preset period is worked out again from today at each
// read), the five answers of GET /api/reports/{summary, timeseries, agents,
// heatmap, activity} read together for that query (S.report; an answer to
// an older query than the latest is dropped), the sites the filter offers
// (S.reportSites: GET /api/sites, which only admins may read) and the
// drill-down: the conversations behind one number, paged with the server's
// cursor (S.reportDrill). A node computes two reports at once and queues
// the rest a while (429 with Retry-After when it cannot): the parts are
// asked together and a refusal is asked again after its pause. An agent's
// reports are their own: the server
// forces agent_id, and no agent filter is sent.
// Owns S.reportQuery, S.report, S.reportSites, S.reportDrill.

import { get } from '../lib/api.js';
import { browserZone, intervalFor, presetRange, rangeValid } from '../lib/reports.js';
import { S, changed, isPrivileged, saved } from './state.js';
import { navigate } from './view.js';
import { openVisitorConv } from './visitors.js';

const FILTERS = [
  ['team', 'team_id'],
  ['agent', 'agent_id'],
  ['site', 'site_id'],
  ['label', 'label_id'],
];

const DRILL_PAGE = 50;

export function defaultQuery() {
  const tz = browserZone();
  return { preset: '7d', ...presetRange('7d', tz), tz, team: '', agent: '', site: '', label: '' };
}

/** The query's dates: a preset's from today, a custom one's as typed. */
function withDates(q) {
  const r = q.preset === 'custom' ? null : presetRange(q.preset, q.tz);
  return r ? { ...q, ...r } : q;
}

/** The report's parameters (from, to, tz and the filters set), over `more`. */
export function reportParams(q = S.reportQuery, more = {}) {
  const p = new URLSearchParams({ from: q.from, to: q.to, tz: q.tz });
  for (const [k, name] of FILTERS) if (q[k] && (k !== 'agent' || isPrivileged())) p.set(name, q[k]);
  for (const [k, v] of Object.entries(more)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  return p;
}

/** The CSV of the report's conversations: a plain GET with the session cookie. */
export const exportHref = () => `/api/reports/export?${reportParams()}`;

// A node queues the reports it cannot compute at once (api_reports.c) and
// answers 429 (Retry-After) only when its queue is full or the wait too
// long: the page asks again after the pause the server names, while the
// answer is still wanted.
const TRIES = 8;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET path; a 429 is tried again after its Retry-After while wanted() holds. */
async function reportGet(path, wanted) {
  for (let i = 1; ; i++) {
    try {
      return await get(path);
    } catch (e) {
      if (e.status !== 429 || i >= TRIES || !wanted()) throw e;
      await pause((e.retryAfter || 1) * 1000 * (0.75 + Math.random() / 2));
    }
  }
}

let asked = 0;

/** Reads the five parts of the report for the current query. */
export async function loadReport() {
  const q = S.reportQuery;
  if (!rangeValid(q.from, q.to)) return;
  const mine = ++asked;
  const p = reportParams(q);
  const interval = intervalFor(q.from, q.to);
  S.report = { ...S.report, loading: true, error: null };
  changed();
  try {
    const [summary, timeseries, agents, heatmap, activity] = await Promise.all(
      [`summary?${p}`, `timeseries?${p}&interval=${interval}`, `agents?${p}`, `heatmap?${p}`, `activity?${p}`].map((x) =>
        reportGet(`/api/reports/${x}`, () => mine === asked),
      ),
    );
    if (mine !== asked) return;
    S.report = { summary, timeseries, agents, heatmap, activity, query: q, loading: false, error: null };
  } catch (e) {
    if (mine !== asked) return;
    S.report = { ...S.report, loading: false, error: e.text || e.message };
  }
  changed();
}

/** Changes the period, zone or filters (kept for next time) and reads the report again. */
export function setReportQuery(patch) {
  const q = withDates({ ...S.reportQuery, ...patch });
  S.reportQuery = q;
  saved.save('reports', { preset: q.preset, from: q.from, to: q.to, tz: q.tz, team: q.team, agent: q.agent, site: q.site, label: q.label });
  changed();
  loadReport();
}

async function loadSites() {
  if (S.reportSites) return;
  try {
    S.reportSites = (await get('/api/sites')).sites || [];
  } catch {
    S.reportSites = []; // supervisors and agents may not list sites: no site filter
  }
  changed();
}

/** The section is shown: the saved query (its preset's dates from today), the sites, the report. */
export function openReports() {
  const keep = saved.load('reports');
  const base = defaultQuery();
  const q = keep && typeof keep === 'object' ? { ...base, ...keep } : base;
  S.reportQuery = withDates(rangeValid(q.from, q.to) ? q : base);
  loadSites();
  loadReport();
  return () => {
    asked++; // an answer still on its way is not wanted any more
    S.reportDrill = null;
  };
}

// ---------------------------------------------------------------- drill-down

let drillAsked = 0;

async function readDrill(more) {
  const d = S.reportDrill;
  if (!d) return;
  const mine = ++drillAsked;
  S.reportDrill = { ...d, loading: true, error: null };
  changed();
  try {
    const p = reportParams(d.query, { ...d.params, outcome: d.outcome, rating: d.rating, limit: DRILL_PAGE, after: more ? d.next : '' });
    const r = await reportGet(`/api/reports/conversations?${p}`, () => mine === drillAsked);
    if (mine !== drillAsked || !S.reportDrill) return;
    const rows = Array.isArray(r.data) ? r.data : [];
    S.reportDrill = { ...S.reportDrill, rows: more ? [...d.rows, ...rows] : rows, next: r.next || null, loading: false };
  } catch (e) {
    if (mine !== drillAsked || !S.reportDrill) return;
    S.reportDrill = { ...S.reportDrill, loading: false, error: e.text || e.message };
  }
  changed();
}

/**
 * Lists the conversations behind a number: title (what was clicked),
 * params (day, hour_of_week, agent_id, or other dates) over the report's
 * query, and the outcome and rating it counts ('' for any).
 */
export function openDrill({ title, params = {}, outcome = '', rating = '' }) {
  S.reportDrill = { title, params, outcome, rating, query: S.reportQuery, rows: [], next: null, loading: true, error: null };
  readDrill(false);
}

export const drillMore = () => readDrill(true);

/** Another outcome or rating ({outcome} or {rating}): the list from its start. */
export function setDrillFilter(f) {
  if (!S.reportDrill) return;
  S.reportDrill = { ...S.reportDrill, ...f, rows: [], next: null };
  readDrill(false);
}

export function closeDrill() {
  drillAsked++;
  S.reportDrill = null;
  changed();
}

/** Opens a conversation of the list in the inbox: a closed one among the closed, an open one where it is. */
export function openReportConv(row) {
  closeDrill();
  const id = Number(row.conversation_id);
  if (row.status === 'closed') navigate({ area: 'inbox', list: 'closed', selected: id });
  else openVisitorConv(id);
}
