/**
 * The local app of the relay benchmark, in its own process (as a node's app would be): `GET /` is a
 * small page (1 KiB), `GET /bytes/N` is N bytes of a fixed pattern, written from one prepared 1 MiB
 * buffer so that the app costs as little CPU per byte as it can (the relay is what is measured).
 * Prints its port on the first line of stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31 + 7) & 0xff;
const PAGE = Buffer.alloc(1024, 'x');

const server = createServer((req, res) => {
  req.resume();
  const bytes = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (!bytes) {
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': PAGE.length }).end(PAGE);
    return;
  }
  const total = Number(bytes[1]);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
