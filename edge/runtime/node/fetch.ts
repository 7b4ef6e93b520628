/**
 * A fetch for the Node.js gateway, on undici's request API: it leaves bodies exactly as the target
 * sent them (no transparent decompression, so Content-Encoding and Content-Length stay true) and
 * keeps a pool of connections to the targets alive.
 */
import { lookup as dnsLookup } from 'node:dns';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Agent, request } from 'undici';
import { guardLookup, type Lookup } from '../../../shared/endpoint.ts';
import { checkOptions, integer, type Rules, withDefault } from '../../../shared/options.ts';
import { EdgeError } from '../../errors.ts';
import { slabConnector } from './slab-connect.ts';

export interface PoolOptions {
  /** Most connections per target. Default 256. */
  connections?: number;
  /** Idle connections are kept this long, ms. Default 10 000. */
  keepAliveTimeoutMs?: number;
  /** Longest TCP+TLS connect, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Longest wait for response headers, ms; 0 = none (long polls). Default 300 000. */
  headersTimeoutMs?: number;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const POOL_OPTIONS = {
  connections: withDefault(integer(1, 65_536), 256),
  keepAliveTimeoutMs: withDefault(integer(1, 86_400_000), 10_000),
  connectTimeoutMs: withDefault(integer(1, 86_400_000), 10_000),
  headersTimeoutMs: withDefault(integer(0, 86_400_000), 300_000),
} satisfies Rules<PoolOptions>;

/** Web streams made here, mapped to the Node.js readable under them, so the gateway can pipe natively. */
const readableBodies = new WeakMap<ReadableStream<Uint8Array>, Readable>();

/**
 * The Node.js readable behind a response body made by this fetch, if nothing has read from it yet.
 * The Node.js gateway pipes it straight into the client's socket instead of pumping a web stream.
 */
export function pipeableBody(body: ReadableStream<Uint8Array> | null): Readable | undefined {
  if (!body || body.locked) return undefined;
  return readableBodies.get(body);
}

/**
 * A pull-driven web stream over a Node.js readable. (Readable.toWeb on Node.js 20 can enqueue after a
 * cancel and crash the process.) The iterator is made on the first pull so that, until then, the
 * readable can still be piped instead.
 */
function webStream(body: Readable): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<unknown> | undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= body[Symbol.asyncIterator]();
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value as Uint8Array);
      },
      cancel() {
        // Destroying an undici body emits an AbortError; the reader already said it is done.
        body.on('error', () => {});
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
  readableBodies.set(stream, body);
  return stream;
}

export interface PooledFetch {
  /** For super nodes (configured by the operator: any address). */
  fetch: typeof fetch;
  /** For direct nodes' endpoints: connects only to public addresses (docs/edge.md). */
  directFetch: typeof fetch;
  /** The connection pools, for the gateway's own forwarding. */
  dispatcher: Agent;
  directDispatcher: Agent;
  /**
   * For super nodes, reading into pooled slabs (slab-connect.ts): only for the fast path, which
   * releases each body chunk once the client's socket took it.
   */
  relayDispatcher: Agent;
  close(): Promise<void>;
}

/** node:dns `lookup` that hands sockets public addresses only (all of them in developer mode). */
export const publicLookup = (developerMode: boolean): Lookup =>
  guardLookup(dnsLookup as unknown as Lookup, developerMode);

export function createPooledFetch(
  options: PoolOptions = {},
  policy: { developerMode: boolean } = { developerMode: false },
): PooledFetch {
  const o = checkOptions(
    options,
    POOL_OPTIONS,
    'pool options',
    (message) => new EdgeError('INVALID_CONFIG', message),
  );
  const agent = (lookup?: Lookup, slabReads = false) =>
    new Agent({
      connections: o.connections,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      connect: slabReads
        ? slabConnector(o.connectTimeoutMs)
        : lookup
          ? { timeout: o.connectTimeoutMs, lookup }
          : { timeout: o.connectTimeoutMs },
      headersTimeout: o.headersTimeoutMs,
      // A streamed body may pause for as long as the two ends like (long polls, event streams).
      bodyTimeout: 0,
      // HTTP/1.1 to every target, even one that offers h2: the forwarding reads raw header lists
      // and relays Upgrade, which are HTTP/1.1 things (undici 8 would otherwise take h2 via ALPN).
      allowH2: false,
    });
  const dispatcher = agent();
  // The check and the connection share one resolution: no second lookup a name could answer differently.
  const directDispatcher = agent(publicLookup(policy.developerMode));
  const relayDispatcher = agent(undefined, true);
  return {
    fetch: fetchOver(dispatcher),
    directFetch: fetchOver(directDispatcher),
    dispatcher,
    directDispatcher,
    relayDispatcher,
    close: async () => {
      await Promise.all([dispatcher.close(), directDispatcher.close(), relayDispatcher.close()]);
    },
  };
}

/** A fetch over one undici pool, leaving bodies as the target sent them. */
function fetchOver(dispatcher: Agent): typeof fetch {
  const pooledFetch = async (
    input: RequestInfo | URL,
    init: RequestInit = {},
  ): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init.method ?? 'GET';
    const headers: string[] = [];
    new Headers(init.headers).forEach((value, key) => headers.push(key, value));
    const body =
      init.body instanceof ReadableStream
        ? Readable.fromWeb(init.body as WebReadableStream<Uint8Array>)
        : (init.body as string | null | undefined);
    const res = await request(url, {
      method: method as 'GET',
      headers,
      body,
      signal: init.signal ?? undefined,
      dispatcher,
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) out.append(key, v);
      else if (value !== undefined) out.append(key, value);
    }
    if (NULL_BODY_STATUS.has(res.statusCode) || method === 'HEAD') {
      res.body.resume();
      return new Response(null, { status: res.statusCode, headers: out });
    }
    return new Response(webStream(res.body), { status: res.statusCode, headers: out });
  };
  return pooledFetch as typeof fetch;
}

/**
 * Pipes a target's body into the client's response; either side failing or closing early stops the
 * other. (stream.pipeline does the same but builds and aborts an AbortController per call, which
 * showed up as a sizeable share of the gateway's CPU per request.)
 */
export function pipeToClient(body: Readable, res: import('node:http').ServerResponse): void {
  body.on('error', () => res.destroy());
  res.on('close', () => {
    if (!body.readableEnded) {
      body.on('error', () => {});
      body.destroy();
    }
  });
  body.pipe(res);
}
