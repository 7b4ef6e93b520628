/**
 * A server for bench:cloud in its own process: the personal cloud (default) or, with
 * BENCH_BARE=1, the floor: bare node:http streaming files from and to disk (PUT fsynced like the cloud).
 * Prints "<url> <owner code or ->" once listening.
 */
import { createReadStream, createWriteStream, mkdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listenCloud } from '../cloud/runtime/listen.ts';

const dir = process.env.BENCH_DIR!;
if (process.env.BENCH_BARE === '1') {
  mkdirSync(dir, { recursive: true });
  const server = createServer(async (req, res) => {
    const file = join(
      dir,
      decodeURIComponent(req.url!.split('?')[0]).replace(/[^A-Za-z0-9._-]/g, '_'),
    );
    try {
      if (req.method === 'PUT') {
        await pipeline(req, createWriteStream(file, { highWaterMark: 1024 * 1024 }));
        const fh = await open(file, 'r+');
        await fh.sync();
        await fh.close();
        res.writeHead(201).end();
      } else {
        res.writeHead(200, { 'content-length': statSync(file).size });
        await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), res);
      }
    } catch {
      if (!res.headersSent) res.writeHead(404);
      res.end();
    }
  });
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port} -\n`),
  );
} else {
  const running = await listenCloud({
    dataDir: dir,
    sweepIntervalMs: 0,
    limits: { quotaBytes: 2 ** 40 },
  });
  process.stdout.write(`${running.url} ${running.cloud.ownerCode() ?? '-'}\n`);
}
