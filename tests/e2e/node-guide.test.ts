/**
 * docs/node-guide.md, run: every command of its code blocks, in order, against real super nodes and a
 * gateway on loopback. The guide's placeholders are mapped to that network (see the guide's
 * introduction); `pc2` is the real launcher on PATH; HOME is a fresh directory, so `~/.pc2` is new.
 * A `pc2 node` command keeps running (as in the guide): it is started in the background, waited for
 * until online, and stopped with SIGINT when the next `pc2 node` or `pc2 name` command comes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { PC2, REPO } from '../helpers/cli.ts';
import { type GatewayNetwork, startGatewayNetwork } from '../helpers/gateway-network.ts';
import { reservePort, tempDir } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

interface Block {
  info: string;
  lines: string[];
}

/** The guide's ```sh blocks, their command lines (comments and blank lines left out). */
export function guideBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const m of markdown.matchAll(/^```(sh[^\n]*)\n([\s\S]*?)^```$/gm))
    blocks.push({
      info: m[1].trim(),
      lines: m[2]
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    });
  return blocks;
}

const GUIDE = readFileSync(join(REPO, 'docs', 'node-guide.md'), 'utf8');
const NOT_HERE = ['git clone <this repository> pc2-network && cd pc2-network', 'npm install'];

let net: GatewayNetwork;
let app: Awaited<ReturnType<typeof startUpstream>>;
let home: string;
let env: Record<string, string>;
let map: [string, string][];
const running: { child: ChildProcess; output: () => string }[] = [];

function sh(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function stopRunning(): Promise<void> {
  for (const r of running.splice(0)) {
    const exited = new Promise<number | null>((res) => r.child.once('exit', (code) => res(code)));
    process.kill(-r.child.pid!, 'SIGINT');
    expect(await exited, r.output().slice(-2000)).toBe(130);
    expect(r.output()).toMatch(/"state":"stopped"/);
  }
}

async function startNode(command: string): Promise<string> {
  const child = spawn('bash', ['-c', `exec ${command}`], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  running.push({ child, output: () => output });
  for (let i = 0; i < 600 && !/"state":"online"/.test(output); i++) {
    if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(output, command).toMatch(/"state":"online"/);
  return output;
}

const substitute = (line: string) => map.reduce((l, [from, to]) => l.split(from).join(to), line);

beforeAll(async () => {
  net = await startGatewayNetwork();
  app = await startUpstream('alice');
  home = tempDir('pc2-guide-');
  const bin = join(home, 'bin');
  mkdirSync(bin);
  symlinkSync(PC2, join(bin, 'pc2'));
  const direct = await reservePort();
  const inspector = await reservePort();
  env = {
    ...(process.env as Record<string, string>),
    HOME: home,
    PATH: `${bin}:${process.env.PATH}`,
    // Stand-ins for what the guide's reader has: the app on :4200, the inspector on :4040.
    PC2_UPSTREAM: app.url,
    PC2_INSPECTOR: `127.0.0.1:${inspector}`,
  };
  map = [
    ['https://sn1.ela.city', net.superNodes[0].url],
    ['https://sn2.ela.city', net.superNodes[1].url],
    ['https://alice.ela.city', `http://alice.localhost:${net.gatewayPort}`],
    ['vps.example.org:8081', `127.0.0.1:${direct}`],
    ['0.0.0.0:8081', `127.0.0.1:${direct}`],
    ['127.0.0.1:4040', `127.0.0.1:${inspector}`],
  ];
}, 60_000);

afterAll(async () => {
  for (const r of running) process.kill(-r.child.pid!, 'SIGKILL');
  await app?.close();
  await net?.close();
});

describe('docs/node-guide.md, every command', () => {
  it('runs from an identity to relay and direct mode, status, transfer, release and a service unit', {
    timeout: 240_000,
  }, async () => {
    const blocks = guideBlocks(GUIDE);
    const commands = blocks.filter((b) => b.info === 'sh').flatMap((b) => b.lines);
    expect(commands.filter((c) => NOT_HERE.includes(c))).toEqual(NOT_HERE);
    const seen: string[] = [];
    for (const original of commands) {
      if (NOT_HERE.includes(original)) continue;
      if (original.includes("<friend's id>")) {
        const friend = readFileSync(join(home, '.pc2', 'friend.key'), 'utf8').trim();
        map.push(["<friend's id>", KeyPair.fromBosonPrivateKey(friend).id.toString()]);
      }
      const command = substitute(original);
      expect(command, original).not.toMatch(/ela\.city|example\.org|</);
      if (/^pc2 (node|name) /.test(command)) await stopRunning();
      if (command.startsWith('pc2 node ')) {
        const output = await startNode(command);
        seen.push(`${original}\n${output}`);
        continue;
      }
      let r = await sh(command);
      // A gateway remembers "offline" for 5 s (as the guide says): a visitor right after a restart retries.
      for (
        let i = 0;
        i < 40 && command.startsWith('curl') && r.stdout.includes('Node offline');
        i++
      ) {
        await new Promise((res) => setTimeout(res, 250));
        r = await sh(command);
      }
      expect(r.code, `${original}\n${r.stderr}`).toBe(0);
      seen.push(`${original}\n${r.stdout}`);
    }
    await stopRunning();
    const out = (prefix: string) =>
      seen.filter((s) => s.startsWith(prefix)).map((s) => s.slice(s.indexOf('\n') + 1));

    // What each step is there to show.
    expect(out('pc2 --version')[0]).toMatch(/^pc2 \d+\.\d+\.\d+ on Node\.js v26/);
    expect(out('pc2 id show\n')[0] ?? out('pc2 id show')[0]).toMatch(/did: did:boson:/);
    const nodes = out('pc2 node ');
    expect(nodes[0]).toMatch(/"state":"online","mode":"relay"/);
    expect(nodes[1]).toMatch(/"state":"online","mode":"direct"/);
    const visits = out('curl -s https://alice.ela.city/');
    expect(visits).toEqual(['<h1>hello from alice</h1>\n', '<h1>hello from alice</h1>\n']);
    const inspected = JSON.parse(out('curl -s http://127.0.0.1:4040/api/state')[0]);
    expect(inspected.status).toMatchObject({ name: 'alice', state: 'online', mode: 'relay' });
    expect(inspected.requests.map((r: { path: string }) => r.path)).toContain('/');
    expect(out('pc2 status alice --supernode')[0]).toMatch(
      /^alice {2}online\n[\s\S]*direct to http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(JSON.parse(out('pc2 status alice --json')[0])).toMatchObject({
      state: 'online',
      route: { mode: 'direct' },
    });
    expect(out('pc2 name list --supernode')[0]).toBe('alice\n');
    expect(out('pc2 name accept')[0]).toMatch(/"alice" is now bound to/);
    expect(out('pc2 name release')[0]).toMatch(/released "alice"/);
    expect(out('pc2 name list --key')[0]).toMatch(/^no names are bound to/);
    expect(out('pc2 service install node --dry-run')[0]).toContain('ExecStart=');

    // The systemd block: the install writes (to a scratch directory here), and the other lines are
    // exactly what it tells you to run.
    const [systemd] = blocks.filter((b) => b.info === 'sh systemd');
    const [install, ...rest] = systemd.lines;
    const scratch = join(home, 'systemd');
    mkdirSync(scratch);
    const installed = await sh(
      substitute(install).replace(
        'service install node',
        `service install node --unit-dir ${scratch} --unit-config ${scratch}/node.json`,
      ),
    );
    expect(installed.code, installed.stderr).toBe(0);
    for (const line of rest) expect(installed.stdout, line).toContain(`  ${line}\n`);
  });
});
