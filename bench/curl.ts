/**
 * curl (Debian package) as the bulk client: C, one process for many parallel transfers
 * (`--parallel`, at most 300 per process in curl 7.x, so larger batches run as several processes),
 * and it reports its own CPU time so a run can show that the client was not the bottleneck.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface Transfer {
  status: number;
  bytes: number;
  seconds: number;
}

export interface CurlRun {
  transfers: Transfer[];
  /** Wall time from the first curl's start to the last one's exit, s. */
  seconds: number;
  /** CPU time the curl processes used, s. */
  cpuSeconds: number;
}

const PER_PROCESS = 250;

/** Fetches every URL (all at once, up to 250 per curl process) and returns each transfer's outcome. */
export async function curlAll(
  urls: string[],
  options: { host?: string; timeoutS?: number } = {},
): Promise<CurlRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-curl-'));
  try {
    const batches: string[][] = [];
    for (let i = 0; i < urls.length; i += PER_PROCESS) batches.push(urls.slice(i, i + PER_PROCESS));
    const start = performance.now();
    const runs = await Promise.all(
      batches.map((batch, i) => {
        const config = join(dir, `urls-${i}.txt`);
        writeFileSync(config, batch.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
        const args = [
          '-s',
          ...(batch.length > 1
            ? ['--parallel', '--parallel-immediate', '--parallel-max', String(batch.length)]
            : []),
          ...(options.host ? ['-H', `Host: ${options.host}`] : []),
          '--max-time',
          String(options.timeoutS ?? 600),
          '-w',
          '%{http_code} %{size_download} %{time_total}\\n',
          '-K',
          config,
        ];
        // The shell prints its own /proc stat after curl exits: cutime + cstime are curl's CPU.
        return promisify(execFile)('sh', ['-c', 'curl "$@"; cat /proc/$$/stat', 'sh', ...args], {
          maxBuffer: 16 << 20,
        });
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const transfers: Transfer[] = [];
    let cpuSeconds = 0;
    for (const { stdout } of runs) {
      const lines = stdout.trim().split('\n');
      const stat = lines.pop()!;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuSeconds += (Number(fields[13]) + Number(fields[14])) / 100;
      for (const line of lines) {
        const [status, bytes, time] = line.split(' ').map(Number);
        transfers.push({ status, bytes, seconds: time });
      }
    }
    return { transfers, seconds, cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
