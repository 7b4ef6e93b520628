/**
 * The node's own small pages (the chat page and the WASM Run panel), separate from the file
 * manager so it can link to them or frame them. They are static files read once at start, served
 * with a CSP that allows only this origin's scripts and styles: nothing of a user's content or a
 * model's reply can run as the node (replies are escaped by markdown.js).
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const PAGES: Record<string, [file: string, type: string]> = {
  '/chat': ['chat.html', 'text/html; charset=utf-8'],
  '/apps/run': ['run.html', 'text/html; charset=utf-8'],
  '/pages/chat.js': ['chat.js', 'text/javascript; charset=utf-8'],
  '/pages/run.js': ['run.js', 'text/javascript; charset=utf-8'],
  '/pages/markdown.js': ['markdown.js', 'text/javascript; charset=utf-8'],
  '/pages/stream.js': ['stream.js', 'text/javascript; charset=utf-8'],
  '/pages/pages.css': ['pages.css', 'text/css; charset=utf-8'],
};

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const cache = new Map<string, Buffer>();
for (const [path, [file]] of Object.entries(PAGES))
  cache.set(path, readFileSync(new URL(`./static/${file}`, import.meta.url)));

export function isPage(path: string): boolean {
  return cache.has(path);
}

export function servePage(path: string, method: string, res: ServerResponse): void {
  const body = cache.get(path)!;
  res.writeHead(method === 'GET' || method === 'HEAD' ? 200 : 405, {
    'content-type': PAGES[path][1],
    'content-length': body.length,
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-cache',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'SAMEORIGIN',
    ...(method === 'GET' || method === 'HEAD' ? {} : { allow: 'GET, HEAD' }),
  });
  res.end(method === 'GET' ? body : undefined);
}
