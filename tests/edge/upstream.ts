/** What a PC2 node serves in the edge tests: enough routes to see paths, headers, streams and ranges. */
import http from 'node:http';
import { gzipSync } from 'node:zlib';

export const FILE = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff));
export const GZIPPED = gzipSync(Buffer.from('hello, compressed world\n'.repeat(50)));

/** Streams waiting for the test to say "go on": key -> resume. */
const held = new Map<string, () => void>();
/** Keys of held streams whose client went away before the end. */
export const abandoned = new Set<string>();

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

function range(req: http.IncomingMessage, res: http.ServerResponse): void {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) {
    res
      .writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': FILE.length,
        'accept-ranges': 'bytes',
      })
      .end(FILE);
    return;
  }
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), FILE.length - 1) : FILE.length - 1;
  if (start > end) {
    res.writeHead(416, { 'content-range': `bytes */${FILE.length}` }).end();
    return;
  }
  res
    .writeHead(206, {
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${start}-${end}/${FILE.length}`,
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
    })
    .end(FILE.subarray(start, end + 1));
}

/** Bodies a test registers for `/body?key=…`, served in pieces of odd sizes. */
export const bodies = new Map<string, Buffer>();

/** Serves one request as the node would; `servedBy` tells the test which path it took. */
export function serveNode(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  servedBy: string,
): void {
  const url = new URL(req.url ?? '/', 'http://node');
  switch (url.pathname) {
    case '/body': {
      const body = bodies.get(url.searchParams.get('key') ?? '') ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': body.length, 'x-served-by': servedBy });
      for (let at = 0; at < body.length; at += 100_003) res.write(body.subarray(at, at + 100_003));
      res.end();
      return;
    }
    case '/echo':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-served-by': servedBy });
      res.flushHeaders();
      req.pipe(res);
      return;
    case '/hold': {
      const key = url.searchParams.get('key') ?? '';
      res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': servedBy });
      res.write('first\n');
      const timer = setTimeout(() => finish(), 20_000);
      const finish = () => {
        clearTimeout(timer);
        held.delete(key);
        res.end('last\n');
      };
      held.set(key, finish);
      res.on('close', () => {
        if (!res.writableFinished) {
          clearTimeout(timer);
          held.delete(key);
          abandoned.add(key);
        }
      });
      return;
    }
    case '/release': {
      const resume = held.get(url.searchParams.get('key') ?? '');
      resume?.();
      json(res, resume ? 200 : 404, { released: !!resume });
      return;
    }
    case '/file':
      range(req, res);
      return;
    case '/gzip':
      res
        .writeHead(200, {
          'content-type': 'text/plain',
          'content-encoding': 'gzip',
          'content-length': GZIPPED.length,
        })
        .end(GZIPPED);
      return;
    case '/cookies':
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      json(res, 200, { ok: true });
      return;
    default:
      req.resume();
      req.on('end', () =>
        json(res, 200, { servedBy, method: req.method, url: req.url, headers: req.headers }),
      );
  }
}
