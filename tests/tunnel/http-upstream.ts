/** A small "PC2 app" for the ingress tests and the benchmark: streaming, Range, echo, 100-continue, a WebSocket echo. */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export const FILE = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/headers') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  } else if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  } else if (url.pathname === '/ticks') {
    // A long-lived chunked response: one line every 100 ms.
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`tick ${n}\n`);
      if (++n === 5) {
        clearInterval(timer);
        res.end();
      }
    }, 100);
    res.on('close', () => clearInterval(timer));
  } else if (url.pathname === '/file') {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), FILE.length - 1) : FILE.length - 1;
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end}/${FILE.length}`,
        'accept-ranges': 'bytes',
        'content-length': end - start + 1,
      });
      res.end(FILE.subarray(start, end + 1));
    } else {
      res.writeHead(200, { 'accept-ranges': 'bytes', 'content-length': FILE.length });
      res.end(FILE);
    }
  } else if (url.pathname === '/bulk') {
    const total = Number(url.searchParams.get('bytes') ?? 0);
    const chunk = Buffer.alloc(256 * 1024, 7);
    res.writeHead(200, { 'content-length': total });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  } else {
    res.end('ok');
  }
}

/** Minimal RFC 6455 echo: handshake, then unmasks client frames and sends them back unmasked. */
function upgrade(req: IncomingMessage, socket: Duplex): void {
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        at = 4;
      }
      if (buffer.length < at + 4 + length) return;
      const mask = buffer.subarray(at, at + 4);
      const payload = Buffer.from(
        buffer.subarray(at + 4, at + 4 + length).map((b, i) => b ^ mask[i % 4]),
      );
      buffer = buffer.subarray(at + 4 + length);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      const header =
        length < 126
          ? Buffer.from([0x80 | opcode, length])
          : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
      socket.write(Buffer.concat([header, payload]));
    }
  });
  socket.on('error', () => {});
}

export async function startHttpUpstream(): Promise<{
  server: Server;
  port: number;
  close(): Promise<void>;
}> {
  const server = createServer(handle);
  server.on('checkContinue', (req, res) => {
    res.writeContinue();
    handle(req, res);
  });
  server.on('upgrade', upgrade);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
