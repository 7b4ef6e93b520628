/** The node's JSON API (docs/cloud.md, "JSON API"), always same-origin with the session cookie. */
export interface Entry {
  id: number;
  name: string;
  path: string;
  dir: boolean;
  size: number;
  mtime: number;
  created: number;
  etag: string;
  type: string | null;
}

export interface Folder extends Entry {
  entries: Entry[];
}

export interface Quota {
  used: number;
  quota: number;
  available: number;
}

export interface Me {
  address: string;
  role: 'owner' | 'member';
  via: string;
  quota: Quota;
}

export interface NodeInfo {
  origin: string;
  claimed: boolean;
  signIn: { domain: string; uri: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads an API answer; a failure becomes an ApiError with the server's stable code and message. */
export async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok)
    throw new ApiError(
      res.status,
      json?.error?.code ?? `HTTP_${res.status}`,
      json?.error?.message ?? (res.statusText || 'request failed'),
    );
  return json as T;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the node could not be reached; check your connection');
  }
  return answer<T>(res);
}

const q = encodeURIComponent;

export const files = {
  list: (path: string) => api<Folder>('GET', `/api/files?path=${q(path)}`),
  mkdir: (path: string) => api<Entry>('POST', '/api/files/mkdir', { path }),
  move: (from: string, to: string) => api<Entry>('POST', '/api/files/move', { from, to }),
  copy: (from: string, to: string) => api<Entry>('POST', '/api/files/copy', { from, to }),
  remove: (path: string) => api<{ trashId: number }>('POST', '/api/files/delete', { path }),
};

/** The content URL of a file: inline (served under the sandbox CSP), as a download, or for a framed preview. */
export function contentUrl(
  path: string,
  o: { download?: boolean; preview?: boolean; version?: number } = {},
): string {
  const base =
    o.version === undefined
      ? `/api/files/content?path=${q(path)}`
      : `/api/versions/content?path=${q(path)}&id=${o.version}`;
  return base + (o.download ? '&download=1' : '') + (o.preview ? '&preview=1' : '');
}

/** "/a/b/c.txt" → "/a/b"; "/x" → "/". */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export const joinPath = (folder: string, name: string): string =>
  folder === '/' ? `/${name}` : `${folder}/${name}`;
