// files: what both front ends do with attachments. Uploading one file as a
// raw request body (never multipart) with progress and cancel, the check a
// browser can make before uploading (size, and type where the browser knows
// it), and a file size as people read it. The server decides in any case:
// it sniffs the bytes and applies the site's limits.

/** Raster types the server serves inline and the UIs preview. */
const RASTER = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export const isRaster = (type) => RASTER.has(type);

// The browser's guess (from the name) mapped to the server's catalogue;
// only where the guess is reliable enough to refuse before uploading.
const GUESS = {
  'image/png': 'image/png',
  'image/jpeg': 'image/jpeg',
  'image/gif': 'image/gif',
  'image/webp': 'image/webp',
  'image/svg+xml': 'image/svg+xml',
  'application/pdf': 'application/pdf',
  'text/html': 'text/html',
};

/**
 * Whether a file may be sent, as far as the browser can tell: null, or
 * {code: 'too_big', max} or {code: 'type'}. limits: the site's
 * {max_bytes, types}; missing limits allow everything.
 */
export function precheck(file, limits) {
  if (!limits) return null;
  if (typeof limits.max_bytes === 'number' && file.size > limits.max_bytes) return { code: 'too_big', max: limits.max_bytes };
  const guess = GUESS[file.type];
  if (guess && Array.isArray(limits.types) && !limits.types.includes(guess)) {
    if (!limits.types.includes('application/octet-stream')) return { code: 'type' };
  }
  return null;
}

/** "512 B", "3.4 KB", "25 MB" (1024-based: the 25 MiB default limit reads "25 MB"). */
export function fmtBytes(n, lang) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 10 ? 0 : 1;
  return `${v.toLocaleString(lang || undefined, { maximumFractionDigits: digits })} ${units[i]}`;
}

/** An upload failure: status (0 when the network failed or it was cancelled), the problem's slug and detail. */
export class UploadError extends Error {
  constructor(status, problem, cancelled) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || (cancelled ? 'cancelled' : status ? `HTTP ${status}` : 'network error'));
    this.status = status;
    this.slug = cancelled ? 'cancelled' : typeof p.type === 'string' ? p.type.replace(/^urn:parley:problem:/, '') : status ? 'http' : 'network';
    this.problem = p;
  }
}

/**
 * Uploads file (a File or Blob) to POST url (which carries conversation_id
 * and name) as the raw body. headers: extra request headers (the visitor's
 * Authorization, the console's X-CSRF-Token). onProgress(sent, total) as
 * bytes go out. Returns {done, abort}: done resolves with the server's
 * File object or rejects with UploadError; abort() cancels (the server
 * then keeps nothing).
 */
export function upload(url, file, { headers = {}, onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  let cancelled = false;
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let doc;
      try {
        doc = JSON.parse(xhr.responseText);
      } catch {
        doc = null;
      }
      if (xhr.status === 201 && doc && doc.file && typeof doc.file.id === 'string') resolve(doc.file);
      else reject(new UploadError(xhr.status, doc, false));
    };
    xhr.onerror = () => reject(new UploadError(0, null, cancelled));
    xhr.onabort = () => reject(new UploadError(0, null, true));
    xhr.send(file);
  });
  return {
    done,
    abort: () => {
      cancelled = true;
      xhr.abort();
    },
  };
}

/** The upload URL for a conversation and a file name. */
export const uploadUrl = (base, conversationId, name) =>
  `${base}?conversation_id=${encodeURIComponent(conversationId)}&name=${encodeURIComponent(name || 'file')}`;

/**
 * The files a drop or a paste carries (DataTransfer), at most max. Pasted
 * images arrive without a useful name: they get one ("pasted-image.png").
 */
export function filesOf(dataTransfer, max) {
  const out = [];
  if (!dataTransfer) return out;
  for (const f of Array.from(dataTransfer.files || [])) {
    if (out.length >= max) break;
    if (!f.name || f.name === 'image.png') {
      const ext = (f.type.split('/')[1] || 'bin').replace(/[^a-z0-9]/g, '');
      out.push(new File([f], `pasted-image.${ext}`, { type: f.type }));
    } else out.push(f);
  }
  return out;
}
