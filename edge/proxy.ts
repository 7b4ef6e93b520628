/**
 * Forwards one HTTP request to the first upstream that takes it. Bodies stream both ways; a
 * request is retried on the next upstream only while its body is still untouched.
 */
import { EdgeError } from './errors.ts';
import { clientResponseHeaders } from './headers.ts';

export interface UpstreamCandidate {
  /** Full URL: the upstream origin plus the client's path and query. */
  url: string;
  headers: Headers;
  /** For error messages: which upstream this is. */
  label: string;
}

/**
 * A request body that can be handed to another upstream as long as no byte of it has been read:
 * each attempt gets a fresh stream over the same source reader.
 */
class RetryableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  consumed = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  stream(): ReadableStream<Uint8Array> {
    const reader = this.#reader;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        this.consumed = true;
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => {
        if (this.consumed) return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

const RETRYABLE_STATUS = new Set([502, 503]);

export async function proxyHttp(
  request: Request,
  candidates: readonly UpstreamCandidate[],
  fetchFn: typeof fetch,
  unavailable: () => EdgeError,
): Promise<Response> {
  const body = request.body ? new RetryableBody(request.body) : null;
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
        signal: request.signal,
      };
      if (body) {
        init.body = body.stream();
        init.duplex = 'half';
      }
      res = await fetchFn(candidate.url, init);
    } catch (e) {
      if (request.signal.aborted) throw e;
      failures.push(`${candidate.label}: ${(e as Error).message}`);
      if (body?.consumed) break;
      continue;
    }
    if (!last && RETRYABLE_STATUS.has(res.status) && !body?.consumed) {
      failures.push(`${candidate.label}: HTTP ${res.status}`);
      await res.body?.cancel().catch(() => {});
      continue;
    }
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: clientResponseHeaders(res.headers) });
  }
  body?.cancel();
  const error = unavailable();
  throw new EdgeError(error.code, `${error.message} (${failures.join('; ')})`);
}
