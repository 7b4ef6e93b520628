/**
 * The tus 1.0 protocol under /tus/: core, creation, creation-with-upload, expiration, checksum
 * (sha1, sha256, md5) and termination. The target path comes from Upload-Metadata: `path` (the full
 * path in the wallet) or `filename` (+ optional `folder`); missing folders are created at the end.
 */
import type { Principal } from '../auth/accounts.ts';
import type { RequestContext } from '../app.ts';
import { CloudError } from '../errors.ts';
import { checkName, splitPath } from '../storage/paths.ts';
import { TUS_PREFIX, type Upload } from './uploads.ts';

const VERSION = '1.0.0';
const ALGORITHMS: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', md5: 'md5' };
const MAX_SIZE = 2 ** 50;

function parseMetadata(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  if (header.length > 8192) throw new CloudError('BAD_REQUEST', 'Upload-Metadata is too long');
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || !/^[\x21-\x7e]+$/.test(key))
      throw new CloudError('BAD_REQUEST', 'malformed Upload-Metadata');
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      throw new CloudError('BAD_REQUEST', 'Upload-Metadata values are base64');
    out.set(key, value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8'));
  }
  return out;
}

function targetOf(meta: Map<string, string>): string[] {
  const path = meta.get('path');
  if (path) return splitPath(path);
  const filename = meta.get('filename') ?? meta.get('name');
  if (!filename) throw new CloudError('BAD_REQUEST', 'Upload-Metadata needs "path" or "filename"');
  return [...splitPath(meta.get('folder') ?? '/'), checkName(filename)];
}

function uploadHeaders(u: Upload): Record<string, string> {
  return {
    'tus-resumable': VERSION,
    'upload-offset': String(u.offset),
    'upload-length': String(u.length),
    'upload-expires': new Date(u.expires).toUTCString(),
    'cache-control': 'no-store',
  };
}

function parseChecksum(
  header: string | undefined,
): { algorithm: string; digest: string } | undefined {
  if (header === undefined) return undefined;
  const [name, digest] = header.trim().split(' ');
  const algorithm = ALGORITHMS[name?.toLowerCase() ?? ''];
  if (!algorithm || !digest)
    throw new CloudError('BAD_REQUEST', 'Upload-Checksum is "<sha1|sha256|md5> <base64 digest>"');
  return { algorithm, digest };
}

export async function handleTus(
  ctx: RequestContext,
  principal: Principal | undefined,
  rest: string,
): Promise<void> {
  const { req, res, cloud } = ctx;
  res.setHeader('tus-resumable', VERSION);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      'tus-version': VERSION,
      'tus-extension': 'creation,creation-with-upload,expiration,checksum,termination',
      'tus-checksum-algorithm': Object.keys(ALGORITHMS).join(','),
      'tus-max-size': String(MAX_SIZE),
    });
    res.end();
    return;
  }
  if (req.headers['tus-resumable'] !== VERSION) {
    res.setHeader('tus-version', VERSION);
    throw new CloudError('PRECONDITION_FAILED', `send Tus-Resumable: ${VERSION}`);
  }
  const wallet = principal!.address;
  const id = rest.replace(/^\/+/, '');
  const uploads = cloud.uploads;

  if (req.method === 'POST' && id === '') {
    if (req.headers['upload-defer-length'] !== undefined)
      throw new CloudError('BAD_REQUEST', 'deferred length is not supported');
    const lengthHeader = String(req.headers['upload-length'] ?? '');
    if (!/^\d{1,16}$/.test(lengthHeader))
      throw new CloudError('BAD_REQUEST', 'Upload-Length is required');
    const length = Number(lengthHeader);
    if (length > MAX_SIZE) throw new CloudError('TOO_LARGE', `at most ${MAX_SIZE} bytes`);
    const names = targetOf(parseMetadata(req.headers['upload-metadata'] as string | undefined));
    let upload = await uploads.create(
      wallet,
      names,
      length,
      String(req.headers['upload-metadata'] ?? ''),
    );
    const location = `${ctx.origin.origin}${TUS_PREFIX}/${upload.id}`;
    if (req.headers['content-type'] === 'application/offset+octet-stream') {
      upload = await uploads.append(
        upload,
        req,
        parseChecksum(req.headers['upload-checksum'] as string | undefined),
      );
    }
    if (upload.offset === upload.length) await uploads.finish(upload);
    res.writeHead(201, { ...uploadHeaders(upload), location });
    res.end();
    return;
  }
  if (id === '' || id.includes('/')) throw new CloudError('NOT_FOUND', 'no such upload');
  const upload = uploads.get(wallet, id);
  switch (req.method) {
    case 'HEAD':
      res.writeHead(200, uploadHeaders(upload));
      res.end();
      return;
    case 'PATCH': {
      if (req.headers['content-type'] !== 'application/offset+octet-stream')
        throw new CloudError(
          'UNSUPPORTED_MEDIA_TYPE',
          'PATCH needs Content-Type: application/offset+octet-stream',
        );
      const offset = String(req.headers['upload-offset'] ?? '');
      if (!/^\d+$/.test(offset)) throw new CloudError('BAD_REQUEST', 'Upload-Offset is required');
      if (Number(offset) !== upload.offset)
        throw new CloudError('CONFLICT', `the upload is at offset ${upload.offset}`);
      const updated = await uploads.append(
        upload,
        req,
        parseChecksum(req.headers['upload-checksum'] as string | undefined),
      );
      if (updated.offset === updated.length) await uploads.finish(updated);
      res.writeHead(204, uploadHeaders(updated));
      res.end();
      return;
    }
    case 'DELETE':
      await uploads.terminate(upload);
      res.writeHead(204);
      res.end();
      return;
    default:
      throw new CloudError('METHOD_NOT_ALLOWED', `${req.method} is not a tus method`);
  }
}
