// SlaClock: a conversation's nearest SLA due time as a ticking countdown
// ("First response in 3:12"), or how long it is overdue once missed
// ("Next response overdue 1:05", coloured). Nothing when no clock runs.
import { slaClock } from '../store/index.js';
import { fmtTime } from '../../../ui-shared/time.js';
import { t } from '../lib/i18n.js';
import { useNow } from './common.jsx';
import { Icon } from './icons.jsx';

const WHAT = { first_response: 'slaFirst', next_response: 'slaNext', resolution: 'slaResolution' };

/** "0:42", "3:12", "1:02:09", "2d 3h" */
export function fmtCountdown(ms) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  const d = Math.floor(s / 86400);
  if (d > 0) return `${d}d ${Math.floor((s % 86400) / 3600)}h`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function SlaClock({ c, compact = false }) {
  const now = useNow(1000);
  const clock = slaClock(c, now);
  if (!clock) return null;
  const what = t(WHAT[clock.kind]);
  const left = clock.due - now;
  const soon = !clock.breached && left < 5 * 60000;
  const text = clock.breached ? t('slaOverdue', { what, time: fmtCountdown(now - clock.due) }) : t('slaIn', { what, time: fmtCountdown(left) });
  return (
    <span
      class={`sla-clock ${clock.breached ? 'sla-breached' : soon ? 'sla-soon' : ''} ${compact ? 'sla-compact' : ''}`}
      title={t('slaClockTitle', { what, at: fmtTime(new Date(clock.due).toISOString()) })}
      data-testid="sla-clock"
      data-kind={clock.kind}
      data-state={clock.breached ? 'breached' : 'running'}
    >
      <Icon name={clock.breached ? 'alert' : 'clock'} size={compact ? 12 : 13} />
      <span class="sla-text">{text}</span>
    </span>
  );
}
