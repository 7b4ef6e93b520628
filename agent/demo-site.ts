/**
 * The demo upstream `pc2 devnet` puts behind alice and bob: a small page that says who served it and
 * what the request looked like on arrival, so a visitor can see the whole path worked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function demoPage(
  name: string,
  headers: Record<string, string | string[] | undefined>,
): string {
  const seen = ['host', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for']
    .map((h) => `<tr><th>${h}</th><td>${escape(String(headers[h] ?? '-'))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(name)} · PC2</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}</style></head>
<body><h1>Hello from ${escape(name)}</h1>
<p>This page was served by the PC2 node <strong>${escape(name)}</strong>, through the PC2 network.</p>
<table>${seen}</table></body></html>
`;
}

export async function startDemoSite(
  name: string,
  host = '127.0.0.1',
  port = 0,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const body = demoPage(name, req.headers);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, host, resolve),
  );
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
