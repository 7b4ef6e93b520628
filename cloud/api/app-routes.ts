/**
 * WASM runs: `POST /api/apps/run` answers NDJSON, one event per line, streamed as it happens:
 * {"type":"queued","position"} while waiting for a slot, {"type":"start"}, {"type":"stdout"|"stderr",
 * "data"} (UTF-8 text; a character split across chunks is kept whole), then one {"type":"exit",
 * "status", "code", "ms", "message"?, "changes"?}. Refusals before the run (bad request, missing
 * module, memory limit, a full queue) are ordinary JSON errors with their HTTP status.
 */
import type { ServerResponse } from 'node:http';
import type { Route } from './routes.ts';

function ndjson(res: ServerResponse): { send(event: Record<string, unknown>): boolean } {
  return { send: (event) => res.write(JSON.stringify(event) + '\n') };
}

export const appRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/api\/apps\/run$/,
    raw: true,
    handler: async (ctx) => {
      const { res, cloud } = ctx;
      const wallet = ctx.principal.address;
      const request = await cloud.apps.prepare(wallet, ctx.body);
      const ticket = cloud.apps.reserve(wallet);
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      res.writeHead(200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      const out = ndjson(res);
      if (ticket.position > 0) out.send({ type: 'queued', position: ticket.position });
      const release = await Promise.race([
        ticket.ready,
        new Promise<undefined>((r) => abort.signal.addEventListener('abort', () => r(undefined))),
      ]);
      if (!release) {
        ticket.cancel();
        void ticket.ready.then((r) => r()); // granted after all: give the slot back
        return;
      }
      try {
        out.send({ type: 'start' });
        const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
        const result = await cloud.apps.run(wallet, request, {
          signal: abort.signal,
          write: (stream, chunk) =>
            out.send({ type: stream, data: decoders[stream].decode(chunk, { stream: true }) }),
          onDrain: (resume) => res.once('drain', resume),
        });
        for (const stream of ['stdout', 'stderr'] as const) {
          const rest = decoders[stream].decode();
          if (rest) out.send({ type: stream, data: rest });
        }
        out.send({ type: 'exit', ...result });
      } catch (e) {
        out.send({
          type: 'exit',
          status: 'error',
          code: null,
          ms: 0,
          message: e instanceof Error ? e.message : String(e),
        });
      } finally {
        release();
        res.end();
      }
    },
  },
];
