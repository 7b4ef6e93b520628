import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { PC2, runCli } from '../helpers/cli.ts';

const sh = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pc2-id-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sub = (name: string) => {
  mkdirSync(join(dir, name), { recursive: true });
  return join(dir, name);
};

describe('pc2 id', () => {
  it('creates a 0600 key, shows it, and restores exactly the same key from the phrase', {
    timeout: 120_000,
  }, async () => {
    const key = join(sub('a'), 'identity.key');
    const created = await runCli(['id', 'new', '--key', key]);
    expect(created.code).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const original = readFileSync(key, 'utf8');
    const id = KeyPair.fromBosonPrivateKey(original.trim()).id;
    expect(created.stdout).toContain(`did: ${id.toDid()}`);

    const phrase = created.stdout.trim().split('\n').pop()!;
    expect(phrase.split(' ')).toHaveLength(24);
    // Not on a terminal: --phrase prints the words and nothing else.
    const shown = await runCli(['id', 'show', '--phrase'], { env: { PC2_KEY: key } });
    expect(shown).toMatchObject({ code: 0, stdout: `${phrase}\n`, stderr: '' });
    const plain = await runCli(['id', 'show'], { env: { PC2_KEY: key } });
    expect(plain.stdout).toContain(`id:  ${id}`);

    const restoredPath = join(sub('b'), 'identity.key');
    const phraseFile = join(dir, 'phrase.txt');
    writeFileSync(phraseFile, `  ${phrase.toUpperCase()}\n`);
    const restored = await runCli([
      'id',
      'restore',
      '--key',
      restoredPath,
      '--phrase-file',
      phraseFile,
    ]);
    expect(restored.code).toBe(0);
    expect(readFileSync(restoredPath, 'utf8')).toBe(original);
    expect(statSync(restoredPath).mode & 0o777).toBe(0o600);

    const fromStdin = await runCli(['id', 'restore', '--key', join(sub('c'), 'k')], {
      input: phrase,
    });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toContain(id.toString());
  });

  it('copies a key through a pipe: pc2 id show --phrase | pc2 id restore', {
    timeout: 60_000,
  }, async () => {
    const from = join(sub('pipe'), 'from.key');
    const to = join(sub('pipe'), 'to.key');
    expect((await runCli(['id', 'new', '--key', from])).code).toBe(0);
    const { stdout, stderr } = await sh('sh', [
      '-c',
      `"${PC2}" id show --phrase --key "${from}" | "${PC2}" id restore --key "${to}"`,
    ]);
    expect(stderr).toBe('');
    expect(stdout).toContain('restored');
    expect(readFileSync(to, 'utf8')).toBe(readFileSync(from, 'utf8'));
  });

  it('ends quietly (exit 0, no stack trace) when the reader of its output goes away', {
    timeout: 60_000,
  }, async () => {
    const key = join(sub('epipe'), 'k.key');
    // `head -1` closes the pipe after the first line; pc2 then writes into a closed pipe.
    const { stdout, stderr } = await sh('bash', [
      '-c',
      `"${PC2}" id new --key "${key}" | head -1; echo "status \${PIPESTATUS[0]}"`,
    ]);
    expect(stdout).toMatch(/^created .*\nstatus 0\n$/);
    expect(stderr).toBe('');
  });

  it("never creates a key's directory: a missing one is a usage error (exit 2)", {
    timeout: 60_000,
  }, async () => {
    const missing = join(dir, 'no', 'such', 'dir', 'k.key');
    for (const args of [
      ['id', 'new', '--key', missing],
      ['id', 'restore', '--key', missing],
      ['node', '--name', 'alice', '--supernode', 'http://127.0.0.1:1', '--key', missing],
    ]) {
      const r = await runCli(args, { input: 'x' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('does not exist');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('refuses to overwrite a key, a bad phrase, and unknown input, with non-zero exits', {
    timeout: 120_000,
  }, async () => {
    const key = join(sub('d'), 'identity.key');
    expect((await runCli(['id', 'new', '--key', key])).code).toBe(0);
    const again = await runCli(['id', 'new', '--key', key]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');

    const words = Array.from({ length: 24 }, () => 'abandon').join(' ');
    const bad = await runCli(['id', 'restore', '--key', join(sub('e'), 'k')], { input: words });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not valid');
    const short = await runCli(['id', 'restore', '--key', join(sub('e'), 'k')], {
      input: 'one two',
    });
    expect(short.stderr).toContain('24 words');

    const [missing, flag, command] = await Promise.all([
      runCli(['id', 'show', '--key', join(dir, 'nope')]),
      runCli(['id', 'show', '--bogus']),
      runCli(['frobnicate']),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pc2 id new');
    expect(flag.code).toBe(2);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command');
  });
});
