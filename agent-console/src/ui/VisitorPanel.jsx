import { useEffect } from 'preact/hooks';
import { S, loadConvFiles, select } from '../store/index.js';
import { t } from '../lib/i18n.js';
import { botSentence, statusText } from '../lib/bots.js';
import { FileList } from './Attachments.jsx';
import { fmtDateTime, relTime } from '../../../ui-shared/time.js';
import { humanize, parseUA, visitorName } from '../lib/util.js';
import { Avatar, Bdi, SafeLink, Spinner } from './common.jsx';
import { Icon } from './icons.jsx';
import { Journey, VisitorFacts, useVisitorContext } from './VisitorContext.jsx';

function Row({ label, children, testid }) {
  return (
    <div class="kv" data-testid={testid}>
      <dt title={label}>
        <Bdi text={label} />
      </dt>
      <dd>{children}</dd>
    </div>
  );
}

function valueText(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function VisitorPanel({ id }) {
  const c = S.convs.get(id);
  useEffect(() => {
    loadConvFiles(id);
  }, [id]);
  const visitorId = c && c.visitor ? c.visitor.id : null;
  useVisitorContext(visitorId);
  if (!c) return null;
  const files = S.convFiles.get(id);
  const fileCount = files && files.files ? files.files.length : 0;
  const v = c.visitor || {};
  const name = visitorName(c);
  const ua = parseUA(v.user_agent);
  const attrs = v.attributes && typeof v.attributes === 'object' ? Object.entries(v.attributes) : [];
  const prechat = c.prechat && typeof c.prechat === 'object' ? Object.entries(c.prechat) : [];
  const details = S.details.get(id);
  const earlier = details && details.earlier ? details.earlier : [];
  // The context's visitor (GET /api/visitors/{id}/context) is fresher than the conversation's block.
  const ctx = visitorId ? S.visitorCtx.get(visitorId) : null;
  const cv = ctx && ctx.data && ctx.data.visitor ? { ...v, ...ctx.data.visitor } : v;
  const device = cv.device && Object.keys(cv.device).length ? cv.device : null;
  // A chat started without a page (over the socket alone): the journey's open page and referrer.
  const visit = ctx && ctx.data && Array.isArray(ctx.data.visits) ? ctx.data.visits[0] : null;
  const visitPages = (visit && visit.pages) || [];
  const pageUrl = c.page_url || (cv.online && visitPages.length ? visitPages[visitPages.length - 1].url : null);
  const referrer = c.referrer || (visit && visit.referrer) || null;
  return (
    <aside class="visitor-panel" aria-label={t('vpLabel')} data-testid="visitor-panel">
      <div class="vp-head">
        <Avatar name={name} seed={`v${v.id || c.id}`} size={52} />
        <div class="vp-name" data-testid="visitor-name">
          <Bdi text={name} />
        </div>
        {v.verified ? (
          <div class="verified-badge" data-testid="verified">
            <Icon name="verified" size={14} /> {t('vpVerified')}
          </div>
        ) : (
          <div class="unverified">{t('vpUnverified')}</div>
        )}
        {c.bot ? (
          <div class="vp-bot" data-testid="visitor-bot">
            <Icon name="bot" size={14} />
            <span>{botSentence(c, { start: true })}</span>
          </div>
        ) : null}
      </div>

      <VisitorFacts v={cv} />
      <Journey visitorId={visitorId} online={!!cv.online} />

      <section class="vp-section">
        <h3>{t('vpContact')}</h3>
        <dl>
          <Row label={t('vpEmail')} testid="visitor-email">
            {v.email ? <Bdi class="selectable ellipsis" title={v.email} text={v.email} /> : <span class="muted">{t('vpNotGiven')}</span>}
          </Row>
          {v.external_id ? (
            <Row label={t('vpUserId')}>
              <span class="mono">{v.external_id}</span>
            </Row>
          ) : null}
          <Row label={t('vpVisitor')}>#{v.id}</Row>
        </dl>
      </section>

      <section class="vp-section">
        <h3>{t('vpSession')}</h3>
        <dl>
          <Row label={t('vpCurrentPage')} testid="visitor-page">
            {pageUrl ? <SafeLink url={pageUrl} /> : <span class="muted">{t('vpUnknown')}</span>}
          </Row>
          <Row label={t('vpReferrer')} testid="visitor-referrer">
            {referrer ? <SafeLink url={referrer} /> : <span class="muted">{t('vpDirect')}</span>}
          </Row>
          {device ? null : (
            <>
              <Row label={t('vpBrowser')} testid="visitor-browser">
                {ua.browser || <span class="muted">{t('vpUnknown')}</span>}
              </Row>
              <Row label={t('vpSystem')} testid="visitor-os">
                {ua.os ? ua.mobile ? t('vpMobile', { os: ua.os }) : ua.os : <span class="muted">{t('vpUnknown')}</span>}
              </Row>
            </>
          )}
          {v.user_agent ? (
            <details class="ua">
              <summary>{t('vpUserAgent')}</summary>
              <code data-testid="visitor-ua">{v.user_agent}</code>
            </details>
          ) : null}
          <Row label={t('vpStarted')}>{fmtDateTime(c.created_at)}</Row>
          {c.offline ? <Row label={t('vpLeftAs')}>{t('vpOfflineMessage')}</Row> : null}
          {c.rating ? (
            <Row label={t('vpRating')}>
              <span class={`rating rating-${c.rating}`}>
                <Icon name={c.rating === 'good' ? 'thumbUp' : 'thumbDown'} size={14} /> {c.rating === 'good' ? t('vpRatingGood') : t('vpRatingBad')}
              </span>
              {c.rating_comment ? (
                <div class="rating-comment">
                  “<Bdi text={c.rating_comment} />”
                </div>
              ) : null}
            </Row>
          ) : null}
        </dl>
      </section>

      {prechat.length ? (
        <section class="vp-section" data-testid="prechat">
          <h3>{t('vpPrechat')}</h3>
          <dl>
            {prechat.map(([k, val]) => (
              <Row key={k} label={humanize(k)}>
                <Bdi class="selectable" text={valueText(val)} />
              </Row>
            ))}
          </dl>
        </section>
      ) : null}

      <section class="vp-section" data-testid="attributes">
        <h3>{t('vpAttributes')}</h3>
        {attrs.length ? (
          <dl>
            {attrs.map(([k, val]) => (
              <Row key={k} label={k}>
                <Bdi class="selectable" text={valueText(val)} />
              </Row>
            ))}
          </dl>
        ) : (
          <p class="muted small">{t('vpNoAttributes')}</p>
        )}
      </section>

      <section class="vp-section" data-testid="visitor-files">
        <h3>
          {t('files')} {fileCount ? <span class="count-soft">{fileCount}</span> : null}
        </h3>
        {files && files.loading && !files.files ? <Spinner /> : null}
        <FileList state={files} />
      </section>

      <section class="vp-section" data-testid="earlier">
        <h3>
          {t('vpEarlier')} {earlier.length ? <span class="count-soft">{earlier.length}</span> : null}
        </h3>
        {details && details.loading && !details.earlier ? <Spinner /> : null}
        {details && details.error ? <p class="error-text small">{details.error}</p> : null}
        {earlier.length ? (
          <ul class="earlier">
            {earlier.map((e) => (
              <li key={e.id}>
                <button type="button" class="earlier-item" onClick={() => select(e.id)}>
                  <span class={`pill pill-${e.status}`}>{statusText(e.status)}</span>
                  <span class="earlier-text">
                    #{e.id}
                    {e.assignee ? (
                      <>
                        {' · '}
                        <Bdi text={e.assignee.name} />
                      </>
                    ) : (
                      ''
                    )}
                  </span>
                  <span class="muted">{relTime(e.created_at)}</span>
                </button>
              </li>
            ))}
          </ul>
        ) : details && !details.loading ? (
          <p class="muted small">{t('vpFirstConversation')}</p>
        ) : null}
      </section>
    </aside>
  );
}
