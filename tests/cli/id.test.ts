import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc2-id-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pc2 id', () => {
  it('creates a 0600 key, shows it, and restores exactly the same key from the phrase', {
    timeout: 120_000,
  }, async () => {
    const key = join(dir, 'a', 'identity.key');
    const created = await runCli(['id', 'new', '--key', key]);
    expect(created.code).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const original = readFileSync(key, 'utf8');
    const id = KeyPair.fromBosonPrivateKey(original.trim()).id;
    expect(created.stdout).toContain(`did: ${id.toDid()}`);

    const phrase = created.stdout.trim().split('\n').pop()!;
    expect(phrase.split(' ')).toHaveLength(24);
    const shown = await runCli(['id', 'show', '--phrase'], { env: { PC2_KEY: key } });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`id:  ${id}`);
    expect(shown.stdout).toContain(phrase);

    const restoredPath = join(dir, 'b', 'identity.key');
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

    const fromStdin = await runCli(['id', 'restore', '--key', join(dir, 'c', 'k')], {
      input: phrase,
    });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toContain(id.toString());
  });

  it('refuses to overwrite a key, a bad phrase, and unknown input, with non-zero exits', {
    timeout: 120_000,
  }, async () => {
    const key = join(dir, 'd', 'identity.key');
    expect((await runCli(['id', 'new', '--key', key])).code).toBe(0);
    const again = await runCli(['id', 'new', '--key', key]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');

    const words = Array.from({ length: 24 }, () => 'abandon').join(' ');
    const bad = await runCli(['id', 'restore', '--key', join(dir, 'e', 'k')], { input: words });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not valid');
    const short = await runCli(['id', 'restore', '--key', join(dir, 'e', 'k')], {
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
