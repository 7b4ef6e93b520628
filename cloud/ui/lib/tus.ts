/**
 * A small tus 1.0 client (creation, core PATCH, HEAD to resume, termination). Chunks of 16 MiB keep
 * each request well under the body limits of gateways on the way; the upload URL is remembered per
 * file and target, so the same file picked again after a reload or a cut connection resumes at the
 * offset the node confirmed instead of starting over. XMLHttpRequest is used for its upload progress.
 */
const VERSION = '1.0.0';
export const CHUNK_BYTES = 16 * 1024 * 1024;
const RETRY_MS = [500, 1500, 3000, 6000, 10_000];
const STORE = 'pc2.tus.';

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  header(name: string): string | null;
  text: string;
}

function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | null,
  onProgress?: (sent: number) => void,
  onXhr?: (x: XMLHttpRequest) => void,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Tus-Resumable', VERSION);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () =>
      resolve({
        status: xhr.status,
        header: (n) => xhr.getResponseHeader(n),
        text: xhr.responseText,
      });
    xhr.onerror = () => reject(new UploadError('the connection to the node was lost', 0, true));
    xhr.onabort = () => reject(new UploadError('cancelled', 0, false));
    onXhr?.(xhr);
    xhr.send(body);
  });
}

function failure(r: Reply): UploadError {
  let message = `the node answered ${r.status}`;
  try {
    message = JSON.parse(r.text).error.message ?? message;
  } catch {
    // Not one of the node's JSON errors (a gateway's page): keep the status.
  }
  // Busy (423), gone through a gateway (502-504) or timed out: worth another try from the node's
  // offset. A full quota (507) or a missing feature (501) stays so: the user is told at once.
  const retryable =
    r.status === 423 ||
    r.status === 409 ||
    (r.status >= 500 && r.status !== 501 && r.status !== 507) ||
    r.status === 0;
  return new UploadError(message, r.status, retryable);
}

const metadata = (pairs: Record<string, string>): string =>
  Object.entries(pairs)
    .map(([k, v]) => `${k} ${btoa(String.fromCharCode(...new TextEncoder().encode(v)))}`)
    .join(',');

export interface TusOptions {
  /** Called with bytes confirmed plus bytes of the chunk in flight. */
  onProgress?: (loaded: number, total: number) => void;
  endpoint?: string;
  sleep?: (ms: number) => Promise<void>;
}

export class TusUpload {
  private xhr: XMLHttpRequest | undefined;
  private cancelled = false;
  private url: string | undefined;
  readonly key: string;

  constructor(
    readonly file: File,
    /** Full path in the wallet, e.g. "/Photos/a.jpg". */
    readonly path: string,
    private readonly o: TusOptions = {},
  ) {
    this.key = `${STORE}${path}|${file.size}|${file.lastModified}`;
  }

  async start(): Promise<void> {
    let offset = await this.locate();
    let attempt = 0;
    while (offset < this.file.size || this.url === undefined) {
      this.check();
      try {
        if (this.url === undefined) offset = await this.create();
        if (offset >= this.file.size) break;
        offset = await this.patch(offset);
        attempt = 0;
      } catch (e) {
        const err = e instanceof UploadError ? e : new UploadError(String(e), 0, true);
        if (!err.retryable || this.cancelled || attempt >= RETRY_MS.length) throw err;
        await (this.o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(
          RETRY_MS[attempt++],
        );
        offset = await this.locate().catch(() => offset);
      }
    }
    localStorage.removeItem(this.key);
    this.o.onProgress?.(this.file.size, this.file.size);
  }

  /** Stops the upload and asks the node to drop what it has. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.xhr?.abort();
    localStorage.removeItem(this.key);
    if (this.url) await send('DELETE', this.url, {}, null).catch(() => undefined);
  }

  private check(): void {
    if (this.cancelled) throw new UploadError('cancelled', 0, false);
  }

  /** The offset of a remembered upload of this file, or 0 with no upload yet. */
  private async locate(): Promise<number> {
    const url = this.url ?? localStorage.getItem(this.key) ?? undefined;
    if (!url) return 0;
    const r = await send('HEAD', url, {}, null);
    const offset = Number(r.header('Upload-Offset'));
    if (r.status === 200 && Number.isSafeInteger(offset)) {
      this.url = url;
      this.o.onProgress?.(offset, this.file.size);
      return offset;
    }
    if (r.status === 404 || r.status === 410) {
      localStorage.removeItem(this.key);
      this.url = undefined;
      return 0;
    }
    throw failure(r);
  }

  private async create(): Promise<number> {
    const r = await send(
      'POST',
      this.o.endpoint ?? '/tus/',
      {
        'Upload-Length': String(this.file.size),
        'Upload-Metadata': metadata({
          path: this.path,
          filetype: this.file.type || 'application/octet-stream',
        }),
      },
      null,
    );
    const location = r.header('Location');
    if (r.status !== 201 || !location) throw failure(r);
    this.url = new URL(location, window.location.href).href;
    localStorage.setItem(this.key, this.url);
    return Number(r.header('Upload-Offset') ?? 0);
  }

  private async patch(offset: number): Promise<number> {
    const end = Math.min(offset + CHUNK_BYTES, this.file.size);
    const r = await send(
      'PATCH',
      this.url!,
      {
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
      },
      this.file.slice(offset, end),
      (sent) => this.o.onProgress?.(offset + sent, this.file.size),
      (x) => (this.xhr = x),
    );
    this.xhr = undefined;
    const next = Number(r.header('Upload-Offset'));
    if (r.status !== 204 || !Number.isSafeInteger(next)) throw failure(r);
    return next;
  }
}
