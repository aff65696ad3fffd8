// The visitor panel's visitor context: where they are (flag, city, region,
// country, the geolocation database's attribution, their local time,
// ticking per minute), their device (browser, system, kind, screen,
// language), new or returning, and their journey (GET
// /api/visitors/{id}/context, store/visitors.js): this visit's pages in
// order with the time on each (the open page counts up), past visits
// collapsed (date, landing page, referrer, campaign, pages), expandable.
// URLs, titles and referrers come from visitors: text only, isolated, long
// ones ellipsised with the whole in the title; links only for http(s), with
// rel="noopener noreferrer nofollow".
import { useEffect } from 'preact/hooks';
import { S, loadGeo, loadVisitorContext } from '../store/index.js';
import { safeHref } from '../../../ui-shared/linkify.js';
import { balance } from '../../../ui-shared/bidi.js';
import { ts } from '../../../ui-shared/time.js';
import { lang, t } from '../lib/i18n.js';
import {
  browserText,
  deviceWord,
  fmtNum,
  fmtSpan,
  fmtWhen,
  hostOf,
  languageText,
  localTime,
  osText,
  placeText,
  returningText,
  shortUrl,
} from '../lib/visitors.js';
import { Bdi, Spinner, useNow } from './common.jsx';
import { Icon } from './icons.jsx';
import { Flag } from './Visitors.jsx';

const REFRESH_MS = 30000;

/** A URL someone else wrote: a link (new tab, no referrer, nofollow) only for http(s); the text ellipsised, whole on hover. */
export function VisitorUrl({ url, text, testid }) {
  const href = safeHref(url);
  const shown = balance(text || shortUrl(url));
  if (!href) {
    return (
      <bdi class="ellipsis mono" title={balance(url)} data-testid={testid}>
        {shown}
      </bdi>
    );
  }
  return (
    <a class="ellipsis vp-url" href={href} target="_blank" rel="noopener noreferrer nofollow" title={balance(url)} data-testid={testid}>
      <bdi>{shown}</bdi>
    </a>
  );
}

function Kv({ label, children, testid }) {
  return (
    <div class="kv" data-testid={testid}>
      <dt title={label}>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Attribution() {
  const a = S.geo && S.geo.attribution;
  if (!a || !a.text) return null;
  const href = safeHref(a.url);
  return (
    <div class="vp-attribution" data-testid="geo-attribution">
      {href ? (
        <a href={href} target="_blank" rel="noopener noreferrer">
          {a.text}
        </a>
      ) : (
        a.text
      )}
    </div>
  );
}

/** Location, local time, device and visits of the visitor (the context's, else the conversation's block). */
export function VisitorFacts({ v }) {
  const now = useNow(15000);
  const loc = v.location || {};
  const place = placeText(loc);
  const time = localTime(loc.time_zone, now);
  const d = v.device || {};
  const past = Math.max(0, (v.conversations || 0) - 1);
  return (
    <section class="vp-section" data-testid="visitor-context" lang={lang()}>
      <h3>{t('visColVisitor')}</h3>
      <dl>
        <Kv label={t('visLocation')} testid="visitor-location">
          {place ? (
            <span class="vp-place">
              <Flag country={loc.country} size="big" />
              <Bdi text={place} />
            </span>
          ) : (
            <span class="muted">{t('visUnknownPlace')}</span>
          )}
          {place ? <Attribution /> : null}
        </Kv>
        {time ? (
          <Kv label={t('visLocalTime')} testid="visitor-localtime">
            <span title={loc.time_zone}>{t('visLocalTimeValue', { time, zone: loc.time_zone })}</span>
          </Kv>
        ) : null}
        <Kv label={t('visColVisits')} testid="visitor-returning">
          {returningText(v.visits || (v.returning ? 2 : 1), past)}
        </Kv>
      </dl>
      {d.browser || d.os || d.device || d.screen || d.language ? (
        <>
          <h3 class="vp-sub-h">{t('visDevice')}</h3>
          <dl data-testid="visitor-device">
            {d.browser ? (
              <Kv label={t('visBrowser')} testid="visitor-device-browser">
                {browserText(d)}
              </Kv>
            ) : null}
            {d.os ? (
              <Kv label={t('visSystem')} testid="visitor-device-os">
                {osText(d)}
              </Kv>
            ) : null}
            {d.device ? (
              <Kv label={t('visDevice')} testid="visitor-device-kind">
                <span class="vp-device">
                  <Icon name={d.device === 'mobile' || d.device === 'tablet' ? 'phone' : d.device === 'bot' ? 'bot' : 'monitor'} size={14} />
                  {deviceWord(d.device)}
                </span>
              </Kv>
            ) : null}
            {d.screen ? (
              <Kv label={t('visScreen')} testid="visitor-device-screen">
                <span class="mono">{String(d.screen).replace('x', ' × ')}</span>
              </Kv>
            ) : null}
            {d.language ? (
              <Kv label={t('visLanguage')} testid="visitor-device-language">
                <Bdi text={languageText(d.language)} />
              </Kv>
            ) : null}
          </dl>
        </>
      ) : null}
    </section>
  );
}

function PageItem({ p, now, open }) {
  const ms = p.seconds === null || p.seconds === undefined ? (open ? now - ts(p.at) : null) : p.seconds * 1000;
  return (
    <li class={`vp-page ${open && ms !== null && (p.seconds === null || p.seconds === undefined) ? 'is-open' : ''}`} data-testid="journey-page">
      <span class="vp-page-dot" aria-hidden="true" />
      <div class="vp-page-text">
        <Bdi class="ellipsis vp-page-title" text={p.title || shortUrl(p.url)} title={p.url} />
        <VisitorUrl url={p.url} testid="journey-url" />
      </div>
      <span class={`vp-page-time ${p.seconds === null || p.seconds === undefined ? 'live' : ''}`} data-testid="journey-time">
        {ms === null ? '' : fmtSpan(ms)}
      </span>
    </li>
  );
}

function PastVisit({ visit }) {
  const pages = visit.pages || [];
  const ref = hostOf(visit.referrer);
  const utm = visit.utm && typeof visit.utm === 'object' ? visit.utm : {};
  const campaign = utm.campaign || utm.utm_campaign || '';
  return (
    <li>
      <details class="vp-visit" data-testid="journey-visit">
        <summary>
          <span class="vp-visit-date">{fmtWhen(visit.started_at)}</span>
          <span class="muted small">{pages.length === 1 ? t('visPagesCount1') : t('visPagesCount', { n: fmtNum(pages.length) })}</span>
          <span class="vp-visit-landing">
            <Bdi class="ellipsis" text={shortUrl(visit.landing_url) || '—'} title={visit.landing_url || ''} />
          </span>
          <span class="vp-visit-meta muted small">
            {ref ? (
              <>
                {t('visFrom')} <Bdi text={ref} title={visit.referrer || ''} />
              </>
            ) : (
              t('visDirect')
            )}
            {campaign ? (
              <>
                {' · '}
                {t('visCampaign')} <Bdi text={campaign} />
              </>
            ) : null}
          </span>
        </summary>
        <ol class="vp-pages">
          {pages.map((p, i) => (
            <PageItem key={`${p.at}-${i}`} p={p} now={0} open={false} />
          ))}
        </ol>
      </details>
    </li>
  );
}

/** The journey: this visit's pages, then the past visits. */
export function Journey({ visitorId, online }) {
  const now = useNow(1000);
  const ctx = S.visitorCtx.get(visitorId);
  const visits = (ctx && ctx.data && ctx.data.visits) || [];
  const [current, ...past] = visits;
  const pages = (current && current.pages) || [];
  return (
    <section class="vp-section" data-testid="journey" lang={lang()}>
      <h3>{t('visJourney')}</h3>
      {ctx && ctx.loading && !ctx.data ? <Spinner /> : null}
      {ctx && ctx.error ? <p class="error-text small">{t('visJourneyError', { error: ctx.error })}</p> : null}
      {current ? (
        <>
          <div class="vp-visit-head">
            <strong>{online ? t('visThisVisit') : t('visLastVisit')}</strong>
            <span class="muted small">{fmtWhen(current.started_at)}</span>
          </div>
          {current.referrer || current.utm ? (
            <div class="muted small vp-visit-from">
              {hostOf(current.referrer) ? (
                <>
                  {t('visFrom')} <Bdi text={hostOf(current.referrer)} title={current.referrer || ''} />
                </>
              ) : (
                t('visDirect')
              )}
              {current.utm && (current.utm.campaign || current.utm.utm_campaign) ? (
                <>
                  {' · '}
                  {t('visCampaign')} <Bdi text={current.utm.campaign || current.utm.utm_campaign} />
                </>
              ) : null}
            </div>
          ) : null}
          <ol class="vp-pages" data-testid="journey-current">
            {pages.map((p, i) => (
              <PageItem key={`${p.at}-${i}`} p={p} now={now} open={online && i === pages.length - 1} />
            ))}
          </ol>
        </>
      ) : ctx && ctx.data ? (
        <p class="muted small">{t('visNoJourney')}</p>
      ) : null}
      {past.length ? (
        <>
          <h3 class="vp-sub-h">
            {t('visPastVisits')} <span class="count-soft">{fmtNum(past.length)}</span>
          </h3>
          <ul class="vp-visits" data-testid="journey-past">
            {past.map((visit) => (
              <PastVisit key={visit.id} visit={visit} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

/** Reads the visitor's context when the panel shows them, and again every 30 s while it does. */
export function useVisitorContext(visitorId) {
  useEffect(() => {
    if (!visitorId) return undefined;
    loadGeo();
    loadVisitorContext(visitorId, true);
    const timer = setInterval(() => loadVisitorContext(visitorId, true), REFRESH_MS);
    return () => clearInterval(timer);
  }, [visitorId]);
}
