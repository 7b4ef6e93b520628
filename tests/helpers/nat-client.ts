/**
 * Runs on the "internet" side of the NAT lab: fetches a page, uploads 100 MiB and echoes WebSocket
 * messages through the gateway to a node behind the NAT. Prints one JSON line of results.
 * Usage: tsx nat-client.ts <gateway host:port> <name> <upload MiB>
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { patternBytes } from './upstream.ts';
import { webSocketRoundTrip } from './websocket.ts';

const [gateway, name, mib = '100'] = process.argv.slice(2);
const host = `${name}.localhost:${gateway.split(':')[1]}`;
const base = `http://${gateway}`;

async function page() {
  const res = await request(`${base}/`, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

async function upload() {
  const total = Number(mib) * 1024 * 1024;
  const hash = createHash('sha256');
  let sent = 0;
  const body = Readable.from(
    (function* () {
      while (sent < total) {
        const chunk = patternBytes(sent, Math.min(1 << 20, total - sent));
        hash.update(chunk);
        sent += chunk.length;
        yield chunk;
      }
    })(),
  );
  const res = await request(`${base}/upload`, {
    method: 'POST',
    headers: { host, 'content-length': String(total) },
    body,
  });
  const answer = (await res.body.json()) as { bytes: number; sha256: string };
  return {
    status: res.statusCode,
    bytes: answer.bytes,
    match: answer.sha256 === hash.digest('hex') && answer.bytes === total,
  };
}

async function websocket() {
  const sent = [
    Buffer.from(Array.from({ length: 100_000 }, (_, i) => i & 0xff)),
    'hello over the tunnel',
  ];
  const { status, replies } = await webSocketRoundTrip(`${base}/ws`, host, sent);
  const match =
    replies.length === sent.length &&
    replies.every((r, i) =>
      typeof r === 'string'
        ? r === sent[i]
        : Buffer.isBuffer(sent[i]) && r.equals(sent[i] as Buffer),
    );
  return { status, echoed: replies.length, match };
}

const result = { page: await page(), upload: await upload(), websocket: await websocket() };
console.log(JSON.stringify(result));
process.exit(0);
