/**
 * The entry's fast path to the app: undici's HTTP/1.1 client (a pool of kept-alive connections to
 * the app) dispatching straight into the visitor's response, with no client-side IncomingMessage
 * and no pipe between them. node:http's client cost the entry most of its time (`npm run
 * bench:entry`, docs/benchmarks.md). What undici will not send (an Expect header, a header value it
 * refuses) is handed back to the caller, which sends it with node:http instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, Pool } from 'undici';

export interface AppResponse {
  /** The app's status, status text and response headers (raw name/value pairs, names as sent). */
  start(status: number, statusText: string, raw: string[], hasLength: boolean): void;
  /** The app failed (before or after its answer started). */
  fail(error: Error): void;
  /** The response ended (the visitor's response is ended too). */
  end(): void;
  /** Body bytes passed on to the visitor. */
  sent(bytes: number): void;
  /** Request body bytes passed on to the app. */
  received(bytes: number): void;
}

/** undici's own refusals of a request node:http would send: that request goes the other way. */
const REFUSED = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

export function appPool(origin: string): Pool {
  // No timeouts, as node:http's client had none: a long poll or an event stream may stay quiet.
  return new Pool(origin, { headersTimeout: 0, bodyTimeout: 0, connections: null });
}

/**
 * Sends `req` to the app through `pool` and the answer into `res`; false (and nothing done) when
 * undici refuses the request as it is, for the caller to send it another way.
 */
export function dispatchToApp(
  pool: Pool,
  req: IncomingMessage,
  res: ServerResponse,
  headers: string[],
  to: AppResponse,
): boolean {
  const hasBody = req.headers['content-length'] !== undefined || 'transfer-encoding' in req.headers;
  let controller: Dispatcher.DispatchController | null = null;
  let gone = false;
  let refused = false;
  const resume = () => controller?.resume();
  res.on('close', () => {
    if (res.writableFinished) return;
    gone = true;
    controller?.abort(new Error('the visitor went away'));
  });
  pool.dispatch(
    {
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? req : null,
    },
    {
      onBodySent(chunk) {
        to.received(chunk.length);
      },
      onRequestStart(c) {
        controller = c;
        if (gone) c.abort(new Error('the visitor went away'));
      },
      onResponseStart(c, status, parsed, statusText) {
        const raw = (c.rawHeaders ?? []) as (Buffer | string)[];
        const pairs = raw.map((h) => (typeof h === 'string' ? h : h.toString('latin1')));
        const hasLength = parsed['content-length'] !== undefined;
        to.start(status, statusText ?? '', pairs, hasLength);
      },
      onResponseData(c, chunk) {
        to.sent(chunk.length);
        if (!res.write(chunk) && !c.paused) {
          c.pause();
          res.once('drain', resume);
        }
      },
      onResponseEnd() {
        res.end();
        to.end();
      },
      onResponseError(c, error) {
        const code = (error as { code?: string }).code;
        if (!c && code && REFUSED.has(code)) {
          refused = true;
          return;
        }
        to.fail(error);
      },
    },
  );
  return !refused;
}
