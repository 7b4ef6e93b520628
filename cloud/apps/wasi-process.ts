/**
 * One WASM run in its own process: `node` with the permission model (no child processes, workers,
 * addons or network for the runner's JavaScript; reads only of the run's directory), a 64 MiB V8
 * heap, an empty environment, the run's directory as working directory, and as `nobody` when the
 * node runs as root. The module's stdout/stderr stream back through pipes; the wall-time limit
 * counts from the module's first instruction and ends in SIGKILL, which no loop can ignore. A
 * watchdog kills the process if its resident memory passes the run's limit plus the runtime's own.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const RUNNER = readFileSync(new URL('./wasi-runner.mjs', import.meta.url), 'utf8');
/** Resident memory of the runtime itself (node, V8, the compiled module) on top of the module's memory. */
const RUNTIME_RSS = 192 * 1024 * 1024;
const STARTUP_MS = 10_000;

export type RunStatus =
  | 'exited'
  | 'timeout'
  | 'memory'
  | 'output-limit'
  | 'write-limit'
  | 'trap'
  | 'error'
  | 'cancelled';

export interface RunOutcome {
  status: RunStatus;
  /** The module's exit code (status "exited"). */
  code: number | null;
  /** Wall time from the module's first instruction to its end, ms. */
  ms: number;
  message?: string;
}

export interface ProcessJob {
  modulePath: string;
  dir: string;
  preopen: string | null;
  write: boolean;
  uid: number | undefined;
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  timeoutMs: number;
  memoryBytes: number;
  outputBytes: number;
  /** For write-enabled runs: bytes the directory may hold, checked every 200 ms. */
  writeBytes?: { limit: number; measure: () => Promise<number> };
}

export interface OutputSink {
  /** Returns false when the reader is behind: the module's pipes pause until `onDrain`. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
  signal: AbortSignal;
}

export function runProcess(job: ProcessJob, sink: OutputSink): Promise<RunOutcome> {
  const flags = [
    '--permission',
    `--allow-fs-read=${job.dir}`,
    ...(job.write && job.preopen ? [`--allow-fs-write=${job.preopen}`] : []),
    '--allow-wasi',
    '--max-old-space-size=64',
    '--no-warnings',
    '--input-type=module',
    '-e',
    RUNNER,
    JSON.stringify({ module: job.modulePath, args: job.args, env: job.env, preopen: job.preopen }),
  ];
  const child = spawn(process.execPath, flags, {
    cwd: job.dir,
    env: {},
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    uid: job.uid,
    gid: job.uid,
    windowsHide: true,
  });
  return new Promise<RunOutcome>((resolve) => {
    let reason: RunStatus | undefined;
    let message: string | undefined;
    let started = 0;
    let ended = 0;
    let report: { type: string; code?: number; message?: string } | undefined;
    let output = 0;
    const timers: NodeJS.Timeout[] = [];
    const kill = (why: RunStatus, text?: string): void => {
      if (reason || child.exitCode !== null || child.signalCode !== null) return;
      reason = why;
      message = text;
      ended = performance.now();
      child.kill('SIGKILL');
    };
    timers.push(
      setTimeout(() => kill('error', 'the module did not start within 10 s'), STARTUP_MS),
    );
    const onAbort = (): void => kill('cancelled', 'the client went away');
    if (sink.signal.aborted) onAbort();
    sink.signal.addEventListener('abort', onAbort, { once: true });

    createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
      let m: { type: string; code?: number; message?: string };
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.type === 'started') {
        started = performance.now();
        clearTimeout(timers[0]);
        timers.push(
          setTimeout(
            () => kill('timeout', `stopped at the wall-time limit of ${job.timeoutMs} ms`),
            job.timeoutMs,
          ),
        );
      } else {
        ended = performance.now();
        report = m;
      }
    });
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name];
      stream.on('data', (chunk: Buffer) => {
        output += chunk.length;
        if (output > job.outputBytes) {
          kill('output-limit', `the module wrote more than ${job.outputBytes} bytes of output`);
          return;
        }
        if (!sink.write(name, chunk)) {
          child.stdout.pause();
          child.stderr.pause();
          sink.onDrain(() => {
            child.stdout.resume();
            child.stderr.resume();
          });
        }
      });
    }
    child.stdin.on('error', () => {}); // a module that exits without reading its stdin
    child.stdin.end(job.stdin);

    const watchdog = setInterval(() => {
      if (!child.pid) return;
      void readFile(`/proc/${child.pid}/status`, 'utf8').then(
        (status) => {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
          if (kb * 1024 > job.memoryBytes + RUNTIME_RSS)
            kill('memory', `the run used more than its memory limit of ${job.memoryBytes} bytes`);
        },
        () => {},
      );
      if (job.writeBytes) {
        const { limit, measure } = job.writeBytes;
        void measure().then(
          (n) =>
            n > limit &&
            kill('write-limit', `the module wrote more than ${limit} bytes into its folder`),
          () => {},
        );
      }
    }, 100);

    child.on('error', (e) => kill('error', `the run could not start: ${e.message}`));
    child.on('close', (exitCode, signal) => {
      for (const t of timers) clearTimeout(t);
      clearInterval(watchdog);
      sink.signal.removeEventListener('abort', onAbort);
      const ms = started ? Math.round((ended || performance.now()) - started) : 0;
      if (reason) return resolve({ status: reason, code: null, ms, message });
      if (report?.type === 'exit') return resolve({ status: 'exited', code: report.code ?? 0, ms });
      if (report?.type === 'trap')
        return resolve({ status: 'trap', code: null, ms, message: report.message });
      if (report?.type === 'error')
        return resolve({ status: 'error', code: null, ms, message: report.message });
      resolve({
        status: 'error',
        code: null,
        ms,
        message: `the run ended without a result (exit ${exitCode ?? signal})`,
      });
    });
  });
}
