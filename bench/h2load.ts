/**
 * h2load (Debian nghttp2-client) as a load generator over TLS: the same C client for HTTP/1.1
 * (`--h1`) and HTTP/2, so the two protocols are compared with nothing else changed. Its CPU time is
 * read from the shell's /proc stat after it exits, as for wrk.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

export interface H2loadOptions {
  /** e.g. https://alice.localhost:8443/ (the authority and SNI). */
  url: string;
  /** Where to connect instead, host:port. */
  connectTo: string;
  protocol: 'http/1.1' | 'h2';
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Concurrent streams per connection (HTTP/2 only; HTTP/1.1 has one). */
  streams?: number;
}

export interface H2loadResult {
  rps: number;
  requests: number;
  failed: number;
  /** Mean time for a request, ms (h2load gives no percentiles). */
  meanMs: number;
  /** CPU time h2load itself used, ms (user + system). */
  clientCpuMs: number;
}

export function hasH2load(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : v;
}

export async function runH2load(o: H2loadOptions): Promise<H2loadResult> {
  const args = [
    `--duration=${o.seconds}`,
    `--warm-up-time=${o.warmupSeconds}`,
    `--clients=${o.connections}`,
    `--max-concurrent-streams=${o.protocol === 'h2' ? (o.streams ?? 1) : 1}`,
    `--connect-to=${o.connectTo}`,
    ...(o.protocol === 'http/1.1' ? ['--h1'] : []),
  ];
  const { stdout } = await promisify(execFile)(
    'sh',
    ['-c', 'h2load "$@" && cat /proc/$$/stat', 'sh', ...args, o.url],
    { timeout: (o.seconds + o.warmupSeconds + 60) * 1000, maxBuffer: 1 << 20 },
  );
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(stdout)?.[1]);
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(
    stdout,
  );
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const protocolLine = /Application protocol: (\S+)/.exec(stdout)?.[1];
  if (protocolLine && protocolLine !== o.protocol)
    throw new Error(`h2load spoke ${protocolLine}, not ${o.protocol}`);
  const stat = stdout.trim().split('\n').pop()!;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rps,
    requests: Number(done?.[2] ?? NaN),
    failed: Number(done?.[3] ?? NaN),
    meanMs: mean ? ms(mean[1], mean[2]) : NaN,
    clientCpuMs: (Number(fields[13]) + Number(fields[14])) * 10,
  };
}
