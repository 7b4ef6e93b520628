/** Content types by file extension, and which of them may be shown inline. */
const TYPES: Record<string, string> = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  xhtml: 'application/xhtml+xml',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  m4a: 'audio/mp4',
  opus: 'audio/ogg',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
};

export function typeOf(name: string, stored?: string | null): string {
  if (stored) return stored;
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && TYPES[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}

/**
 * Types a browser renders without running anything of the node's origin. Everything else (HTML,
 * SVG, XML, JavaScript, unknown) is served as an attachment; all user content also gets a sandbox CSP.
 */
export function inlineSafe(type: string): boolean {
  const t = type.split(';')[0].trim().toLowerCase();
  if (t === 'image/svg+xml') return false;
  return (
    /^(image|audio|video)\//.test(t) ||
    t === 'text/plain' ||
    t === 'text/markdown' ||
    t === 'text/csv' ||
    t === 'application/pdf' ||
    t === 'application/json'
  );
}
