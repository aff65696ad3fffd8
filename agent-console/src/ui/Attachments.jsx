// Files in the console: the attachments of a message or note (raster images
// as previews that open the zoom view, other files as cards that download,
// removed files as a line saying so), the zoom view itself, the files
// attached to the message being written (uploading, uploaded, failed) and
// the conversation's file list in the visitor panel.
//
// A file's `url` is on this server and the session cookie authenticates it,
// so it goes straight into <img src> and <a href download>. Names come from
// people: always inside a <bdi>, never parsed.

import { useRef, useState } from 'preact/hooks';
import { fmtBytes, isRaster } from '../../../ui-shared/files.js';
import { isolate } from '../../../ui-shared/bidi.js';
import { fmtTime, ts } from '../../../ui-shared/time.js';
import { closeDialog, removeStaged, retryable, retryUpload, stagedFor, uploadErrorText, zoomImage } from '../store/index.js';
import { fitBox, typeTag } from '../lib/filetypes.js';
import { lang, t } from '../lib/i18n.js';
import { Bdi, useDialog } from './common.jsx';
import { Icon } from './icons.jsx';

const size = (n) => fmtBytes(n, lang());

/** When a file was sent, short: the time today, else the day ("3 Mar", "3月2日"), in the console's language. */
function when(iso) {
  const v = ts(iso);
  if (!v) return '';
  const d = new Date(v);
  if (d.toDateString() === new Date().toDateString()) return fmtTime(iso);
  return d.toLocaleDateString(lang(), { day: 'numeric', month: 'short' });
}

/** The whole date and time, for a tooltip. */
const whenFull = (iso) => (ts(iso) ? new Date(ts(iso)).toLocaleString(lang()) : '');

function ImagePreview({ f }) {
  const [broken, setBroken] = useState(false);
  const box = fitBox(f.width, f.height);
  const style = { width: `${box.w}px`, aspectRatio: `${box.w} / ${box.h}` };
  if (broken) {
    return (
      <div class="att-image att-broken" style={style} data-testid="att-image-broken">
        <Icon name="image" size={22} />
        <span>{t('imageUnavailable')}</span>
      </div>
    );
  }
  return (
    <button
      type="button"
      class="att-image"
      style={style}
      onClick={() => zoomImage(f)}
      aria-label={t('openImage', { name: isolate(f.name || '') })}
      title={f.name}
      data-testid="att-image"
      data-id={f.id}
    >
      <img src={f.url} alt={f.name || ''} width={box.w} height={box.h} decoding="async" onError={() => setBroken(true)} />
    </button>
  );
}

/** A file that is not shown inline: a card that downloads it. */
export function FileCard({ f }) {
  const tag = typeTag(f.type, f.name);
  return (
    <a
      class="att-file"
      href={f.url}
      download={f.name || 'file'}
      title={t('downloadName', { name: isolate(f.name || '') })}
      data-testid="att-file"
      data-id={f.id}
    >
      <span class="att-file-icon" aria-hidden="true">
        <Icon name="file" size={26} />
        {tag ? <span class="att-tag">{tag.slice(0, 4)}</span> : null}
      </span>
      <span class="att-file-text">
        <Bdi class="att-name" text={f.name || t('aFile')} />
        <span class="att-meta">
          {size(f.size)}
          {tag ? ` · ${tag}` : ''}
        </span>
      </span>
      <Icon name="download" size={17} class="att-dl" />
    </a>
  );
}

function Removed({ f }) {
  return (
    <div class="att-removed" data-testid="att-removed">
      <Icon name="fileOff" size={16} />
      <span>{t('fileRemoved')}</span>
      {f.name ? <Bdi class="att-removed-name" text={f.name} /> : null}
    </div>
  );
}

/** The files of a message or note. */
export function Attachments({ files }) {
  if (!Array.isArray(files) || !files.length) return null;
  return (
    <div class="attachments" data-testid="attachments">
      {files.map((f) =>
        f.removed || !f.url ? <Removed key={f.id} f={f} /> : isRaster(f.type) ? <ImagePreview key={f.id} f={f} /> : <FileCard key={f.id} f={f} />,
      )}
    </div>
  );
}

/** The zoom view of an image: the whole image over the console; Escape, the close button or a click beside it closes it. */
export function ImageZoom({ file }) {
  const box = useRef(null);
  useDialog(box, closeDialog);
  const f = file || {};
  const meta = [size(f.size), f.width && f.height ? `${f.width} × ${f.height}` : ''].filter(Boolean).join(' · ');
  // Tab stays inside: the download link and the close button.
  const onKeyDown = (e) => {
    if (e.key !== 'Tab' || !box.current) return;
    const items = [...box.current.querySelectorAll('a[href], button')];
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div
      class="zoom-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget || e.target.classList.contains('zoom-stage')) closeDialog();
      }}
    >
      <div class="zoom" role="dialog" aria-modal="true" aria-label={isolate(f.name || t('image'))} ref={box} onKeyDown={onKeyDown} data-testid="zoom">
        <div class="zoom-bar">
          <span class="zoom-title">
            <Bdi class="zoom-name" text={f.name || ''} />
            <span class="zoom-meta">{meta}</span>
          </span>
          <a class="btn small zoom-download" href={f.url} download={f.name || 'image'} data-testid="zoom-download">
            <Icon name="download" size={15} />
            <span class="label">{t('download')}</span>
          </a>
          <button type="button" class="icon-btn zoom-close" onClick={closeDialog} aria-label={t('closeImage')} autofocus data-testid="zoom-close">
            <Icon name="x" />
          </button>
        </div>
        <div class="zoom-stage">
          <img src={f.url} alt={f.name || ''} width={f.width || undefined} height={f.height || undefined} />
        </div>
      </div>
    </div>
  );
}

/** The files attached to the message being written: progress and cancel, errors, remove. */
export function StagedFiles({ id }) {
  const list = stagedFor(id);
  if (!list.length) return null;
  return (
    <ul class="staged" aria-label={t('attachedFiles')} data-testid="staged">
      {list.map((u) => {
        const pct = u.state === 'done' ? 100 : u.total > 0 ? Math.min(100, Math.floor((u.sent / u.total) * 100)) : 0;
        const name = isolate(u.name);
        return (
          <li key={u.key} class={`staged-item staged-${u.state}`} data-testid="staged-item" data-state={u.state} data-name={u.name}>
            <span class="staged-thumb" aria-hidden="true">
              {u.preview ? <img src={u.preview} alt="" /> : <Icon name="file" size={20} />}
            </span>
            <span class="staged-text">
              <Bdi class="staged-name" text={u.name} />
              {u.state === 'uploading' ? (
                <span class="staged-progress">
                  <span
                    class="bar"
                    role="progressbar"
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow={String(pct)}
                    aria-label={t('uploadingName', { name })}
                    data-testid="upload-progress"
                  >
                    <span class="fill" style={{ width: `${pct}%` }} />
                  </span>
                  <span class="pct" data-testid="upload-pct">
                    {pct >= 100 ? t('checking') : `${pct}%`}
                  </span>
                </span>
              ) : u.state === 'failed' ? (
                <span class="staged-error" role="alert" data-testid="upload-error">
                  {uploadErrorText(u.error)}
                </span>
              ) : (
                <span class="staged-meta">{size(u.file ? u.file.size : u.size)}</span>
              )}
            </span>
            {u.state === 'failed' && retryable(u.error) ? (
              <button type="button" class="link-btn" onClick={() => retryUpload(id, u.key)} data-testid="upload-retry">
                {t('retry')}
              </button>
            ) : null}
            <button
              type="button"
              class="icon-btn staged-x"
              aria-label={u.state === 'uploading' ? t('cancelUploadName', { name }) : t('removeFileName', { name })}
              title={u.state === 'uploading' ? t('cancelUpload') : t('removeFile')}
              onClick={() => removeStaged(id, u.key)}
              data-testid={u.state === 'uploading' ? 'upload-cancel' : 'staged-remove'}
            >
              <Icon name="x" size={14} />
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function authorLabel(f) {
  const a = f.author || {};
  if (a.kind === 'visitor') return a.name || t('theVisitor');
  if (a.kind === 'agent') return a.name || t('anAgent');
  if (a.kind === 'api') return 'API';
  if (a.kind === 'bot') return a.name || t('aBot');
  return a.name || '';
}

/** The visitor panel's list of the conversation's files. */
export function FileList({ state }) {
  const files = (state && state.files) || [];
  return (
    <>
      {state && state.error ? <p class="error-text small">{state.error}</p> : null}
      {files.length ? (
        <ul class="vp-files" data-testid="vp-files">
          {files.map((f) => {
            const removed = f.removed || !f.url;
            const who = authorLabel(f);
            return (
              <li key={f.id} class={`vp-file ${f.kind === 'note' ? 'vp-file-note' : ''}`} data-testid="vp-file" data-id={f.id} data-kind={f.kind}>
                <span class="vp-file-icon" aria-hidden="true">
                  {!removed && isRaster(f.type) ? <img src={f.url} alt="" loading="lazy" /> : <Icon name={removed ? 'fileOff' : 'file'} size={18} />}
                </span>
                <span class="vp-file-text">
                  {removed ? (
                    <span class="vp-file-name muted">
                      <Bdi text={f.name || ''} />
                    </span>
                  ) : (
                    <a class="vp-file-name" href={f.url} download={f.name || 'file'} title={t('downloadName', { name: isolate(f.name || '') })}>
                      <Bdi text={f.name || t('aFile')} />
                    </a>
                  )}
                  <span class="vp-file-meta" title={whenFull(f.created_at)}>
                    {removed ? t('fileRemoved') : size(f.size)}
                    {who ? (
                      <>
                        {' · '}
                        <Bdi text={who} />
                      </>
                    ) : null}
                    {f.created_at ? ` · ${when(f.created_at)}` : ''}
                  </span>
                  {f.kind === 'note' ? (
                    <span class="vp-file-internal" data-testid="vp-file-internal">
                      <Icon name="note" size={12} /> {t('internalFile')}
                    </span>
                  ) : null}
                </span>
              </li>
            );
          })}
        </ul>
      ) : state && !state.loading && !state.error ? (
        <p class="muted small">{t('noFilesYet')}</p>
      ) : null}
    </>
  );
}
