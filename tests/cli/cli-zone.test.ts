import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc2-cli-zone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = (i: number) => [
  'supernode',
  '--zone',
  'ela.test',
  '--key',
  join(dir, `sn${i}.key`),
  '--data-dir',
  join(dir, `data${i}`),
  '--no-dht',
  '--api-port',
  '0',
  '--proxy-port',
  '0',
];

describe('pc2 supernode zone flags', () => {
  it('refuse bad values with a usage error (exit 2) before anything starts', async () => {
    const cases: [string[], RegExp][] = [
      [['--dns', 'nowhere'], /--dns: expected an address as <host>:<port>/],
      [['--dns', '127.0.0.1:99999'], /--dns: expected an address as <host>:<port>/],
      [
        ['--dns', '127.0.0.1:0', '--gateway-address', 'gw.example'],
        /gw\.example is not an IP address/,
      ],
      [['--dns', '127.0.0.1:0', '--dns-ttl', '0'], /--dns-ttl/],
      [['--dns', '127.0.0.1:0', '--caa', 'issue letsencrypt.org'], /--caa takes/],
      [['--acme'], /--acme-agree-tos/],
    ];
    const runs = await Promise.all(cases.map(([flags], i) => runCli([...base(i), ...flags])));
    for (const [i, [flags, message]] of cases.entries()) {
      expect(runs[i].code, flags.join(' ')).toBe(2);
      expect(runs[i].stderr).toMatch(message);
    }
  });

  it('lists the zone flags in --help', async () => {
    const run = await runCli(['supernode', '--help']);
    expect(run.code).toBe(0);
    for (const flag of [
      '--dns <addr:port>',
      '--dns-ttl',
      '--ns-host',
      '--gateway-address',
      '--acme ',
      '--acme-directory',
      '--acme-email',
      '--acme-agree-tos',
    ])
      expect(run.stdout).toContain(flag);
  });
});
