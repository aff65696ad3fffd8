// Charts for the reports, drawn as SVG by hand (no chart library: the
// console's bundle stays small): a line chart over time, bars per row and a
// weekday × hour heatmap. Each is sized to its container (measured, so that
// text keeps its size on a phone), names itself for screen readers
// (role="img" with aria-label), shows a tooltip (<title>) on its points, and
// is one tab stop whose points are walked with the arrow keys (Home, End);
// Enter or a click picks one (the drill-down). Colours come from classes in
// styles/reports.css; only geometry and opacity are attributes.

import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Bdi } from './common.jsx';

/** The width of an element, followed as it changes (ResizeObserver). */
export function useWidth(fallback = 640) {
  const ref = useRef(null);
  const [w, setW] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const read = () => {
      const next = Math.floor(el.clientWidth);
      if (next > 0) setW(next);
    };
    read();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(read);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

/**
 * One tab stop for many points (a roving tabindex): the arrow keys move
 * along a row (left, right) and between rows of `cols` (up, down), Home and
 * End go to the ends, Enter and Space pick. The point under the mouse or
 * the focus is `active` (-1: none).
 */
export function useRoving(count, { cols = count, onPick }) {
  const [active, setActive] = useState(-1);
  const refs = useRef([]);
  const stop = active >= 0 && active < count ? active : 0;
  const go = (i) => {
    if (i < 0 || i >= count) return;
    setActive(i);
    if (refs.current[i]) refs.current[i].focus();
  };
  const onKeyDown = (e, i) => {
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, ArrowDown: i + cols, ArrowUp: i - cols, Home: 0, End: count - 1 };
    if (e.key in moves) {
      e.preventDefault();
      go(moves[e.key]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onPick(i);
    }
  };
  const props = (i) => ({
    tabindex: i === stop ? 0 : -1,
    ref: (el) => {
      refs.current[i] = el;
    },
    onKeyDown: (e) => onKeyDown(e, i),
    onFocus: () => setActive(i),
    onMouseEnter: () => setActive(i),
    onClick: () => onPick(i),
  });
  const onLeave = (e) => {
    if (!e.currentTarget.contains(document.activeElement)) setActive(-1);
  };
  return { active, setActive, props, onLeave };
}

// ------------------------------------------------------------------ scales

const STEPS = [1, 2, 5];

/** Ticks from 0 for counts: whole, "nice" steps, about `n` of them, the last at or above max. */
export function countTicks(max, n = 4) {
  if (!(max > 0)) return [0, 1];
  let mag = 1;
  while (!STEPS.some((x) => max / (x * mag) <= n)) mag *= 10;
  const step = STEPS.map((x) => x * mag).find((x) => max / x <= n);
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

// Steps for durations, in seconds: they read as whole units.
const DUR_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** Ticks from 0 for durations (seconds), on whole seconds, minutes, hours or days. */
export function durationTicks(max, n = 4) {
  if (!(max > 0)) return [0, 60];
  const step = DUR_STEPS.find((s) => max / s <= n) || Math.ceil(max / n / 86400) * 86400;
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

/** About how wide a label is drawn at 11px: wide characters (CJK) take twice a digit's room. */
export const textWidth = (s) => [...String(s)].reduce((w, ch) => w + (ch.codePointAt(0) >= 0x2e80 ? 11 : 6.6), 0);

// -------------------------------------------------------------- line chart

const M = { top: 10, right: 14, bottom: 26 };

/**
 * Lines over the same buckets. series: [{key, label, cls, values}] (null:
 * no value, the line breaks); labels: each bucket's axis tick, long: its
 * tooltip; fmt: a value's text; ticks: (max) => y ticks; steps: the
 * spacings of x ticks (in buckets) to choose from; onPick(i).
 */
export function LineChart({ series, labels, long, fmt, ticks = countTicks, steps = [1], label, onPick, testid, height = 220 }) {
  const [ref, width] = useWidth();
  const n = labels.length;
  const { active, props, onLeave } = useRoving(n, { onPick });
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined)));
  const yt = ticks(max);
  const top = yt[yt.length - 1] || 1;
  // Room for the y ticks, and for half of the first and last x ticks (centred on their point).
  const edge = n ? Math.max(textWidth(labels[0]), textWidth(labels[n - 1])) / 2 : 0;
  const left = Math.max(Math.max(...yt.map((v) => textWidth(fmt(v)))) + 12, edge);
  const right = Math.max(M.right, edge);
  const pw = Math.max(40, width - left - right);
  const ph = height - M.top - M.bottom;
  const x = (i) => left + (n <= 1 ? pw / 2 : (i * pw) / (n - 1));
  const y = (v) => M.top + ph - (v / top) * ph;
  // x ticks: as many as fit, every `step` buckets.
  const fit = Math.max(2, Math.floor(pw / (Math.max(28, ...labels.map(textWidth)) + 16)));
  const want = Math.max(1, Math.ceil(n / fit));
  const step = steps.find((x) => x >= want) || want;
  const half = n <= 1 ? pw / 2 : pw / (n - 1) / 2;
  const dots = n <= 62;
  return (
    <div class="rep-chart" ref={ref} data-testid={testid}>
      <svg class="rep-svg" width="100%" height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} onMouseLeave={onLeave}>
        <g class="rep-axis" aria-hidden="true">
          {yt.map((v) => (
            <g key={v}>
              <line x1={left} x2={left + pw} y1={y(v)} y2={y(v)} />
              <text x={left - 8} y={y(v)} dy="0.32em" text-anchor="end">
                {fmt(v)}
              </text>
            </g>
          ))}
          {labels.map((l, i) =>
            i % step === 0 ? (
              <text key={i} class="rep-xtick" x={x(i)} y={height - 8} text-anchor="middle">
                {l}
              </text>
            ) : null,
          )}
        </g>
        {active >= 0 ? <line class="rep-guide" x1={x(active)} x2={x(active)} y1={M.top} y2={M.top + ph} /> : null}
        {series.map((s) => (
          <g key={s.key} class={`rep-series ${s.cls}`} aria-hidden="true">
            <path d={linePath(s.values, x, y)} />
            {s.values.map((v, i) =>
              v !== null && v !== undefined && (dots || i === active) ? <circle key={i} cx={x(i)} cy={y(v)} r={i === active ? 4.5 : 2.6} /> : null,
            )}
          </g>
        ))}
        {labels.map((l, i) => (
          <g key={i} class="rep-band" role="button" aria-label={bandText(series, long[i], i, fmt)} data-testid={`${testid}-point`} data-index={i} {...props(i)}>
            <title>{bandText(series, long[i], i, fmt)}</title>
            <rect x={x(i) - half} y={M.top} width={Math.max(2, half * 2)} height={ph} />
          </g>
        ))}
      </svg>
      <Legend series={series} at={active} title={active >= 0 ? long[active] : ''} fmt={fmt} />
    </div>
  );
}

/** A line through the values, broken where there is none (M ... L ... M ...). */
function linePath(values, x, y) {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

const bandText = (series, title, i, fmt) => `${title}: ${series.map((s) => `${s.label} ${fmt(s.values[i])}`).join(', ')}`;

/** The series' names and colours; with the values of the point under the mouse or the focus. */
function Legend({ series, at, title, fmt }) {
  return (
    <div class="rep-legend" aria-hidden="true">
      {at >= 0 ? <strong class="rep-legend-title">{title}</strong> : null}
      {series.map((s) => (
        <span key={s.key} class={`rep-key ${s.cls}`}>
          <span class="rep-swatch" />
          {s.label}
          {at >= 0 ? <strong>{fmt(s.values[at])}</strong> : null}
        </span>
      ))}
    </div>
  );
}

// -------------------------------------------------------------------- bars

/**
 * One bar per row (an agent): rows [{key, name, share (0..1 of the
 * longest), text, sub, label}], each a button that picks it.
 */
export function BarList({ rows, onPick, testid, cls = '' }) {
  return (
    <ul class={`rep-bars ${cls}`} data-testid={testid}>
      {rows.map((r) => (
        <li key={r.key}>
          <button
            type="button"
            class="rep-bar-row"
            onClick={() => onPick(r)}
            aria-label={r.label}
            title={r.label}
            data-testid={`${testid}-row`}
            data-id={r.key}
          >
            <Bdi class="rep-bar-name" text={r.name} />
            <svg class="rep-bar" viewBox="0 0 100 12" preserveAspectRatio="none" aria-hidden="true">
              <rect class="rep-bar-track" x="0" y="0" width="100" height="12" rx="2" />
              <rect class="rep-bar-fill" x="0" y="0" width={Math.max(r.share > 0 ? 1 : 0, Math.min(1, r.share) * 100)} height="12" rx="2" />
            </svg>
            <span class="rep-bar-value">
              <strong>{r.text}</strong>
              {r.sub ? <span class="muted small">{r.sub}</span> : null}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

// ----------------------------------------------------------------- heatmap

/**
 * A 7 × 24 grid (rows Monday..Sunday, columns hours): level(d, h) is the
 * cell's shade (0..1, or 'alert'), title(d, h) its tooltip; rows and
 * hours are the axis labels. Wider than its card on a phone: the card
 * scrolls sideways.
 */
export function Heatmap({ rows, level, title, marked, label, onPick, testid }) {
  const [ref, width] = useWidth();
  const labelW = Math.max(...rows.map(textWidth)) + 12;
  const cell = Math.max(14, Math.min(40, Math.floor((width - labelW - 4) / 24)));
  const ch = Math.max(16, Math.min(26, Math.round(cell * 0.8)));
  const top = 18;
  const w = labelW + cell * 24 + 2;
  const h = top + ch * 7 + 2;
  const every = cell >= 26 ? 2 : 3;
  const { active, props, onLeave } = useRoving(168, { cols: 24, onPick: (i) => onPick(Math.floor(i / 24), i % 24) });
  return (
    <div class="rep-heat-scroll" ref={ref}>
      <svg class="rep-svg rep-heat" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label} data-testid={testid} onMouseLeave={onLeave}>
        <g class="rep-axis" aria-hidden="true">
          {Array.from({ length: 24 }, (_, hr) =>
            hr % every === 0 ? (
              <text key={hr} x={labelW + hr * cell + cell / 2} y={12} text-anchor="middle">
                {hr}
              </text>
            ) : null,
          )}
          {rows.map((r, d) => (
            <text key={d} x={labelW - 8} y={top + d * ch + ch / 2} dy="0.32em" text-anchor="end">
              {r}
            </text>
          ))}
        </g>
        {rows.map((_, d) =>
          Array.from({ length: 24 }, (__, hr) => {
            const i = d * 24 + hr;
            const lv = level(d, hr);
            const cls = `rep-cell ${lv === 'alert' ? 'rep-cell-alert' : lv > 0 ? 'rep-cell-on' : 'rep-cell-zero'} ${marked && marked(d, hr) ? 'rep-cell-marked' : ''} ${i === active ? 'rep-cell-active' : ''}`;
            return (
              <g key={i} class="rep-cell-g" role="button" aria-label={title(d, hr)} data-testid={`${testid}-cell`} data-day={d} data-hour={hr} {...props(i)}>
                <title>{title(d, hr)}</title>
                <rect
                  class={cls}
                  x={labelW + hr * cell + 1}
                  y={top + d * ch + 1}
                  width={cell - 2}
                  height={ch - 2}
                  rx="2"
                  fill-opacity={typeof lv === 'number' && lv > 0 ? (0.15 + 0.85 * lv).toFixed(3) : undefined}
                />
              </g>
            );
          }),
        )}
      </svg>
    </div>
  );
}
