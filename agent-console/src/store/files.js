// files: attachments on the console's side. The files the agent attaches to
// the reply or note being written, per conversation: each is uploaded at
// once (ui-shared/files.js: raw body over XHR, progress, cancel) and waits,
// uploaded, until the message or note that carries it is sent. Each
// conversation's list of files for the visitor panel. Opening an image in
// the zoom view. Owns S.uploads and S.convFiles.
//
// Uploads survive switching conversations (they live here, not in the
// composer); they do not survive a reload (a file uploaded and never sent is
// swept by the server).

import { UploadError, filesOf, fmtBytes, upload, uploadUrl } from '../../../ui-shared/files.js';
import { csrfHeaders, get, unauthorized } from '../lib/api.js';
import { lang, t } from '../lib/i18n.js';
import { S, changed } from './state.js';
import { openDialog, toast } from './view.js';

/** At most this many files go with one message (the server's limit). */
export const MAX_ATTACHMENTS = 10;

const NONE = [];
let keySeq = 0;

/** The files attached to what is being written in a conversation, in order. */
export function stagedFor(id) {
  return S.uploads.get(id) || NONE;
}

function setStaged(id, list) {
  if (list.length) S.uploads.set(id, list);
  else S.uploads.delete(id);
  changed();
}

function update(id, key, fields) {
  setStaged(
    id,
    stagedFor(id).map((u) => (u.key === key ? { ...u, ...fields } : u)),
  );
}

/** Attaches files (File objects) to the message being written in a conversation; each starts uploading. */
export function attachFiles(id, files) {
  const list = stagedFor(id);
  const room = MAX_ATTACHMENTS - list.length;
  const take = Array.from(files || []).slice(0, Math.max(0, room));
  if (files.length > take.length) toast(t('tooManyFiles', { max: MAX_ATTACHMENTS }), 'error');
  if (!take.length) return;
  const added = take.map((blob) => ({
    key: `u${++keySeq}`,
    blob,
    name: blob.name || 'file',
    size: blob.size,
    localType: blob.type || '',
    preview: /^image\/(png|jpeg|gif|webp)$/.test(blob.type || '') ? URL.createObjectURL(blob) : null,
    state: 'uploading',
    sent: 0,
    total: blob.size,
    error: null,
    file: null,
    abort: null,
  }));
  setStaged(id, [...list, ...added]);
  for (const u of added) start(id, u.key);
}

/** The files a drop or a paste carries (DataTransfer), attached to a conversation's message. */
export function attachTransfer(id, dataTransfer) {
  const files = filesOf(dataTransfer, MAX_ATTACHMENTS + 1);
  if (files.length) attachFiles(id, files);
  return files.length;
}

function start(id, key) {
  const u = stagedFor(id).find((x) => x.key === key);
  if (!u) return;
  const job = upload(uploadUrl('/api/files', id, u.name), u.blob, {
    headers: csrfHeaders(),
    onProgress: (sent, total) => {
      const cur = stagedFor(id).find((x) => x.key === key);
      if (cur && cur.state === 'uploading') update(id, key, { sent, total: total || cur.total });
    },
  });
  update(id, key, { state: 'uploading', sent: 0, error: null, abort: job.abort });
  job.done.then(
    (file) => update(id, key, { state: 'done', sent: u.size, file, abort: null }),
    (e) => {
      const err = e instanceof UploadError ? e : new UploadError(0, null, false);
      if (err.slug === 'cancelled') return; // removed by the agent
      if (err.status === 401) unauthorized();
      update(id, key, { state: 'failed', error: err, abort: null });
    },
  );
}

/** Uploads again a file whose upload failed. */
export function retryUpload(id, key) {
  const u = stagedFor(id).find((x) => x.key === key);
  if (u && u.state === 'failed') start(id, key);
}

/** Cancels an upload in progress, or takes an uploaded file off the message. */
export function removeStaged(id, key) {
  const u = stagedFor(id).find((x) => x.key === key);
  if (!u) return;
  if (u.abort) u.abort();
  if (u.preview) URL.revokeObjectURL(u.preview);
  setStaged(
    id,
    stagedFor(id).filter((x) => x.key !== key),
  );
}

/** A new session, or none: uploads under way are cancelled, lists forgotten. */
export function resetFiles() {
  for (const list of S.uploads.values()) {
    for (const u of list) {
      if (u.abort) u.abort();
      if (u.preview) URL.revokeObjectURL(u.preview);
    }
  }
  S.uploads = new Map();
  S.convFiles = new Map();
  refetch.clear();
}

/** Whether any file of a conversation's message is still uploading. */
export function uploading(id) {
  return stagedFor(id).some((u) => u.state === 'uploading');
}

/**
 * The uploaded files (server File objects) of a conversation's message, taken
 * off the composer because the message that carries them was queued.
 */
export function takeUploaded(id) {
  const list = stagedFor(id);
  const done = list.filter((u) => u.state === 'done');
  for (const u of done) if (u.preview) URL.revokeObjectURL(u.preview);
  setStaged(
    id,
    list.filter((u) => u.state !== 'done'),
  );
  return done.map((u) => u.file);
}

const fmtSize = (n) => fmtBytes(n, lang());

/** Why an upload failed, for the agent. */
export function uploadErrorText(err) {
  if (!err) return '';
  switch (err.slug) {
    case 'file_too_large':
      return typeof err.problem.max_bytes === 'number' ? t('errTooLargeMax', { max: fmtSize(err.problem.max_bytes) }) : t('errTooLarge');
    case 'file_type_refused':
      return t('errTypeRefused');
    case 'file_rejected':
      return t('errRejected');
    case 'rate_limited':
      return t('errRateLimited');
    case 'conflict': // 409: the conversation is closed
      return t('errClosed');
    case 'not_found':
      return t('errNoConversation');
    case 'uploads_disabled':
      return t('errUploadsDisabled');
    case 'invalid_request':
      return t('errInvalidName');
    case 'unavailable':
      return t('errUnavailable');
    case 'network':
      return t('errNetwork');
    default:
      return t('errUpload', { detail: err.message });
  }
}

/** Whether trying the same upload again may work. */
export const retryable = (err) => !!err && ['network', 'rate_limited', 'unavailable', 'http'].includes(err.slug);

// ------------------------------------------------------ a conversation's files

const refetch = new Set(); // conversations whose list changed while it was being fetched

/** GET /api/conversations/{id}/files into S.convFiles (the visitor panel). */
export async function loadConvFiles(id, { force = false } = {}) {
  const cur = S.convFiles.get(id);
  if (cur && (cur.loading || (cur.files && !force))) return;
  S.convFiles.set(id, { ...(cur || {}), loading: true });
  changed();
  try {
    const r = await get(`/api/conversations/${id}/files`);
    S.convFiles.set(id, { files: Array.isArray(r.files) ? r.files : [], loading: false, error: null });
  } catch (e) {
    S.convFiles.set(id, { files: cur && cur.files, loading: false, error: e.text || String(e.message) });
  }
  changed();
  if (refetch.delete(id)) loadConvFiles(id, { force: true });
}

/**
 * A message with files arrived in a conversation: its file list is fetched
 * again if it is held (one under way is followed by another).
 */
export function filesChanged(id) {
  const cur = S.convFiles.get(id);
  if (!cur) return;
  if (cur.loading) refetch.add(id);
  else loadConvFiles(id, { force: true });
}

// ----------------------------------------------------------------------- zoom

/** Opens an image attachment in the zoom view. */
export function zoomImage(file) {
  openDialog({ type: 'image', file });
}
