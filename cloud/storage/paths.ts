/**
 * User paths are lists of names, checked here once. A name is NFC-normalised (macOS sends NFD), at
 * most 255 UTF-8 bytes, and never ".", "..", or contains "/", "\", NUL or other control characters;
 * an encoded separator (%2f, %5c) decodes into a name and is refused like the plain one.
 */
import { CloudError } from '../errors.ts';

export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;
export const MAX_DEPTH = 64;

const encoder = new TextEncoder();
// Control characters (C0, DEL, C1), separators of any platform, and the Unicode line/paragraph separators.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f/\\\u2028\u2029]/;

export function checkName(raw: string): string {
  const name = raw.normalize('NFC');
  if (name === '' || name === '.' || name === '..')
    throw new CloudError('INVALID_PATH', `invalid name "${name}"`);
  if (FORBIDDEN.test(name))
    throw new CloudError('INVALID_PATH', 'a name may not contain "/", "\\" or control characters');
  if (encoder.encode(name).length > MAX_NAME_BYTES)
    throw new CloudError('INVALID_PATH', `a name is at most ${MAX_NAME_BYTES} bytes`);
  if (/[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))
    throw new CloudError('INVALID_PATH', 'a name must be valid Unicode');
  return name;
}

/** Splits an already-decoded path ("/a/b/") into checked names. */
export function splitPath(path: string): string[] {
  if (typeof path !== 'string') throw new CloudError('INVALID_PATH', 'a path is a string');
  if (encoder.encode(path).length > MAX_PATH_BYTES)
    throw new CloudError('INVALID_PATH', `a path is at most ${MAX_PATH_BYTES} bytes`);
  if (path.includes('\\') || path.includes('\0'))
    throw new CloudError('INVALID_PATH', 'a path may not contain "\\" or NUL');
  const names = path
    .split('/')
    .filter((s) => s !== '')
    .map(checkName);
  if (names.length > MAX_DEPTH)
    throw new CloudError('INVALID_PATH', `a path is at most ${MAX_DEPTH} levels deep`);
  return names;
}

/** Splits a percent-encoded URL path ("/a%20b/c") into checked names, decoding each segment alone. */
export function splitUrlPath(encoded: string): string[] {
  if (encoded.length > MAX_PATH_BYTES * 3)
    throw new CloudError('INVALID_PATH', `a path is at most ${MAX_PATH_BYTES} bytes`);
  const names: string[] = [];
  for (const segment of encoded.split('/')) {
    if (segment === '') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new CloudError('INVALID_PATH', 'malformed percent-encoding in the path');
    }
    names.push(checkName(decoded));
  }
  if (names.length > MAX_DEPTH)
    throw new CloudError('INVALID_PATH', `a path is at most ${MAX_DEPTH} levels deep`);
  if (encoder.encode(names.join('/')).length > MAX_PATH_BYTES)
    throw new CloudError('INVALID_PATH', `a path is at most ${MAX_PATH_BYTES} bytes`);
  return names;
}

export const joinPath = (names: readonly string[]): string => '/' + names.join('/');

/** Percent-encodes names for a URL (RFC 3986 unreserved characters kept). */
export const encodePath = (names: readonly string[]): string =>
  '/' +
  names
    .map((n) =>
      encodeURIComponent(n).replace(
        /[!'()*]/g,
        (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
      ),
    )
    .join('/');
