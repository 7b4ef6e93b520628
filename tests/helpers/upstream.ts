/**
 * A node's local upstream for end-to-end tests: a page, a hashing upload sink, a byte source, a
 * status echo and a WebSocket echo.
 * Run it in-process (startUpstream) or as a process inside a namespace (`tsx upstream.ts <host> <port>`).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptEchoSocket } from './websocket.ts';

/** Deterministic bytes: byte i is (i * 31 + 7) & 0xff, so any range can be checked. */
export function patternBytes(start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = ((start + i) * 31 + 7) & 0xff;
  return out;
}

export function createUpstream(name: string): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    if (req.method === 'POST' && url.pathname === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ bytes, sha256: hash.digest('hex') })),
      );
      return;
    }
    const bytesMatch = /^\/bytes\/(\d+)$/.exec(url.pathname);
    if (bytesMatch) {
      const total = Number(bytesMatch[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(65536, total - sent);
          const ok = res.write(patternBytes(sent, n));
          sent += n;
          if (!ok) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    const statusMatch = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (statusMatch)
      return res
        .writeHead(Number(statusMatch[1]), { 'content-type': 'text/plain' })
        .end(`status ${statusMatch[1]} from the app\n`);
    if (url.pathname === '/headers') {
      return res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(req.headers));
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<h1>hello from ${name}</h1>\n`);
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/ws' && String(req.headers.upgrade).toLowerCase() === 'websocket')
      acceptEchoSocket(req, socket, head);
    else socket.destroy();
  });
  return server;
}

export async function startUpstream(
  name: string,
  host = '127.0.0.1',
  port = 0,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createUpstream(name);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, host, resolve),
  );
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [host = '127.0.0.1', port = '4200', name = 'node'] = process.argv.slice(2);
  startUpstream(name, host, Number(port)).then((u) => console.log(`upstream ${u.url}`));
}
