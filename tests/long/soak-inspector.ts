/**
 * The soak's view inside a process: the V8 inspector of a `pc2` process started with
 * `--inspect=127.0.0.1:<port>` (loopback, set by the soak harness only). RSS alone cannot tell a leak
 * from an allocator or a heap that grows to its steady size; the heap used after a full collection
 * can, and a heap snapshot says what is held.
 */
import { createWriteStream } from 'node:fs';

export interface HeapAfterGc {
  /** MiB, after a full collection. */
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heapTotal: number;
  rss: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class Inspector {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #onEvent: ((method: string, params: Record<string, unknown>) => void) | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else this.#onEvent?.(msg.method, msg.params);
    });
    ws.addEventListener('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('inspector closed'));
      this.#pending.clear();
    });
  }

  /** Connects to the inspector listening on 127.0.0.1:`port`, retrying until `timeoutMs`. */
  static async connect(port: number, timeoutMs = 30_000): Promise<Inspector> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
          webSocketDebuggerUrl: string;
        }[];
        const ws = new WebSocket(list[0].webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          ws.addEventListener('open', resolve, { once: true });
          ws.addEventListener('error', () => reject(new Error('inspector refused')), {
            once: true,
          });
        });
        return new Inspector(ws);
      } catch (e) {
        if (Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The JSON value of `expression` evaluated in the process. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result } = await this.call<{ result: { value: string } }>('Runtime.evaluate', {
      expression: `JSON.stringify(${expression})`,
      returnByValue: true,
    });
    return JSON.parse(result.value) as T;
  }

  /** A full collection, then the process's memory as `process.memoryUsage()` sees it. */
  async heapAfterGc(): Promise<HeapAfterGc> {
    await this.call('HeapProfiler.collectGarbage');
    const m = await this.evaluate<Record<keyof HeapAfterGc, number>>('process.memoryUsage()');
    const mib = (n: number) => n / 2 ** 20;
    return {
      heapUsed: mib(m.heapUsed),
      external: mib(m.external),
      arrayBuffers: mib(m.arrayBuffers),
      heapTotal: mib(m.heapTotal),
      rss: mib(m.rss),
    };
  }

  /** Writes a heap snapshot (Chrome's .heapsnapshot format) to `path`. */
  async snapshot(path: string): Promise<void> {
    const out = createWriteStream(path);
    this.#onEvent = (method, params) => {
      if (method === 'HeapProfiler.addHeapSnapshotChunk') out.write(params.chunk as string);
    };
    try {
      await this.call('HeapProfiler.enable');
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#onEvent = null;
      await new Promise((r) => out.end(r));
    }
  }

  close(): void {
    this.#ws.close();
  }
}
