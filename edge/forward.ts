/**
 * The edge's forwarding: one HTTP request to the first of its route's targets that takes it. Bodies
 * stream both ways; a request is retried on the next target only while its body is still untouched
 * (the one failover rule: failover.ts).
 */
import type { ForwardRoute, Target } from './app.ts';
import { EdgeError } from './errors.ts';
import { NODE_ERROR_HEADER, nodeError, RELAY_ERROR_HEADER, tryNextTarget } from './failover.ts';
import { clientResponseHeaders, droppedResponseHeaders } from './headers.ts';
import { INGRESS_HEADERS } from '../shared/records/api.ts';

/** Bytes of a request body kept so that a failed connection can be retried elsewhere. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;

/**
 * A request body that can be handed to another target: each attempt gets a fresh stream over the
 * same source reader. The body still streams; a copy of its first REPLAY_LIMIT_BYTES is kept, so an
 * attempt whose connection failed after the runtime had read some of it (workerd reads eagerly) can
 * be replayed to the next target.
 */
class RetryableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #kept: Uint8Array[] | null = [];
  #keptBytes = 0;
  #reading: Promise<void> = Promise.resolve();
  /** Some of the body has been handed to a target. */
  consumed = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Whether another attempt can still send the whole body. */
  get replayable(): boolean {
    return this.#kept !== null;
  }

  stream(): ReadableStream<Uint8Array> {
    let index = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // A read started by an abandoned attempt lands in the kept copy first.
          await this.#reading;
          if (this.#kept && index < this.#kept.length)
            return controller.enqueue(this.#kept[index++]);
          this.consumed = true;
          const read = this.#reader.read();
          this.#reading = read.then(
            () => {},
            () => {},
          );
          const { done, value } = await read;
          if (done) return controller.close();
          if (this.#kept) {
            this.#keptBytes += value.byteLength;
            if (this.#keptBytes > REPLAY_LIMIT_BYTES) this.#kept = null;
            else {
              this.#kept.push(value);
              index++;
            }
          }
          controller.enqueue(value);
        },
      },
      { highWaterMark: 0 },
    );
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/** The target's response minus hop-by-hop headers; edited in place when the runtime allows it. */
function clientResponse(res: Response): Response {
  const dropped = droppedResponseHeaders(res.headers);
  if (dropped.length === 0) return res;
  try {
    for (const name of dropped) res.headers.delete(name);
    return res;
  } catch {
    // A fetch response's headers are immutable in Workers and Deno.
    return new Response(res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: clientResponseHeaders(res.headers),
    });
  }
}

/** The request headers for one target: the forwarded ones, plus the ingress's for a relay. */
export function targetHeaders(target: Target, headers: Headers): Headers {
  if (!target.ingress) return headers;
  const out = new Headers(headers);
  out.set(INGRESS_HEADERS.nodeId, target.ingress.nodeId);
  out.set(INGRESS_HEADERS.edgeToken, target.ingress.edgeToken);
  return out;
}

/** The target's URL for the client's `url` (path and query kept). */
export function targetUrl(target: Target, url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return target.url + u.pathname + u.search;
}

/** What the client gets when no target took the request, with every target's failure. */
export function unavailable(route: ForwardRoute, failures: readonly string[]): EdgeError {
  const why = failures.join('; ');
  return route.kind === 'registry'
    ? new EdgeError('REGISTRY_UNAVAILABLE', `no registry answered (${why})`)
    : new EdgeError('UPSTREAM_UNAVAILABLE', `every target of "${route.name}" is down (${why})`);
}

export interface ForwardOptions {
  fetch: typeof fetch;
  /** Whether requests to the targets follow the client request's AbortSignal. */
  abortWithClient: boolean;
}

/** Forwards `request` with the forwarded `headers` to the route's targets in order. */
export async function forward(
  request: Request,
  route: ForwardRoute,
  headers: Headers,
  options: ForwardOptions,
): Promise<Response> {
  const signal = options.abortWithClient ? request.signal : undefined;
  // GET and HEAD have no body; not asking spares runtimes (node-server) building one.
  const body =
    request.method !== 'GET' && request.method !== 'HEAD' && request.body
      ? new RetryableBody(request.body)
      : null;
  const url = new URL(request.url);
  const failures: string[] = [];
  for (let i = 0; i < route.targets.length; i++) {
    const target = route.targets[i];
    const last = i === route.targets.length - 1;
    let res: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: targetHeaders(target, headers),
        redirect: 'manual',
        signal,
      };
      if (body) {
        init.body = body.stream();
        init.duplex = 'half';
      }
      res = await options.fetch(targetUrl(target, url), init);
    } catch (e) {
      if (signal?.aborted) throw e;
      failures.push(`${target.label}: ${(e as Error).message}`);
      if (body && !body.replayable) break;
      continue;
    }
    const appDown =
      route.kind === 'node' &&
      nodeError(res.status, res.headers.get(NODE_ERROR_HEADER), route.name);
    if (appDown) {
      await res.body?.cancel().catch(() => {});
      body?.cancel();
      throw appDown;
    }
    const relayError = res.headers.get(RELAY_ERROR_HEADER);
    if (tryNextTarget(res.status, relayError, last) && !body?.consumed) {
      failures.push(`${target.label}: HTTP ${res.status}${relayError ? ` ${relayError}` : ''}`);
      await res.body?.cancel().catch(() => {});
      continue;
    }
    return clientResponse(res);
  }
  body?.cancel();
  throw unavailable(route, failures);
}
