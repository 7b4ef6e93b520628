/**
 * `pc2 cloud backup|restore` in its own process for bench:cloud (cloud-backup.ts), which reads the
 * peak memory it prints: "<exit code> <VmHWM MiB>".
 */
import { readFileSync } from 'node:fs';
import { cloudBackupCommand } from '../cloud/backup/command.ts';

const [command, dataDir, file] = process.argv.slice(2);
const code = await cloudBackupCommand(
  { command: command as 'backup' | 'restore', dataDir, file },
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
);
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
process.stdout.write(`${code} ${hwm.toFixed(0)}\n`);
process.exit(code);
