/**
 * The conformance suite inside Deno (run by tests/run-deno.sh): the edge is edge/runtime/deno.ts's
 * Deno.serve over TLS; the loopback origins and the client are the suite's own, on node:http.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveEdge } from '../../../edge/runtime/deno.ts';
import { makeCertificate } from '../certs.ts';
import { edgeConformanceSuite } from '../conformance.ts';

edgeConformanceSuite({
  runtime: 'deno',
  decodesContentEncoding: ['bob'],
  async start(world) {
    const dir = mkdtempSync(join(tmpdir(), 'pc2-deno-edge-'));
    const pair = makeCertificate(dir, 'edge');
    const cert = readFileSync(pair.certFile, 'utf8');
    const key = readFileSync(pair.keyFile, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    let port = 0;
    const listening = new Promise<void>((resolve) => {
      const server = serveEdge(
        { config: world.config, hostname: '127.0.0.1', port: 0, cert, key },
        (addr) => {
          port = addr.port;
          resolve();
        },
      );
      stop = () => server.shutdown();
    });
    let stop: () => Promise<void> = async () => {};
    await listening;
    return { baseUrl: `https://127.0.0.1:${port}`, close: () => stop() };
  },
});
