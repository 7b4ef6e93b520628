/**
 * Builds the file manager's page assets (cloud/ui/) once per process with esbuild, which the project
 * already installs for its TypeScript tools: no network, no build step before `npm start`, and the
 * page is written in the same checked TypeScript as the rest. Output names carry a content hash, so
 * the assets can be cached for good and the HTML (not cached) always points at the current ones.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { basename, join } from 'node:path';

export interface Asset {
  /** The URL name under /ui/, e.g. `app-3KX2V7QO.js`. */
  name: string;
  type: string;
  body: Buffer;
  /** The body compressed once at build time, for clients that accept it (a third of the size). */
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

function asset(name: string, type: string, body: Buffer, etag: string): Asset {
  const br = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
  return { name, type, body, br, gzip: gzipSync(body, { level: 9 }), etag };
}

export interface PageBundle {
  /** Assets by URL name. */
  assets: Map<string, Asset>;
  /** The URL name of an entry point's output, by its source name (`app.ts` → `app-….js`). */
  entry: Map<string, string>;
  /** HTML templates by file name, read as is. */
  html: Map<string, string>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export async function bundlePages(
  dir: string,
  o: { entries: string[]; html: string[]; files: string[] },
): Promise<PageBundle> {
  // Imported here, not at the top: the cloud's storage and protocols work without it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: o.entries.map((e) => join(dir, e)),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: join(dir, 'out'),
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  const assets = new Map<string, Asset>();
  const entry = new Map<string, string>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    const ext = name.slice(name.lastIndexOf('.'));
    assets.set(
      name,
      asset(
        name,
        TYPES[ext] ?? 'application/octet-stream',
        Buffer.from(file.contents),
        `"${file.hash}"`,
      ),
    );
  }
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint) entry.set(basename(meta.entryPoint), basename(out));
  }
  // Plain files (the icon) are served under their own name plus a hash, like the bundles.
  for (const f of o.files) {
    const body = await readFile(join(dir, f));
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 10);
    const dot = f.lastIndexOf('.');
    const name = `${f.slice(0, dot)}-${hash}${f.slice(dot)}`;
    assets.set(
      name,
      asset(name, TYPES[f.slice(dot)] ?? 'application/octet-stream', body, `"${hash}"`),
    );
    entry.set(f, name);
  }
  const html = new Map<string, string>();
  for (const f of o.html) html.set(f, await readFile(join(dir, f), 'utf8'));
  return { assets, entry, html };
}
