/**
 * Just enough RFC 6455 for the tests, written out so they depend on no WebSocket library: frames of
 * any length, an echo endpoint, and a client that sends messages through a URL with a given Host
 * (fetch-style clients cannot set Host) and collects one reply per message.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export function frame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) head = Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = randomBytes(4);
  const masked = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, masked]);
}

/** Reads whole frames off a socket; calls back with (opcode, payload). */
export function readFrames(
  socket: Duplex,
  onFrame: (opcode: number, payload: Buffer) => void,
  initial?: Buffer,
): void {
  let buf: Buffer = initial && initial.length ? Buffer.from(initial) : Buffer.alloc(0);
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
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buf[1] & 0x80) !== 0;
      const total = offset + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const payload = Buffer.from(buf.subarray(offset + (masked ? 4 : 0), total));
      if (masked) {
        const key = buf.subarray(offset, offset + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      const opcode = buf[0] & 0x0f;
      buf = buf.subarray(total);
      onFrame(opcode, payload);
    }
  };
  socket.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    drain();
  });
  drain();
}

/** Server side: completes the handshake and echoes text/binary frames, prefixed with `prefix`. */
export function acceptEchoSocket(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  prefix = '',
): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
      `sec-websocket-accept: ${acceptKey(key)}\r\n\r\n`,
  );
  socket.on('error', () => socket.destroy());
  readFrames(
    socket,
    (opcode, payload) => {
      if (opcode === 0x8) socket.end(frame(0x8, payload.subarray(0, 2), false));
      else if (opcode === 0x1 || opcode === 0x2)
        socket.write(
          frame(opcode, prefix ? Buffer.concat([Buffer.from(prefix), payload]) : payload, false),
        );
      else if (opcode === 0x9) socket.write(frame(0xa, payload, false));
    },
    head,
  );
}

export interface WsEchoResult {
  /** 101 on success, else the handshake's status. */
  status: number;
  /** Text replies as strings; binary replies as Buffers. */
  replies: (string | Buffer)[];
}

/**
 * Opens a WebSocket through `url` with the given Host, sends each message (string = text frame,
 * Buffer = binary frame) once the previous reply arrived, then closes.
 */
export function webSocketRoundTrip(
  url: string,
  host: string,
  messages: (string | Buffer)[],
  timeoutMs = 20_000,
): Promise<WsEchoResult> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' || u.protocol === 'wss:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      servername: lib === https ? host.replace(/:\d+$/, '') : undefined,
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
    req.on('upgrade', (_res, socket, head) => {
      const replies: (string | Buffer)[] = [];
      const sendNext = () => {
        const m = messages[replies.length];
        socket.write(
          frame(
            typeof m === 'string' ? 0x1 : 0x2,
            typeof m === 'string' ? Buffer.from(m) : m,
            true,
          ),
        );
      };
      readFrames(
        socket,
        (opcode, payload) => {
          if (opcode !== 0x1 && opcode !== 0x2) return;
          replies.push(opcode === 0x1 ? payload.toString() : payload);
          if (replies.length < messages.length) return sendNext();
          clearTimeout(timer);
          socket.end(frame(0x8, Buffer.from([0x03, 0xe8]), true));
          resolve({ status: 101, replies });
        },
        head,
      );
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      if (messages.length) sendNext();
      else {
        clearTimeout(timer);
        socket.end();
        resolve({ status: 101, replies });
      }
    });
    req.end();
  });
}
