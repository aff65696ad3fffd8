// Reports (#/reports, docs/reports.md): how the team is doing over a period
// of local dates in a time zone. A toolbar (period presets or two dates,
// the zone, filters by team, agent, site and label, and the CSV export of
// the same conversations), cards with the period's figures against the
// previous period's (the change coloured by whether it is good news), the
// conversations over time, the first response over time, bars per agent,
// the busiest hours against the agents online, and the agents' activity.
// Every number opens the conversations behind it (the drill-down), from
// which a conversation opens in the inbox. An agent sees "My reports":
// their own figures (the server forces it), without the agent filter and
// the bars per agent. Data in store/reports.js; charts in charts.jsx.

import { useEffect, useState } from 'preact/hooks';
import {
  S,
  closeDrill,
  drillMore,
  exportHref,
  isPrivileged,
  loadLabels,
  openDrill,
  openReportConv,
  openReports,
  setDrillFilter,
  setReportQuery,
} from '../store/index.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { ts } from '../../../ui-shared/time.js';
import { lang, t } from '../lib/i18n.js';
import {
  PRESETS,
  TICK_STEPS,
  browserZone,
  bucketDrill,
  bucketLabel,
  change,
  fmtDecimal,
  fmtHour,
  fmtPeriod,
  fmtSecs,
  fmtShare,
  rangeValid,
  weekdays,
} from '../lib/reports.js';
import { fmtNum } from '../lib/visitors.js';
import { BarList, Heatmap, LineChart, countTicks, durationTicks } from './charts.jsx';
import { Bdi, Modal, Spinner } from './common.jsx';
import { Icon } from './icons.jsx';

const OUTCOMES = [
  ['', 'rptAnyOutcome'],
  ['answered', 'rptOutcomeAnswered'],
  ['missed', 'rptOutcomeMissed'],
  ['offline', 'rptOutcomeOffline'],
  ['bot', 'rptOutcomeBot'],
  ['unanswered', 'rptOutcomeUnanswered'],
];
const OUTCOME_WORD = Object.fromEntries(OUTCOMES);

/** A time zone for people: its id in English; in Chinese its name ("中国标准时间"). */
function zoneName(tz) {
  if (lang() === 'en') return tz;
  try {
    const p = new Intl.DateTimeFormat(lang(), { timeZone: tz, timeZoneName: 'long' }).formatToParts(new Date()).find((x) => x.type === 'timeZoneName');
    return p ? p.value : tz;
  } catch {
    return tz;
  }
}

// ------------------------------------------------------------------ toolbar

/** A select of [value, text] choices. */
function Choice({ label, value, choices, onChange, testid }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid={testid}>
      {choices.map(([id, text]) => (
        <option key={id} value={id}>
          {text}
        </option>
      ))}
    </select>
  );
}

/** [value, word] pairs with their words in the console's language. */
const worded = (list) => list.map(([id, word]) => [id, t(word)]);

/** A filter of the toolbar: all (the word), or one of items ({id, name}). */
function FilterSelect({ value, all, items, field, testid }) {
  return (
    <Choice
      label={t(all)}
      value={value}
      choices={[['', t(all)], ...items.map((x) => [String(x.id), x.name])]}
      onChange={(v) => setReportQuery({ [field]: v })}
      testid={testid}
    />
  );
}

/** Two dates: the report follows as soon as they make a period it can read. */
function DateRange({ q }) {
  const [d, setD] = useState({ from: q.from, to: q.to });
  useEffect(() => setD({ from: q.from, to: q.to }), [q.from, q.to]);
  const ok = rangeValid(d.from, d.to);
  const input = (end, word, bounds) => (
    <input
      type="date"
      aria-label={t(word)}
      value={d[end]}
      {...bounds}
      class={ok ? '' : 'invalid'}
      onChange={(e) => {
        const next = { ...d, [end]: e.currentTarget.value };
        setD(next);
        if (rangeValid(next.from, next.to)) setReportQuery({ preset: 'custom', ...next });
      }}
      data-testid={`rep-${end}`}
    />
  );
  return (
    <span class="rep-dates">
      {input('from', 'rptFrom', { max: d.to || undefined })}
      <span aria-hidden="true">–</span>
      {input('to', 'rptTo', { min: d.from || undefined })}
      {ok ? null : (
        <span class="field-error rep-range-error" role="alert">
          {t('rptRangeInvalid')}
        </span>
      )}
    </span>
  );
}

function Toolbar() {
  const q = S.reportQuery;
  const zones = [...new Set([browserZone(), 'UTC', q.tz])];
  const agents = [...S.agents.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return (
    <div class="rep-toolbar" role="group" aria-label={t('rptFilters')} data-testid="rep-toolbar">
      <Choice label={t('rptRange')} value={q.preset} choices={worded(PRESETS)} onChange={(preset) => setReportQuery({ preset })} testid="rep-preset" />
      {q.preset === 'custom' ? <DateRange q={q} /> : null}
      <Choice
        label={t('rptTz')}
        value={q.tz}
        choices={zones.map((z) => [z, z === browserZone() && z !== 'UTC' ? t('rptTzBrowser', { zone: zoneName(z) }) : zoneName(z)])}
        onChange={(tz) => setReportQuery({ tz })}
        testid="rep-tz"
      />
      {S.teams.length ? <FilterSelect value={q.team} all="rptAllTeams" items={S.teams} field="team" testid="rep-team" /> : null}
      {isPrivileged() ? <FilterSelect value={q.agent} all="rptAllAgents" items={agents} field="agent" testid="rep-agent" /> : null}
      {S.reportSites && S.reportSites.length ? <FilterSelect value={q.site} all="rptAllSites" items={S.reportSites} field="site" testid="rep-site" /> : null}
      {S.labels.length ? <FilterSelect value={q.label} all="rptAllLabels" items={S.labels} field="label" testid="rep-label" /> : null}
    </div>
  );
}

// -------------------------------------------------------------------- cards

/** The figures of the cards: key, word, value of a Metrics, how it is better, its drill. */
const KPIS = [
  { key: 'started', word: 'rptStarted', get: (m) => m.started, better: '', drill: {} },
  { key: 'answered', word: 'rptAnswered', get: (m) => m.answered, better: 'up', drill: { outcome: 'answered' } },
  { key: 'missed', word: 'rptMissed', get: (m) => m.missed, better: 'down', drill: { outcome: 'missed' } },
  { key: 'offline', word: 'rptOffline', get: (m) => m.offline, better: 'down', drill: { outcome: 'offline' } },
  { key: 'first_median', word: 'rptFirstMedian', get: (m) => m.first_response && m.first_response.median, dur: true, drill: { outcome: 'answered' } },
  { key: 'first_p90', word: 'rptFirstP90', get: (m) => m.first_response && m.first_response.p90, dur: true, drill: { outcome: 'answered' } },
  { key: 'wait', word: 'rptWaitMedian', get: (m) => m.wait && m.wait.median, dur: true, drill: {} },
  { key: 'resolution', word: 'rptResolutionMedian', get: (m) => m.resolution && m.resolution.median, dur: true, drill: {} },
  { key: 'csat', word: 'rptCsat', get: (m) => m.csat && m.csat.good_share, share: true, better: 'up', drill: { rating: 'good' } },
];

function kpiText(k, v) {
  if (k.dur) return fmtSecs(v);
  if (k.share) return fmtShare(v);
  return v === null || v === undefined ? '—' : fmtNum(v);
}

function Change({ c }) {
  if (!c) return <span class="rep-change rep-neutral">—</span>;
  return (
    <span class={`rep-change rep-${c.tone}`} role="img" aria-label={c.label} title={c.label} data-testid="rep-change" data-dir={c.dir} data-tone={c.tone}>
      {c.dir === 'up' ? '▲' : c.dir === 'down' ? '▼' : '＝'}
      {c.dir === 'flat' ? '' : ` ${c.text}`}
    </span>
  );
}

function Kpi({ k, cur, prev }) {
  const v = k.get(cur);
  const p = k.get(prev);
  const c = change(v, p, { better: k.dur ? 'down' : k.better, share: k.share });
  const word = t(k.word);
  const sub = k.key === 'csat' ? ratingsText(cur.csat ? cur.csat.ratings : 0) : null;
  return (
    <button
      type="button"
      class="card rep-kpi"
      onClick={() => openDrill({ title: word, ...k.drill })}
      aria-label={t('rptKpiAria', { name: word, value: kpiText(k, v), prev: kpiText(k, p) })}
      data-testid="rep-kpi"
      data-kpi={k.key}
      data-value={v === null || v === undefined ? '' : String(v)}
      data-prev={p === null || p === undefined ? '' : String(p)}
    >
      <span class="rep-kpi-name">{word}</span>
      <span class="rep-kpi-value" data-testid="rep-kpi-value">
        {kpiText(k, v)}
      </span>
      {sub ? <span class="rep-kpi-sub muted small">{sub}</span> : null}
      <span class="rep-kpi-prev small">
        <Change c={c} />
        <span class="muted" data-testid="rep-kpi-prev">
          {t('rptPrev', { value: kpiText(k, p) })}
        </span>
      </span>
    </button>
  );
}

const ratingsText = (n) => (n === 1 ? t('rptRatings1') : n ? t('rptRatingsN', { n: fmtNum(n) }) : t('rptRatings0'));

// ------------------------------------------------------------------- charts

function Card({ title, children, actions, testid, wide }) {
  return (
    <section class={`card rep-card ${wide ? 'rep-wide' : ''}`} data-testid={testid} aria-label={title}>
      <header class="rep-card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

function Segmented({ value, options, onChange, label, testid }) {
  return (
    <div class="segmented small rep-seg" role="radiogroup" aria-label={label} data-testid={testid}>
      {options.map(([id, word]) => (
        <button
          key={id}
          type="button"
          role="radio"
          aria-checked={value === id ? 'true' : 'false'}
          class={value === id ? 'on' : ''}
          onClick={() => onChange(id)}
          data-value={id}
        >
          {t(word)}
        </button>
      ))}
    </div>
  );
}

function Empty() {
  return (
    <div class="empty rep-empty">
      <Icon name="chart" size={26} />
      <strong>{t('rptEmpty')}</strong>
      <p>{t('rptEmptyHint')}</p>
    </div>
  );
}

const fmtCount = (v) => (v === null || v === undefined ? '—' : fmtNum(v));

/**
 * A chart over the period's buckets: series [key (its colour class s-key),
 * word, the bucket's field]; a point lists the bucket's conversations of
 * `outcome` ('' for all).
 */
function OverTime({ r, title, testid, chart, fmt, ticks, outcome, series }) {
  const b = r.timeseries.buckets || [];
  const interval = r.timeseries.interval;
  const long = b.map((x) => bucketLabel(x.start, interval, true));
  return (
    <Card title={t(title)} testid={testid}>
      {r.summary.current.started ? (
        <LineChart
          testid={chart}
          label={t('rptChartAria', { title: t(title), n: b.length })}
          labels={b.map((x) => bucketLabel(x.start, interval))}
          long={long}
          fmt={fmt}
          ticks={ticks}
          steps={TICK_STEPS[interval]}
          onPick={(i) => openDrill({ title: long[i], params: bucketDrill(b[i].start, interval, r.query), outcome })}
          series={series.map(([key, word, field]) => ({ key, label: t(word), cls: `s-${key}`, values: b.map((x) => x[field]) }))}
        />
      ) : (
        <Empty />
      )}
    </Card>
  );
}

const SERIES_COUNTS = [
  ['started', 'rptSeriesStarted', 'started'],
  ['answered', 'rptSeriesAnswered', 'answered'],
  ['missed', 'rptSeriesMissed', 'missed'],
];
const SERIES_FIRST = [
  ['median', 'rptSeriesMedian', 'first_response_median'],
  ['p90', 'rptSeriesP90', 'first_response_p90'],
];

const AGENT_METRICS = [
  ['answered', 'rptMetricAnswered'],
  ['first', 'rptMetricFirst'],
  ['csat', 'rptMetricCsat'],
];

function agentRows(agents, metric) {
  const val = {
    answered: (a) => a.answered,
    first: (a) => (a.first_response ? a.first_response.median : null),
    csat: (a) => (a.csat ? a.csat.good_share : null),
  }[metric];
  const list = agents.map((a) => ({ a, v: val(a) }));
  const max = Math.max(0, ...list.map((x) => x.v || 0));
  // The best first: most answered, fastest, most satisfied; none last.
  list.sort((x, y) => (x.v === null) - (y.v === null) || (metric === 'first' ? x.v - y.v : y.v - x.v));
  return list.map(({ a, v }) => {
    let text;
    let sub;
    if (metric === 'answered') {
      text = fmtNum(v || 0);
      sub = t('rptOfStarted', { n: fmtNum(a.started || 0) });
    } else if (metric === 'first') {
      text = fmtSecs(v);
      sub = a.first_response && a.first_response.p90 !== null ? t('rptP90Short', { d: fmtSecs(a.first_response.p90) }) : '';
    } else {
      text = fmtShare(v);
      sub = ratingsText(a.csat ? a.csat.ratings : 0);
    }
    const share = metric === 'csat' ? v || 0 : max ? (v || 0) / max : 0;
    return { key: a.agent_id, name: a.name, share, text, sub, label: t('rptAgentBar', { name: isolate(a.name), value: text }) };
  });
}

/** A wide card whose chart has several views (views: [id, word]), chosen in its head; render(view) draws it. */
function ViewsCard({ title, testid, views, render }) {
  const [view, setView] = useState(views[0][0]);
  return (
    <Card
      title={t(title)}
      testid={testid}
      wide
      actions={<Segmented value={view} options={views} onChange={setView} label={t(title)} testid={`${testid}-view`} />}
    >
      {render(view)}
    </Card>
  );
}

function ByAgent({ r }) {
  const agents = (r.agents && r.agents.agents) || [];
  return <ViewsCard title="rptByAgent" testid="rep-by-agent" views={AGENT_METRICS} render={(metric) => <AgentBars agents={agents} metric={metric} />} />;
}

function AgentBars({ agents, metric }) {
  return agents.length ? (
    <BarList
      testid="rep-agent-bar"
      cls={`m-${metric}`}
      rows={agentRows(agents, metric)}
      onPick={(row) =>
        openDrill({
          title: row.name,
          params: { agent_id: row.key },
          outcome: metric === 'csat' ? '' : 'answered',
          rating: metric === 'csat' ? 'good' : '',
        })
      }
    />
  ) : (
    <p class="muted rep-none">{t('rptNoAgents')}</p>
  );
}

const HEAT_VIEWS = [
  ['started', 'rptHeatStarted'],
  ['load', 'rptHeatLoad'],
];

/** Fewer than this many agents online on average counts as nobody. */
const NOBODY = 0.05;

function BusyHours({ r }) {
  return <ViewsCard title="rptBusyHours" testid="rep-busy-hours" views={HEAT_VIEWS} render={(view) => <HourGrid r={r} view={view} />} />;
}

function HourGrid({ r, view }) {
  const started = r.heatmap.started || [];
  const online = r.heatmap.agents_online || [];
  const at = (m, d, h) => (m[d] && typeof m[d][h] === 'number' ? m[d][h] : 0);
  const nobody = (d, h) => at(started, d, h) > 0 && at(online, d, h) < NOBODY;
  const load = (d, h) => (at(online, d, h) >= NOBODY ? at(started, d, h) / at(online, d, h) : 0);
  let maxStarted = 0;
  let maxLoad = 0;
  for (let d = 0; d < 7; d++) {
    for (let h = 0; h < 24; h++) {
      maxStarted = Math.max(maxStarted, at(started, d, h));
      maxLoad = Math.max(maxLoad, load(d, h));
    }
  }
  const days = weekdays();
  const longDays = weekdays('long');
  const level =
    view === 'started' ? (d, h) => (maxStarted ? at(started, d, h) / maxStarted : 0) : (d, h) => (nobody(d, h) ? 'alert' : maxLoad ? load(d, h) / maxLoad : 0);
  const title = (d, h) =>
    t('rptHeatCell', {
      when: `${longDays[d]} ${fmtHour(h)}–${fmtHour((h + 1) % 24)}`,
      n: fmtNum(at(started, d, h)),
      agents: nobody(d, h) ? t('rptHeatNobody') : t('rptHeatAgents', { n: fmtDecimal(at(online, d, h)) }),
    });
  return (
    <>
      <div class={`v-${view}`}>
        <Heatmap
          testid="rep-heat"
          rows={days}
          level={level}
          marked={nobody}
          title={title}
          label={t('rptHeatAria', { view: t(view === 'started' ? 'rptHeatStarted' : 'rptHeatLoad') })}
          onPick={(d, h) => openDrill({ title: `${longDays[d]} ${fmtHour(h)}`, params: { hour_of_week: `${d}:${h}` } })}
        />
        <div class="rep-heat-legend small muted">
          <span class="rep-heat-key">
            {t('rptLegendFewer')}
            <span class="rep-ramp" aria-hidden="true" />
            {t('rptLegendMore')}
          </span>
          <span class="rep-heat-key">
            <span class="rep-heat-key-alert" aria-hidden="true" />
            {t('rptHeatUnderstaffed')}
          </span>
        </div>
      </div>
      <p class="muted small rep-note">{t(view === 'started' ? 'rptHeatHintStarted' : 'rptHeatHintLoad', { zone: zoneName(r.query.tz) })}</p>
    </>
  );
}

/** A table's head: [word, numeric] columns (numbers right-aligned). */
function Head({ cols }) {
  return (
    <thead>
      <tr>
        {cols.map(([word, num]) => (
          <th key={word} scope="col" class={num ? 'num' : undefined}>
            {t(word)}
          </th>
        ))}
      </tr>
    </thead>
  );
}

const ACTIVITY_COLS = [['rptColAgent'], ['rptColOnline', 1], ['rptColAway', 1], ['rptColChats', 1], ['rptColPeak', 1], ['rptColAvg', 1]];
const DRILL_COLS = [['rptColId'], ['rptColStarted'], ['rptColAgent'], ['rptColOutcome'], ['rptColFirst', 1], ['rptColRating']];

function Activity({ r }) {
  const rows = (r.activity && r.activity.agents) || [];
  return (
    <Card title={t('rptActivity')} testid="rep-activity" wide>
      {rows.length ? (
        <div class="rep-table-scroll">
          <table class="table rep-table" data-testid="rep-activity-table">
            <Head cols={ACTIVITY_COLS} />
            <tbody>
              {rows.map((a) => (
                <tr key={a.agent_id} data-testid="rep-activity-row" data-id={a.agent_id}>
                  <td class="rep-nowrap">
                    <Bdi text={a.name} />
                  </td>
                  <td class="num">{fmtSecs(a.online)}</td>
                  <td class="num">{fmtSecs(a.away)}</td>
                  <td class="num">{fmtNum(a.chats || 0)}</td>
                  <td class="num">{fmtNum(a.peak_concurrent || 0)}</td>
                  <td class="num">{fmtDecimal(a.avg_concurrent, 2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted rep-none">{t('rptNoActivity')}</p>
      )}
    </Card>
  );
}

// --------------------------------------------------------------- drill-down

function fmtStarted(iso, tz) {
  try {
    return new Intl.DateTimeFormat(lang(), { timeZone: tz, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(ts(iso)),
    );
  } catch {
    return iso;
  }
}

function DrillRow({ row, tz }) {
  const open = () => openReportConv(row);
  const rating = row.rating ? t(row.rating === 'good' ? 'rptRatingGood' : 'rptRatingBad') : '';
  return (
    <tr data-testid="rep-drill-row" data-id={row.conversation_id} onClick={open}>
      <td>
        <button
          type="button"
          class="link-btn"
          onClick={(e) => {
            e.stopPropagation();
            open();
          }}
          aria-label={t('rptOpenConv', { id: row.conversation_id })}
        >
          #{row.conversation_id}
        </button>
      </td>
      <td class="rep-nowrap">{fmtStarted(row.started_at, tz)}</td>
      <td class="rep-drill-agent">{row.agent ? <Bdi text={row.agent} /> : <span class="muted">{t('rptNobody')}</span>}</td>
      <td>
        <span class={`pill rep-outcome o-${row.outcome}`}>{t(OUTCOME_WORD[row.outcome] || 'rptOutcomeUnanswered')}</span>
      </td>
      <td class="num">{fmtSecs(row.first_response)}</td>
      <td class="rep-rating">
        {row.rating ? (
          <span class={`rating-${row.rating}`} title={rating}>
            <Icon name={row.rating === 'good' ? 'thumbUp' : 'thumbDown'} size={15} title={rating} />
          </span>
        ) : (
          <span class="muted">—</span>
        )}
        {row.rating_comment ? <Bdi class="rep-comment" text={row.rating_comment} title={row.rating_comment} testid="rep-drill-comment" /> : null}
      </td>
    </tr>
  );
}

const RATINGS = [
  ['', 'rptAnyRating'],
  ['good', 'rptRatingGood'],
  ['bad', 'rptRatingBad'],
];

function Drill() {
  const d = S.reportDrill;
  const title = t('rptDrillTitle', { what: isolate(d.title) });
  return (
    <Modal
      wide
      title={
        <>
          {t('rptDrillTitle').split('{what}')[0]}
          <Bdi text={d.title} />
          {t('rptDrillTitle').split('{what}')[1] || ''}
        </>
      }
      label={title}
      lang={lang()}
      closeLabel={t('closeDialog')}
      onClose={closeDrill}
    >
      <div class="rep-drill" data-testid="rep-drill">
        <div class="rep-drill-filters">
          <Choice
            label={t('rptOutcome')}
            value={d.outcome}
            choices={worded(OUTCOMES)}
            onChange={(outcome) => setDrillFilter({ outcome })}
            testid="rep-drill-outcome"
          />
          <Choice
            label={t('rptColRating')}
            value={d.rating}
            choices={worded(RATINGS)}
            onChange={(rating) => setDrillFilter({ rating })}
            testid="rep-drill-rating"
          />
          {d.params.day || d.params.from ? null : <span class="muted small">{fmtPeriod(d.query.from, d.query.to)}</span>}
        </div>
        {d.error ? (
          <div class="notice notice-error" role="alert">
            {t('rptError', { error: d.error })}
          </div>
        ) : null}
        {d.rows.length ? (
          <div class="rep-table-scroll">
            <table class="table compact rep-drill-table" data-testid="rep-drill-table">
              <Head cols={DRILL_COLS} />
              <tbody>
                {d.rows.map((row) => (
                  <DrillRow key={row.conversation_id} row={row} tz={d.query.tz} />
                ))}
              </tbody>
            </table>
          </div>
        ) : d.loading ? null : (
          <p class="muted rep-none" data-testid="rep-drill-empty">
            {t('rptDrillEmpty')}
          </p>
        )}
        {d.loading ? (
          <div class="list-status">
            <Spinner label={t('rptLoading')} />
          </div>
        ) : d.next ? (
          <button type="button" class="btn rep-more" onClick={drillMore} data-testid="rep-drill-more">
            {t('rptLoadMore')}
          </button>
        ) : null}
      </div>
    </Modal>
  );
}

// --------------------------------------------------------------------- page

export function Reports() {
  useEffect(() => openReports(), []);
  useEffect(() => {
    loadLabels();
  }, []);
  const r = S.report;
  const q = S.reportQuery;
  const mine = !isPrivileged();
  if (!q) return null;
  const s = r.summary;
  return (
    <div class={`admin reports ${r.loading ? 'is-loading' : ''}`} lang={lang()} data-testid="reports" aria-busy={r.loading ? 'true' : 'false'}>
      <header class="admin-head">
        <div>
          <h1>{t(mine ? 'rptTitleMine' : 'rptTitle')}</h1>
          <p class="muted">{t(mine ? 'rptSubMine' : 'rptSub')}</p>
        </div>
        <div class="admin-head-actions">
          <a class="btn" href={exportHref()} download title={t('rptExportTitle')} data-testid="rep-export">
            <Icon name="download" size={15} /> {t('rptExport')}
          </a>
        </div>
      </header>
      <Toolbar />
      <p class="muted small rep-period" data-testid="rep-period">
        {fmtPeriod(q.from, q.to)}
        {s && s.previous_period ? ` · ${t('rptCompared', { period: fmtPeriod(s.previous_period.from, s.previous_period.to) })}` : ''}
      </p>
      {r.error ? (
        <div class="notice notice-error rep-error" role="alert" data-testid="rep-error">
          {t('rptError', { error: r.error })}
        </div>
      ) : null}
      {!s ? (
        r.error ? null : (
          <div class="empty big">
            <Spinner label={t('rptLoading')} />
          </div>
        )
      ) : (
        <>
          <div class="rep-kpis" data-testid="rep-kpis">
            {KPIS.map((k) => (
              <Kpi key={k.key} k={k} cur={s.current} prev={s.previous} />
            ))}
          </div>
          <div class="rep-grid">
            <OverTime r={r} title="rptOverTime" testid="rep-over-time" chart="rep-line" fmt={fmtCount} ticks={countTicks} outcome="" series={SERIES_COUNTS} />
            <OverTime
              r={r}
              title="rptResponseOverTime"
              testid="rep-response-time"
              chart="rep-frt"
              fmt={fmtSecs}
              ticks={durationTicks}
              outcome="answered"
              series={SERIES_FIRST}
            />
            {mine ? null : <ByAgent r={r} />}
            <Activity r={r} />
            <BusyHours r={r} />
          </div>
        </>
      )}
      {S.reportDrill ? <Drill /> : null}
    </div>
  );
}
