/**
 * `pc2 devnet --zone`: the whole zone on loopback. As a process with Debian's pebble: dig gets the
 * gateway from the devnet's DNS, curl trusting the printed root gets carol's own certificate (a
 * private name) and the zone's wildcard for alice, over HTTPS, and Ctrl-C stops it all. In-process
 * without pebble on the PATH: a clear message, the DNS still answers, names are plain HTTP.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../cli/devnet.ts';
import { PC2, REPO } from '../helpers/cli.ts';
import { reservePort } from '../helpers/ports.ts';
import { reserveDnsPort, short, toolsSupported } from '../helpers/zone-network.ts';

const run = promisify(execFile);
const support = toolsSupported(['pebble', 'openssl', 'curl', 'dig']);

async function curl(url: string, ca: string): Promise<{ body: string; matched: string }> {
  const { stdout, stderr } = await run('curl', ['-sv', '-m', '10', '--cacert', ca, url]);
  return { body: stdout, matched: /matched cert's "([^"]+)"/.exec(stderr)?.[1] ?? stderr };
}

describe.skipIf(!support.ok)('pc2 devnet --zone as a process, with pebble', () => {
  let child: ChildProcess;
  let output = '';
  let httpsPort: number;
  let dnsPort: number;

  beforeAll(async () => {
    httpsPort = await reservePort();
    dnsPort = await reserveDnsPort();
    const args = ['devnet', '--zone', '--port', String(await reservePort())];
    args.push('--https-port', String(httpsPort), '--dns-port', String(dnsPort));
    child = spawn(PC2, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet not ready:\n${output}`)), 90_000);
      child.stdout!.on('data', () => {
        if (!output.includes('Ctrl-C stops everything')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`devnet exited ${code}:\n${output}`)));
    });
  }, 100_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  });

  it('answers DNS for the zone and serves every name over HTTPS, carol with her own certificate', async () => {
    expect(await short(dnsPort, 'carol.pc2.localhost', 'A')).toEqual(['127.0.0.1']);
    const root = /curl --cacert (\S+zone-root\.pem)/.exec(output)?.[1];
    expect(root, output).toBeTruthy();
    const carol = await curl(`https://carol.pc2.localhost:${httpsPort}/`, root!);
    expect(carol.matched).toBe('carol.pc2.localhost');
    expect(carol.body).toContain('PC2 personal cloud');
    const alice = await curl(`https://alice.pc2.localhost:${httpsPort}/`, root!);
    expect(alice.matched).toBe('*.pc2.localhost');
    expect(alice.body).toContain('PC2 personal cloud');
  });

  it('stops on Ctrl-C (exit 130, as every command)', async () => {
    const code = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await code).toBe(130);
  }, 30_000);
});

describe('pc2 devnet --zone without pebble', () => {
  let net: Devnet;
  let dnsPort: number;
  let port: number;
  const bin = mkdtempSync(join(tmpdir(), 'pc2-nopebble-'));
  const path = process.env.PATH;

  beforeAll(async () => {
    // A PATH with a shell and nothing else: no pebble to be found.
    symlinkSync('/bin/sh', join(bin, 'sh'));
    dnsPort = await reserveDnsPort();
    port = await reservePort();
    process.env.PATH = bin;
    try {
      net = await startDevnet({ zone: true, port, host: '127.0.0.1', dnsPort });
    } finally {
      process.env.PATH = path;
    }
  }, 60_000);

  afterAll(async () => {
    await net?.stop();
    rmSync(bin, { recursive: true, force: true });
  });

  it('says why, runs the DNS, and serves the names over plain HTTP with no private node', async () => {
    expect(net.zone?.unavailable).toMatch(/pebble is not installed \(apt-get install pebble\)/);
    expect(net.zone?.rootFile).toBeNull();
    expect(Object.keys(net.urls)).toEqual(['alice', 'bob']);
    expect(net.urls.alice).toBe(`http://alice.pc2.localhost:${port}`);
    if (support.ok) expect(await short(dnsPort, 'alice.pc2.localhost', 'A')).toEqual(['127.0.0.1']);
    const { stdout } = await run('curl', ['-s', '-m', '10', net.urls.alice + '/']);
    expect(stdout).toContain('PC2 personal cloud');
  });
});
