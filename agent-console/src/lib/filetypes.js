// The file types a site may allow (the catalogue of the files contract, in
// its order), each with the i18n key of its readable label and a short tag
// for file cards ("PDF", "Word"). Also the box an image preview takes before
// it loads, from the width and height the server measured.

import { t } from './i18n.js';

export const FILE_TYPES = [
  { type: 'image/png', label: 'ftPng', tag: 'PNG', group: 'images' },
  { type: 'image/jpeg', label: 'ftJpeg', tag: 'JPEG', group: 'images' },
  { type: 'image/gif', label: 'ftGif', tag: 'GIF', group: 'images' },
  { type: 'image/webp', label: 'ftWebp', tag: 'WebP', group: 'images' },
  { type: 'application/pdf', label: 'ftPdf', tag: 'PDF', group: 'documents' },
  { type: 'text/plain', label: 'ftText', tag: 'TXT', group: 'documents' },
  { type: 'text/csv', label: 'ftCsv', tag: 'CSV', group: 'documents' },
  { type: 'application/zip', label: 'ftZip', tag: 'ZIP', group: 'other' },
  { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', label: 'ftDocx', tag: 'Word', group: 'documents' },
  { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', label: 'ftXlsx', tag: 'Excel', group: 'documents' },
  { type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', label: 'ftPptx', tag: 'PowerPoint', group: 'documents' },
  { type: 'application/vnd.oasis.opendocument.text', label: 'ftOdt', tag: 'ODT', group: 'documents' },
  { type: 'application/vnd.oasis.opendocument.spreadsheet', label: 'ftOds', tag: 'ODS', group: 'documents' },
  { type: 'application/vnd.oasis.opendocument.presentation', label: 'ftOdp', tag: 'ODP', group: 'documents' },
  { type: 'application/x-ole-storage', label: 'ftOle', tag: 'Office', group: 'documents' },
  { type: 'image/svg+xml', label: 'ftSvg', tag: 'SVG', group: 'other', risky: true },
  { type: 'application/octet-stream', label: 'ftAny', tag: '', group: 'other', risky: true },
];

const BY_TYPE = new Map(FILE_TYPES.map((f) => [f.type, f]));

/** "PDF", "Word", or the name's extension ("TAR"), or "" when there is none. */
export function typeTag(type, name) {
  const known = BY_TYPE.get(type);
  if (known && known.tag) return known.tag;
  const m = /\.([a-z0-9]{1,8})$/i.exec(String(name || ''));
  return m ? m[1].toUpperCase() : '';
}

/**
 * The size of an image preview: the image's own size scaled down to fit
 * maxW x maxH (never up), so that the box is right before the image loads.
 */
export function fitBox(width, height, maxW = 300, maxH = 220) {
  const w = Number(width) || 0;
  const h = Number(height) || 0;
  if (w <= 0 || h <= 0) return { w: Math.round(maxW * 0.66), h: Math.round(maxH * 0.66) };
  const s = Math.min(1, maxW / w, maxH / h);
  return { w: Math.max(1, Math.round(w * s)), h: Math.max(1, Math.round(h * s)) };
}

/**
 * What a message says in one line (list previews, notifications): its body,
 * or, when it only carries files, the file's name or how many there are.
 */
export function messageSummary(m) {
  if (!m) return '';
  if (m.body) return m.body;
  const files = Array.isArray(m.attachments) ? m.attachments : [];
  if (!files.length) return '';
  return files.length === 1 ? t('fileSummary', { name: files[0].name || t('aFile') }) : t('filesSummary', { n: files.length });
}
