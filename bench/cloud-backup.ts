/**
 * bench:cloud's backup phase: a cloud holding BENCH_BACKUP_GIB (5) GiB in 100 MiB files (written
 * here through the store), then `pc2 cloud backup` to a file and `pc2 cloud restore` into a fresh
 * directory, each in its own process: time, throughput and peak RSS (VmHWM; target under 300 MB).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createCloud } from '../cloud/index.ts';

const run = promisify(execFile);
const GIB = 1024 ** 3;
const CHILD = fileURLToPath(new URL('./cloud-backup-child.ts', import.meta.url));

async function* repeated(block: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let done = 0; done < size; done += block.length)
    yield block.subarray(0, Math.min(block.length, size - done));
}

async function child(
  command: string,
  dataDir: string,
  file: string,
): Promise<{ s: number; hwm: number }> {
  const t = performance.now();
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', CHILD, command, dataDir, file],
    { maxBuffer: 1 << 20 },
  );
  const [code, hwm] = stdout.trim().split('\n').pop()!.split(' ').map(Number);
  if (code !== 0) throw new Error(`${command} exited with ${code}`);
  return { s: (performance.now() - t) / 1000, hwm };
}

export async function backupBench(base: string): Promise<string[]> {
  const size = Number(process.env.BENCH_BACKUP_GIB ?? 5) * GIB;
  if (size <= 0) return [];
  const dir = mkdtempSync(join(base, 'backup-'));
  try {
    const src = join(dir, 'src');
    const cloud = createCloud({
      dataDir: src,
      origins: ['http://127.0.0.1'],
      sweepIntervalMs: 0,
      limits: { quotaBytes: 2 ** 42 },
    });
    const address = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf';
    cloud.store.addWallet(address, 'owner');
    const file = 100 * 1024 * 1024;
    const block = randomBytes(16 * 1024 * 1024);
    let n = 0;
    for (let done = 0; done < size; done += file, n++) {
      const blob = await cloud.store.blobs.write(
        repeated(block, Math.min(file, size - done)),
        2 ** 42,
      );
      cloud.store.commitFile(address, [`file-${n}.bin`], blob);
    }
    cloud.close();
    const uptimeBefore = execFileSync('uptime').toString().trim();
    const archive = join(dir, 'cloud.pc2backup');
    const b = await child('backup', src, archive);
    const archiveBytes = statSync(archive).size;
    rmSync(src, { recursive: true, force: true });
    const r = await child('restore', join(dir, 'dst'), archive);
    const uptimeAfter = execFileSync('uptime').toString().trim();
    const mibps = (s: number) => (archiveBytes / s / 1024 ** 2).toFixed(0);
    return [
      `bench:cloud backup — ${new Date().toISOString()} — Node ${process.version}`,
      `uptime before: ${uptimeBefore}`,
      `uptime after:  ${uptimeAfter}`,
      `${(size / GIB).toFixed(1)} GiB in ${n} files, archive ${(archiveBytes / GIB).toFixed(2)} GiB:`,
      `- pc2 cloud backup to a file: ${b.s.toFixed(1)} s (${mibps(b.s)} MiB/s), peak RSS ${b.hwm} MiB (target < 300 MB)`,
      `- pc2 cloud restore into a fresh directory (checked, fsynced, swapped in): ${r.s.toFixed(1)} s (${mibps(r.s)} MiB/s), peak RSS ${r.hwm} MiB`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
