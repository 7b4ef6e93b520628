/**
 * A process that sees its own /etc/hosts: `unshare -m` (a private mount namespace) with a file bound
 * over /etc/hosts, so a test can point a real DNS name at 127.0.0.1 for one process, as an attacker
 * does with a name of theirs, without touching the machine's resolver. Needs root and unshare
 * (util-linux); `hostsNamespace` says whether this machine can.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function probe(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-m', 'sh', '-c', 'mount --bind /etc/hosts /etc/hosts'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    return true;
  } catch {
    return false;
  }
}

export const hostsNamespace = probe();

/** A command prefix (startProcess's `prefix`) that runs the command with `entries` as /etc/hosts. */
export function withHosts(dir: string, entries: Record<string, string>): string[] {
  const file = join(dir, 'hosts');
  const lines = ['127.0.0.1 localhost', ...Object.entries(entries).map(([n, a]) => `${a} ${n}`)];
  writeFileSync(file, lines.join('\n') + '\n');
  return ['unshare', '-m', 'sh', '-c', `mount --bind ${file} /etc/hosts && exec "$0" "$@"`];
}
