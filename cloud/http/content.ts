/**
 * Serves stored content with ETag, Last-Modified, conditional GET, If-Range and single byte ranges,
 * streaming from disk. User content never runs as the node's origin: a sandbox CSP on everything,
 * nosniff, and active types (HTML, SVG, …) as attachments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import type { BlobStore } from '../storage/blobs.ts';
import { inlineSafe, typeOf } from './mime.ts';

export interface Servable {
  blob: string | null;
  size: number;
  mtime: number;
  etag: string;
  name: string;
  type: string | null;
}

export const USER_CONTENT_CSP =
  "sandbox; default-src 'none'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'unsafe-inline'";

export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const httpDate = (ms: number): string => new Date(ms).toUTCString();
const seconds = (ms: number): number => Math.floor(ms / 1000);

export function etagMatches(header: string | undefined, etag: string, weak = true): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const strip = (t: string): string => (weak ? t.replace(/^W\//, '') : t);
  return header.split(',').some((t) => strip(t.trim()) === strip(etag));
}

/** Parses one `bytes=` range; null when absent or unusable (multi-range: the whole body is sent). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || !Number.isSafeInteger(start)) return 'unsatisfiable';
  return { start, end };
}

export async function serveContent(
  req: IncomingMessage,
  res: ServerResponse,
  blobs: BlobStore,
  item: Servable,
  opts: { forceAttachment?: boolean; extraHeaders?: Record<string, string> } = {},
): Promise<void> {
  const type = typeOf(item.name, item.type);
  const inline = !opts.forceAttachment && inlineSafe(type);
  const headers: Record<string, string | number> = {
    'content-type': type,
    etag: item.etag,
    'last-modified': httpDate(item.mtime),
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
    'content-security-policy': USER_CONTENT_CSP,
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', item.name),
    'cache-control': 'private, no-cache',
    ...opts.extraHeaders,
  };
  const inm = req.headers['if-none-match'];
  const ims = req.headers['if-modified-since'];
  const notModified = inm
    ? etagMatches(inm, item.etag)
    : !!ims && !Number.isNaN(Date.parse(ims)) && seconds(item.mtime) <= seconds(Date.parse(ims));
  if (notModified) {
    const { 'content-type': _t, 'content-disposition': _d, ...rest } = headers;
    res.writeHead(304, rest);
    res.end();
    return;
  }
  let range = parseRange(req.headers.range, item.size);
  const ifRange = req.headers['if-range'] as string | undefined;
  if (range && ifRange) {
    const valid =
      ifRange.startsWith('"') || ifRange.startsWith('W/')
        ? !ifRange.startsWith('W/') && ifRange === item.etag
        : !Number.isNaN(Date.parse(ifRange)) &&
          seconds(Date.parse(ifRange)) === seconds(item.mtime);
    if (!valid) range = null;
  }
  if (range === 'unsatisfiable') {
    res.writeHead(416, {
      'content-range': `bytes */${item.size}`,
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
    });
    res.end(
      JSON.stringify({
        error: { code: 'RANGE_NOT_SATISFIABLE', message: `the file has ${item.size} bytes` },
      }),
    );
    return;
  }
  const head = req.method === 'HEAD';
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${item.size}`;
    headers['content-length'] = range.end - range.start + 1;
    res.writeHead(206, headers);
  } else {
    headers['content-length'] = item.size;
    res.writeHead(200, headers);
  }
  if (head || item.size === 0 || !item.blob) {
    res.end();
    return;
  }
  try {
    await sendFile(
      blobs.path(item.blob),
      res,
      range ? range.start : 0,
      range ? range.end + 1 : item.size,
    );
  } catch {
    // The client went away or the disk failed mid-body: the socket is closed either way.
    res.destroy();
  }
}

const CHUNK = 1024 * 1024;

/**
 * Streams [start, end) of a file with two reused 1 MiB buffers: the next read overlaps the current
 * write, and a buffer is refilled only after the socket took it. Nothing is allocated per chunk, so
 * a multi-GiB download neither grows the heap nor waits for the collector.
 */
export async function sendFile(
  path: string,
  res: ServerResponse,
  start: number,
  end: number,
): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let pos = start;
    let i = 0;
    let pending: Promise<void> | undefined;
    let next = fh.read(buffers[0], 0, Math.min(CHUNK, end - pos), pos);
    while (pos < end) {
      const { bytesRead } = await next;
      if (bytesRead === 0) throw new Error('the file ended early');
      const buf = buffers[i];
      pos += bytesRead;
      if (pending) await pending;
      if (res.destroyed) throw new Error('the client went away');
      pending = new Promise<void>((resolve, reject) =>
        res.write(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead), (e) =>
          e ? reject(e) : resolve(),
        ),
      );
      i ^= 1;
      if (pos < end) next = fh.read(buffers[i], 0, Math.min(CHUNK, end - pos), pos);
    }
    if (pending) await pending;
    await new Promise<void>((resolve) => res.end(resolve));
  } finally {
    await fh.close();
  }
}
