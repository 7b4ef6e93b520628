/**
 * Forwards one HTTP request to the first upstream that takes it. Bodies stream both ways; a
 * request is retried on the next upstream only while its body is still untouched.
 */
import { EdgeError } from './errors.ts';
import { RELAY_ERROR_HEADER, tryNextUpstream } from './failover.ts';
import { clientResponseHeaders, hopByHopNames } from './headers.ts';

export interface UpstreamCandidate {
  /** Full URL: the upstream origin plus the client's path and query. */
  url: string;
  headers: Headers;
  /** For error messages: which upstream this is. */
  label: string;
}

/** Bytes of a request body kept so that a failed connection can be retried elsewhere. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;

/**
 * A request body that can be handed to another upstream: each attempt gets a fresh stream over the
 * same source reader. The body still streams; a copy of its first REPLAY_LIMIT_BYTES is kept, so an
 * attempt whose connection failed after the runtime had read some of it (workerd reads eagerly) can
 * be replayed to the next upstream.
 */
class RetryableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #kept: Uint8Array[] | null = [];
  #keptBytes = 0;
  #reading: Promise<void> = Promise.resolve();
  /** Some of the body has been handed to an upstream. */
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
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        // A read started by an abandoned attempt lands in the kept copy first.
        await this.#reading;
        if (this.#kept && index < this.#kept.length) return controller.enqueue(this.#kept[index++]);
        this.consumed = true;
        const read = this.#reader.read();
        this.#reading = read.then(() => {}, () => {});
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
    }, { highWaterMark: 0 });
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/** The upstream response minus hop-by-hop headers; edited in place when the runtime allows it. */
function clientResponse(res: Response): Response {
  const hopByHop = hopByHopNames(res.headers);
  if (hopByHop.length === 0) return res;
  try {
    for (const name of hopByHop) res.headers.delete(name);
    return res;
  } catch {
    // A fetch response's headers are immutable in Workers and Deno.
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: clientResponseHeaders(res.headers) });
  }
}

export async function proxyHttp(
  request: Request,
  candidates: readonly UpstreamCandidate[],
  fetchFn: typeof fetch,
  unavailable: () => EdgeError,
  abortWithClient = true,
): Promise<Response> {
  const signal = abortWithClient ? request.signal : undefined;
  // GET and HEAD have no body; not asking spares adapters (node-server) building one.
  const body = request.method !== 'GET' && request.method !== 'HEAD' && request.body ? new RetryableBody(request.body) : null;
  const failures: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    const last = i === candidates.length - 1;
    let res: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: candidate.headers,
        redirect: 'manual',
        signal,
      };
      if (body) {
        init.body = body.stream();
        init.duplex = 'half';
      }
      res = await fetchFn(candidate.url, init);
    } catch (e) {
      if (signal?.aborted) throw e;
      failures.push(`${candidate.label}: ${(e as Error).message}`);
      if (body && !body.replayable) break;
      continue;
    }
    const relayError = res.headers.get(RELAY_ERROR_HEADER);
    if (tryNextUpstream(res.status, relayError, last) && !body?.consumed) {
      failures.push(`${candidate.label}: HTTP ${res.status}${relayError ? ` ${relayError}` : ''}`);
      await res.body?.cancel().catch(() => {});
      continue;
    }
    return clientResponse(res);
  }
  body?.cancel();
  const error = unavailable();
  throw new EdgeError(error.code, `${error.message} (${failures.join('; ')})`);
}
