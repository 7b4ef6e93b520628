/**
 * wrk (Debian package) as a load generator: a C client costs the measured server far less CPU on a
 * shared 2-core machine than any Node.js client. `path` may be a Lua expression list rotated per request.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface WrkOptions {
  url: string;
  seconds: number;
  connections: number;
  threads?: number;
  headers?: Record<string, string>;
  /** Paths to cycle through, one per request (a Lua script is generated); default: the url's path. */
  paths?: string[];
}

export interface WrkResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's error lines (timeouts, non-2xx), if any. */
  errors?: string;
  /** CPU time wrk itself used, ms (user + system). */
  wrkCpuMs: number;
}

export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status === 1; // wrk --version prints its banner and exits 1
  }
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  let dir: string | undefined;
  if (o.paths?.length) {
    dir = mkdtempSync(join(tmpdir(), 'pc2-wrk-'));
    const list = o.paths.map((p) => JSON.stringify(p)).join(',\n');
    writeFileSync(
      join(dir, 'paths.lua'),
      `local paths = {\n${list}\n}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n`,
    );
    args.push('-s', join(dir, 'paths.lua'));
  }
  try {
    // The shell prints its own /proc stat after wrk exits: cutime + cstime are wrk's CPU.
    const { stdout } = await promisify(execFile)(
      'sh',
      ['-c', 'wrk "$@" && cat /proc/$$/stat', 'sh', ...args, o.url],
      {
        timeout: (o.seconds + 30) * 1000,
        maxBuffer: 1 << 20,
      },
    );
    const stat = stdout.trim().split('\n').pop()!;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
    const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
    const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '';
    const errors = stdout
      .split('\n')
      .filter((l) => /Non-2xx|Socket errors/.test(l))
      .map((l) => l.trim())
      .join('; ');
    return {
      rps,
      requests,
      p50Ms: ms(p50),
      p99Ms: ms(p99),
      ...(errors ? { errors } : {}),
      wrkCpuMs: (Number(fields[13]) + Number(fields[14])) * 10,
    };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
