import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PC2, REPO } from '../helpers/cli.ts';
import { LAN_IP, NatLab, natLabSupported, WAN_IP } from '../helpers/nat-lab.ts';
import { keyFile, tempDir } from '../helpers/processes.ts';

const run = promisify(execFile);
const support = natLabSupported();
const lab = new NatLab();
const dir = tempDir('pc2-nat-');
const ports = {
  p: 18080,
  s: 18081,
  pp: 18090,
  sp: 18091,
  gw: 18443,
  up: 4200,
  pd: 39001,
  sd: 39002,
};
const logs: Record<string, string> = {};

/** TypeScript helpers on the Node running these tests (the project's pinned one). */
const TS = [process.execPath, '--import', 'tsx'];

function start(
  ns: string,
  label: string,
  [command, ...args]: string[],
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  const child = lab.spawn(ns, command, args, { cwd: REPO });
  logs[label] = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} not ready:\n${logs[label]}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      logs[label] += d;
      if (ready.test(logs[label])) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${label} exited ${code}:\n${logs[label]}`)));
  });
}

describe.skipIf(!support.ok)(
  'a node behind a real NAT (network namespaces, nftables MASQUERADE)',
  () => {
    beforeAll(async () => {
      lab.create();
      const [p, s, edge, alice] = await Promise.all(
        ['p', 's', 'edge', 'alice'].map((n) => keyFile(dir, n)),
      );
      const sn = (
        me: typeof p,
        api: number,
        proxy: number,
        dht: number,
        peer: typeof p,
        peerApi: number,
        peerDht: number,
        name: string,
      ) => [
        PC2,
        'supernode',
        '--zone',
        'localhost',
        '--key',
        me.path,
        '--data-dir',
        join(dir, name),
        '--host',
        WAN_IP,
        '--api-port',
        String(api),
        '--proxy-port',
        String(proxy),
        '--edge-key',
        edge.key.id.toString(),
        '--peer',
        `${peer.key.id}@http://${WAN_IP}:${peerApi}`,
        '--developer-mode',
        '--dht-port',
        String(dht),
        '--bootstrap',
        `${peer.key.id}@${WAN_IP}:${peerDht}`,
        '--public-url',
        `http://{name}.localhost:${ports.gw}`,
      ];
      await Promise.all([
        start(
          lab.wan,
          'primary',
          sn(p, ports.p, ports.pp, ports.pd, s, ports.s, ports.sd, 'p'),
          /registry API/,
        ),
        start(
          lab.wan,
          'secondary',
          sn(s, ports.s, ports.sp, ports.sd, p, ports.p, ports.pd, 's'),
          /registry API/,
        ),
        start(
          lab.lan,
          'upstream',
          [...TS, join(REPO, 'tests/helpers/upstream.ts'), LAN_IP, String(ports.up), 'alice'],
          /upstream http/,
        ),
      ]);
      await start(
        lab.wan,
        'gateway',
        [
          PC2,
          'gateway',
          '--workers',
          '2',
          '--zone',
          'localhost',
          '--registrar',
          p.key.id.toString(),
          '--registrar',
          s.key.id.toString(),
          '--supernode',
          `${p.key.id}@http://${WAN_IP}:${ports.p}`,
          '--supernode',
          `${s.key.id}@http://${WAN_IP}:${ports.s}`,
          '--edge-key-file',
          edge.path,
          '--host',
          WAN_IP,
          '--http-port',
          String(ports.gw),
        ],
        /gateway for/,
      );
      // The agent offers its LAN address as a public URL; only the probe from outside can tell it is not.
      await start(
        lab.lan,
        'node',
        [
          PC2,
          'node',
          '--name',
          'alice',
          '--supernode',
          `http://${WAN_IP}:${ports.p}`,
          '--supernode',
          `http://${WAN_IP}:${ports.s}`,
          '--upstream',
          `http://${LAN_IP}:${ports.up}`,
          '--public-url',
          `http://${LAN_IP}:${ports.up}`,
          '--key',
          alice.path,
        ],
        /"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/,
        90_000,
      );
    }, 180_000);

    afterAll(() => lab.destroy());

    it('chose relay mode by itself: the super node could not reach its endpoint', () => {
      expect(logs.node).toMatch(
        /reachability probe \{"endpoint":"http:\/\/10\.77\.0\.2:4200","reachable":false/,
      );
      expect(logs.node).toContain('mode chosen {"mode":"relay"}');
    });

    it('serves the page, a 100 MiB upload and a WebSocket echo through the tunnel, byte-exact', async () => {
      const { stdout } = await run(
        'ip',
        [
          'netns',
          'exec',
          lab.wan,
          ...TS,
          join(REPO, 'tests/helpers/nat-client.ts'),
          `${WAN_IP}:${ports.gw}`,
          'alice',
          '100',
        ],
        {
          cwd: REPO,
          timeout: 240_000,
          maxBuffer: 1 << 20,
        },
      );
      const result = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(result.page.status).toBe(200);
      expect(result.page.body).toContain('hello from alice');
      expect(result.upload).toEqual({ status: 200, bytes: 100 * 1024 * 1024, match: true });
      expect(result.websocket).toEqual({ status: 101, echoed: 2, match: true });
    }, 250_000);

    it('is still unreachable from outside except through the relay', async () => {
      const probe = await run('ip', [
        'netns',
        'exec',
        lab.wan,
        'curl',
        '-s',
        '-m',
        '2',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${LAN_IP}:${ports.up}/`,
      ]).catch((e) => e);
      expect(probe.stdout ?? '').toBe('000');
    });
  },
);
