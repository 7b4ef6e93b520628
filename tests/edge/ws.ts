/**
 * Just enough RFC 6455 for the tests: an echo endpoint for the loopback origins and a client that
 * sends one text message and reads the echo. Real frames on real sockets.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

function frame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, masked]);
}

/** Reads whole frames off a socket; calls back with (opcode, payload). */
function readFrames(socket: Duplex, onFrame: (opcode: number, payload: Buffer) => void, initial?: Buffer): void {
  let buf = initial && initial.length ? Buffer.from(initial) : Buffer.alloc(0);
  const drain = () => {
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        socket.destroy();
        return;
      }
      const masked = (buf[1] & 0x80) !== 0;
      const total = offset + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      let payload = buf.subarray(offset + (masked ? 4 : 0), total);
      if (masked) {
        const key = buf.subarray(offset, offset + 4);
        payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
      }
      const opcode = buf[0] & 0x0f;
      buf = buf.subarray(total);
      onFrame(opcode, Buffer.from(payload));
    }
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    drain();
  });
  drain();
}

/** Server side: completes the handshake and echoes text/binary frames, prefixed with `prefix`. */
export function acceptEchoSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, prefix: string): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' + `sec-websocket-accept: ${acceptKey(key)}\r\n\r\n`,
  );
  socket.on('error', () => socket.destroy());
  readFrames(socket, (opcode, payload) => {
    if (opcode === 0x8) {
      socket.end(frame(0x8, payload.subarray(0, 2), false));
    } else if (opcode === 0x1 || opcode === 0x2) {
      socket.write(frame(opcode, Buffer.concat([Buffer.from(prefix), payload]), false));
    } else if (opcode === 0x9) {
      socket.write(frame(0xa, payload, false));
    }
  }, head);
}

export interface WsEchoResult {
  status: number;
  replies: string[];
}

/**
 * Client side: opens a WebSocket through `url` with the given Host, sends each message and collects
 * one reply per message, then closes. Resolves with the handshake status if it was not 101.
 */
export function webSocketRoundTrip(
  url: string,
  host: string,
  messages: string[],
  timeoutMs = 20_000,
): Promise<WsEchoResult> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      servername: u.protocol === 'https:' ? host : undefined,
      rejectUnauthorized: false,
      agent: false,
      headers: {
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('websocket round trip timed out'));
    }, timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ status: res.statusCode ?? 0, replies: [] });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('upgrade', (res, socket, head) => {
      const replies: string[] = [];
      const sendNext = () => socket.write(frame(0x1, Buffer.from(messages[replies.length]), true));
      readFrames(socket, (opcode, payload) => {
        if (opcode !== 0x1) return;
        replies.push(payload.toString());
        if (replies.length < messages.length) {
          sendNext();
        } else {
          clearTimeout(timer);
          socket.end(frame(0x8, Buffer.from([0x03, 0xe8]), true));
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, replies });
        }
      }, head);
      sendNext();
    });
    req.end();
  });
}
