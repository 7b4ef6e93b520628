/**
 * The edge's forwarding: one HTTP request to the first of its route's targets that takes it. Bodies
 * stream both ways; a request is retried on the next target only while its body is still untouched
 * (the one failover rule: failover.ts).
 */
import type { ForwardRoute, Target } from './app.ts';
import { EdgeError } from './errors.ts';
import {
  NODE_ERROR_HEADER,
  nodeError,
  RELAY_ERROR_HEADER,
  responseBoundMs,
  type TargetHealth,
  tryNextTarget,
} from './failover.ts';
import { clientResponseHeaders, droppedResponseHeaders } from './headers.ts';
import { concatBytes } from '../shared/bytes.ts';
import { INGRESS_HEADERS } from '../shared/records/api.ts';
import { type EdgeStats, forwardKind } from './stats.ts';

/** Bytes of a request body kept so that a failed connection can be retried elsewhere. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;
/**
 * Largest body passed on to the registry API through the apex: a signed write is a few KiB, the
 * biggest (a DHT value, a challenge) well under this. Larger ones get 413 before being read.
 */
export const MAX_REGISTRY_BODY_BYTES = REPLAY_LIMIT_BYTES;

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
  /** Called once the whole body has been handed to a target. */
  onEnd: () => void = () => {};

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
          if (done) {
            this.onEnd();
            return controller.close();
          }
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
  /** For super nodes (registry, relay ingress). */
  fetch: typeof fetch;
  /** For direct nodes' endpoints (refuses non-public addresses where the runtime allows). */
  directFetch: typeof fetch;
  /** Response-header bound of an idempotent attempt, ms; 0 = none (failover.ts). */
  responseTimeoutMs: number;
  /** Where silent and failed targets are noted, so the next requests try them last. */
  health?: TargetHealth;
  /** Whether requests to the targets follow the client request's AbortSignal. */
  abortWithClient: boolean;
  /** Counts failed targets, failovers and give-ups. */
  stats: EdgeStats;
}

/**
 * A registry call's body, read whole (it is small, and then replayable to any registry);
 * BODY_TOO_LARGE once it passes MAX_REGISTRY_BODY_BYTES, before reading when Content-Length says so.
 */
async function registryBody(request: Request): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!request.body) return null;
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = () =>
    new EdgeError(
      'BODY_TOO_LARGE',
      `a registry call's body is at most ${MAX_REGISTRY_BODY_BYTES} bytes`,
    );
  if (declared > MAX_REGISTRY_BODY_BYTES) {
    await request.body.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REGISTRY_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(...chunks) as Uint8Array<ArrayBuffer>;
}

/** A timer that aborts an attempt still waiting for headers once `ms` have passed since `start()`. */
function headerBound(ms: number, clientSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expired = false;
  return {
    signal: clientSignal ? AbortSignal.any([clientSignal, controller.signal]) : controller.signal,
    get expired() {
      return expired;
    },
    start() {
      if (ms > 0 && timer === undefined)
        timer = setTimeout(() => {
          expired = true;
          controller.abort(new Error(`no response headers within ${ms} ms`));
        }, ms);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

/** Forwards `request` with the forwarded `headers` to the route's targets in order. */
export async function forward(
  request: Request,
  route: ForwardRoute,
  headers: Headers,
  options: ForwardOptions,
): Promise<Response> {
  const signal = options.abortWithClient ? request.signal : undefined;
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
  // GET and HEAD have no body; not asking spares runtimes (node-server) building one.
  const whole = hasBody && route.kind === 'registry' ? await registryBody(request) : null;
  const body = hasBody && !whole ? new RetryableBody(request.body!) : null;
  const boundMs = responseBoundMs(request.method, options.responseTimeoutMs);
  const url = new URL(request.url);
  const failures: string[] = [];
  const kind = forwardKind(route);
  for (let i = 0; i < route.targets.length; i++) {
    const target = route.targets[i];
    if (i > 0) options.stats.failovers[kind]++;
    const last = i === route.targets.length - 1;
    const bound = headerBound(boundMs, signal);
    let res: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: targetHeaders(target, headers),
        redirect: 'manual',
        signal: boundMs > 0 ? bound.signal : signal,
      };
      if (whole) init.body = whole;
      else if (body) {
        init.body = body.stream();
        init.duplex = 'half';
        // The bound counts from the end of the body: an upload may take as long as it takes.
        body.onEnd = () => bound.start();
      }
      if (!body) bound.start();
      res = await (target.direct ? options.directFetch : options.fetch)(
        targetUrl(target, url),
        init,
      );
    } catch (e) {
      if (signal?.aborted) throw e;
      options.stats.targetFailures[kind]++;
      options.health?.failed(target.url);
      failures.push(
        `${target.label}: ${bound.expired ? `no response headers within ${boundMs} ms` : (e as Error).message}`,
      );
      if (body && !body.replayable) break;
      continue;
    } finally {
      bound.stop();
    }
    options.health?.answered(target.url);
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
      options.stats.targetFailures[kind]++;
      failures.push(`${target.label}: HTTP ${res.status}${relayError ? ` ${relayError}` : ''}`);
      await res.body?.cancel().catch(() => {});
      continue;
    }
    return clientResponse(res);
  }
  body?.cancel();
  options.stats.unavailable[kind]++;
  throw unavailable(route, failures);
}
