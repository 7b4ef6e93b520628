/**
 * `pc2 cloud backup|restore`: a streamed archive of the personal cloud's data directory (every
 * wallet's files, versions, trash and metadata), and its restore onto a node that is not running.
 * A running node is backed up from its owner's page or `GET /api/admin/backup` (docs/cloud.md).
 */
import { cloudBackupCommand } from '../cloud/backup/command.ts';
import { CLOUD_SPEC, cloudDirOf } from './cloud-flags.ts';
import { CliError, EXIT } from './errors.ts';
import { KEY_FLAG } from './flags.ts';
import { parseOptions } from './options.ts';

const USAGE = `pc2 cloud backup --out <file|->
pc2 cloud restore --in <file|-> [--replace]

Writes or restores a backup of this machine's personal cloud (the data directory of \`pc2 node\`,
which must not be running: a running node is backed up from its owner's page). A corrupted or
truncated archive is refused and changes nothing. Exit 0 done, 1 refused or failed, 2 bad usage.`;

const SPEC = {
  key: { ...KEY_FLAG, description: 'the identity key the cloud lives beside (finds --cloud-dir)' },
  cloudDir: CLOUD_SPEC.cloudDir,
  out: {
    kind: 'string',
    value: '<file|->',
    description: 'backup: the archive to write (- for stdout)',
  },
  in: {
    kind: 'string',
    value: '<file|->',
    description: 'restore: the archive to read (- for stdin)',
  },
  replace: {
    kind: 'boolean',
    description: 'restore: replace a cloud that already has wallets',
    default: false,
  },
} as const;

export async function runCloud(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command !== 'backup' && command !== 'restore') {
    if (command === undefined || command === '--help' || command === '-h') {
      console.log(USAGE);
      return;
    }
    throw new CliError(`unknown cloud command "${command}"\n\n${USAGE}`, EXIT.USAGE);
  }
  const parsed = parseOptions(rest, SPEC, USAGE);
  if (!parsed) return;
  if (parsed.positionals.length)
    throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.USAGE);
  const o = parsed.options;
  const file = command === 'backup' ? o.out : o.in;
  if (!file)
    throw new CliError(`${command} needs --${command === 'backup' ? 'out' : 'in'}`, EXIT.USAGE);
  if (command === 'backup' && (o.in || o.replace))
    throw new CliError('--in and --replace are for restore', EXIT.USAGE);
  if (command === 'restore' && o.out) throw new CliError('--out is for backup', EXIT.USAGE);
  const code = await cloudBackupCommand(
    { command, dataDir: cloudDirOf(o), file, replace: o.replace },
    { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  );
  if (code !== 0) process.exitCode = code;
}
