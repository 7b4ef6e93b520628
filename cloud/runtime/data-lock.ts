/**
 * One process per data directory: a `cloud.pid` file names the process using it. A second process
 * is refused with a clear error; a file left by a killed process (its pid no longer runs) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'cloud.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && running(pid)) {
        throw new Error(`the cloud data directory ${dataDir} is in use by process ${pid}`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the cloud data directory ${dataDir}`);
}
