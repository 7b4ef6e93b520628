/**
 * Whether the node's app (its upstream) answers: a GET / every `intervalMs`, up when an HTTP answer
 * below 500 comes within `timeoutMs`. What a node owner's metrics and alerts need to tell "my app is
 * down" from "my tunnel is down".
 */
import http from 'node:http';

export interface AppHealthState {
  up: boolean | null;
  /** HTTP status of the last answer (null: none: refused, timed out). */
  status: number | null;
  /** Seconds the last check took. */
  seconds: number | null;
  checkedAt: number | null;
  checks: number;
  failures: number;
}

export class AppHealth {
  readonly #url: URL;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly state: AppHealthState = {
    up: null,
    status: null,
    seconds: null,
    checkedAt: null,
    checks: 0,
    failures: 0,
  };

  constructor(upstream: string, options: { intervalMs?: number; timeoutMs?: number } = {}) {
    this.#url = new URL('/', upstream);
    this.#intervalMs = options.intervalMs ?? 15_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): Promise<void> {
    const started = performance.now();
    return new Promise<number | null>((resolve) => {
      const req = http.get(
        this.#url,
        { timeout: this.#timeoutMs, headers: { 'user-agent': 'pc2-health' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? null);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(null));
    }).then((status) => {
      const s = this.state;
      s.checks++;
      s.status = status;
      s.up = status !== null && status < 500;
      if (!s.up) s.failures++;
      s.seconds = (performance.now() - started) / 1000;
      s.checkedAt = Date.now();
    });
  }
}
