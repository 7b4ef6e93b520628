/** Server-sent events, written as they come: no compression, no proxy buffering, headers at once. */
import type { ServerResponse } from 'node:http';

export function openSse(res: ServerResponse): { send(data: unknown): void; end(): void } {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  return {
    send: (data) => {
      if (!res.destroyed)
        res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    },
    end: () => res.end(),
  };
}
