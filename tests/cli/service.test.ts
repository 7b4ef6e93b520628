/**
 * `pc2 service install`: the units it writes for each role, read back and checked line by line, and
 * by `systemd-analyze verify` (systemd 252 is installed here; the test says so when it is not).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PC2, REPO, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/processes.ts';

const run = promisify(execFile);
const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const launcher = join(REPO, 'cli', 'pc2.js');

const ROLES = {
  node: [
    '--name',
    'alice',
    '--supernode',
    'https://sn1.example.org',
    '--supernode',
    'https://sn2.example.org',
  ],
  supernode: [
    '--zone',
    'example.org',
    '--edge-key',
    'AScbEvXLDMFdpbVLTyyDDEwxnsVJJrhMdLxjq2BVDjfa',
  ],
  gateway: [
    '--zone',
    'example.org',
    '--registrar',
    'AScbEvXLDMFdpbVLTyyDDEwxnsVJJrhMdLxjq2BVDjfa',
    '--supernode',
    'AScbEvXLDMFdpbVLTyyDDEwxnsVJJrhMdLxjq2BVDjfa@https://sn1.example.org',
  ],
} as const;

describe('pc2 service install', () => {
  for (const [role, args] of Object.entries(ROLES)) {
    it(`writes a hardened unit and its config for ${role}`, { timeout: 60_000 }, async () => {
      const dir = tempDir('pc2-unit-');
      const units = join(dir, 'units');
      mkdirSync(units);
      const config = join(dir, 'etc', `${role}.json`);
      const dataDir = join(dir, 'data');
      const r = await runCli([
        'service',
        'install',
        role,
        '--unit-dir',
        units,
        '--unit-config',
        config,
        '--data-dir',
        dataDir,
        '--',
        ...args,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const unitFile = join(units, `pc2-${role}.service`);
      expect(r.stdout).toContain(`systemctl enable --now pc2-${role}.service`);
      expect(r.stdout).toContain('useradd --system');
      const unit = readFileSync(unitFile, 'utf8');
      const lines = new Set(unit.split('\n'));
      for (const line of [
        'User=pc2',
        'Group=pc2',
        `ExecStart=${launcher} ${role} --config ${config}`,
        'ProtectSystem=strict',
        `ReadWritePaths=${dataDir}`,
        'NoNewPrivileges=yes',
        'PrivateTmp=yes',
        'Restart=on-failure',
        'RestartPreventExitStatus=2 3',
        'WantedBy=multi-user.target',
      ])
        expect(lines.has(line), line).toBe(true);
      expect(unit).not.toMatch(/\/usr\/bin\/node|ExecStart=\S*node /);
      // Only the roles that bind ports below 1024 get the one capability for it.
      expect(lines.has('AmbientCapabilities=CAP_NET_BIND_SERVICE')).toBe(role === 'gateway');
      const json = JSON.parse(readFileSync(config, 'utf8'));
      if (role === 'node')
        expect(json).toEqual({
          key: join(dataDir, 'identity.key'),
          name: 'alice',
          supernode: ['https://sn1.example.org', 'https://sn2.example.org'],
        });
      if (role === 'supernode')
        expect(json).toMatchObject({
          key: join(dataDir, 'supernode.key'),
          dataDir,
          zone: 'example.org',
        });
      if (role === 'gateway')
        expect(json).toMatchObject({ edgeKeyFile: join(dataDir, 'edge.key'), zone: 'example.org' });
      expect(statSync(config).mode & 0o777).toBe(0o644);
      // The config runs: the same command line the unit has, told to print its help, parses it.
      const again = await runCli([role, '--config', config, '--help']);
      expect(again.code).toBe(0);
      if (!analyze) return console.log('systemd-analyze is not installed here: verify skipped');
      const verified = await run(analyze, ['verify', unitFile]).then(
        (x) => ({ code: 0, stderr: x.stderr }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
    });
  }

  it('--dry-run prints both files and writes nothing; bad role options never become a unit', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir('pc2-unit-');
    const dry = await runCli([
      'service',
      'install',
      'node',
      '--unit-dir',
      dir,
      '--dry-run',
      '--',
      ...ROLES.node,
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`# ${join(dir, 'pc2-node.service')}`);
    expect(dry.stdout).toContain('# /etc/pc2/node.json');
    expect(dry.stdout).toContain('"name": "alice"');
    expect(existsSync(join(dir, 'pc2-node.service'))).toBe(false);
    const bad = await runCli([
      'service',
      'install',
      'node',
      '--unit-dir',
      dir,
      '--',
      '--name',
      'alice',
      '--supernode',
      'sn1.example',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--supernode');
    const missing = await runCli([
      'service',
      'install',
      'node',
      '--unit-dir',
      dir,
      '--',
      '--supernode',
      'https://a.example',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--name is required');
    expect((await runCli(['service', 'install', 'toaster'])).code).toBe(2);
    expect((await runCli(['service', 'remove', 'node'])).code).toBe(2);
    expect(PC2).toBe(launcher);
  });
});
