/**
 * A node's local upstream for end-to-end tests: a page, a hashing upload sink, a byte source and a
 * WebSocket echo (RFC 6455, written out here so the test depends on no WebSocket server library).
 * Run it in-process (startUpstream) or as a process inside a namespace (`tsx upstream.ts <host> <port>`).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function echoWebSocket(req: IncomingMessage, socket: Socket, head: Buffer): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') return void socket.destroy();
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buffer = head.length ? Buffer.from(head) : Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1] & 0x80) !== 0;
      const end = offset + (masked ? 4 : 0) + length;
      if (buffer.length < end) return;
      const payload = Buffer.from(buffer.subarray(end - length, end));
      if (masked) {
        const mask = buffer.subarray(offset, offset + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      }
      buffer = buffer.subarray(end);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      if (opcode === 0x9) {
        socket.write(frame(0xa, payload));
        continue;
      }
      if (opcode === 0x1 || opcode === 0x2) socket.write(frame(opcode, payload));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

function frame(opcode: number, payload: Buffer): Buffer {
  const header =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : payload.length < 65536
        ? Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => {
            const b = Buffer.alloc(8);
            b.writeBigUInt64BE(BigInt(payload.length));
            return b;
          })()]);
  return Buffer.concat([header, payload]);
}

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
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
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
    if (statusMatch) return res.writeHead(Number(statusMatch[1]), { 'content-type': 'text/plain' }).end(`status ${statusMatch[1]} from the app\n`);
    if (url.pathname === '/headers') {
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<h1>hello from ${name}</h1>\n`);
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/ws' && String(req.headers.upgrade).toLowerCase() === 'websocket') echoWebSocket(req, socket as Socket, head);
    else socket.destroy();
  });
  return server;
}

export async function startUpstream(name: string, host = '127.0.0.1', port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createUpstream(name);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [host = '127.0.0.1', port = '4200', name = 'node'] = process.argv.slice(2);
  startUpstream(name, host, Number(port)).then((u) => console.log(`upstream ${u.url}`));
}
