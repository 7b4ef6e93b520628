/**
 * The file manager's page at `/`, the share page a visitor's browser gets at `/s/<token>`, and their
 * assets under `/ui/`. The pages are static shells (no user data in the HTML); everything they show
 * comes from the JSON API and is put into the DOM as text. Their CSP allows only the node's own
 * scripts and styles and refuses string-to-HTML sinks (Trusted Types), so a file name can never
 * become markup; user content is only ever framed from the server's sandboxed responses.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { CloudError } from '../errors.ts';
import type { Logger } from '../options.ts';
import { bundlePages, type PageBundle } from '../runtime/bundle.ts';
import { etagMatches } from './content.ts';

export const UI_PREFIX = '/ui/';
const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
const ENTRIES = ['app.ts', 'share.ts', 'app.css'];
const FILES = ['icon.svg'];

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

export type PageName = 'index.html' | 'share.html';

export class Pages {
  private bundle: Promise<PageBundle> | undefined;
  private readonly rendered = new Map<PageName, { body: Buffer; etag: string }>();

  constructor(private readonly logger: Logger) {}

  /** Builds on first use; a failed build is retried at the next request. */
  private load(): Promise<PageBundle> {
    this.bundle ??= bundlePages(UI_DIR, {
      entries: ENTRIES,
      html: ['index.html', 'share.html'],
      files: FILES,
    }).catch((error: unknown) => {
      this.bundle = undefined;
      this.logger.error('cloud could not build the file manager page', { error: String(error) });
      throw new CloudError(
        'UNAVAILABLE',
        'the file manager page could not be built; WebDAV and the API still work',
      );
    });
    return this.bundle;
  }

  async page(
    req: IncomingMessage,
    res: ServerResponse,
    name: PageName,
    status = 200,
  ): Promise<void> {
    let page = this.rendered.get(name);
    if (!page) {
      const b = await this.load();
      const html = b.html
        .get(name)!
        .replace(/%([a-z]+\.(?:ts|css|svg))%/g, (_, f: string) => UI_PREFIX + b.entry.get(f));
      const body = Buffer.from(html);
      page = {
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
      };
      this.rendered.set(name, page);
    }
    const headers: Record<string, string | number> = {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'x-frame-options': 'DENY',
      // Share links carry their token in the path: never send it on.
      'referrer-policy': name === 'share.html' ? 'no-referrer' : 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
      'cache-control': 'no-cache',
      etag: page.etag,
    };
    if (status === 200 && etagMatches(req.headers['if-none-match'], page.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(status, { ...headers, 'content-length': page.body.length });
    res.end(req.method === 'HEAD' ? undefined : page.body);
  }

  async asset(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const asset = (await this.load()).assets.get(name);
    if (!asset) throw new CloudError('NOT_FOUND', `no asset ${name}`);
    const headers: Record<string, string | number> = {
      'content-type': asset.type,
      etag: asset.etag,
      // Names carry a content hash: a new build has new names.
      'cache-control': 'public, max-age=31536000, immutable',
      'cross-origin-resource-policy': 'same-origin',
      vary: 'Accept-Encoding',
    };
    if (etagMatches(req.headers['if-none-match'], asset.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const encoding = pickEncoding(req.headers['accept-encoding']);
    const body = encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body;
    if (encoding) headers['content-encoding'] = encoding;
    res.writeHead(200, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** brotli or gzip if the client takes it (q=0 refuses), else none. */
export function pickEncoding(header: string | string[] | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Set<string>();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  return accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : undefined;
}

/** A browser opening a URL in a tab (not a script, an <img> or a WebDAV client). */
export function isNavigation(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document'
  );
}
