import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDevnet, type Devnet } from '../../cli/devnet.ts';
import { PC2, REPO } from '../helpers/cli.ts';

const run = promisify(execFile);

/** curl, because *.localhost resolving to loopback is what a visitor's tools do. */
async function curl(url: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-m', '10', '-w', '\n%{http_code}', url]);
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

describe('pc2 devnet as a real process (what npm start runs)', () => {
  let child: ChildProcess;
  let port: number;
  let output = '';

  beforeAll(async () => {
    port = await freePort();
    child = spawn(PC2, ['devnet', '--port', String(port)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet not ready:\n${output}`)), 30_000);
      child.stdout!.on('data', () => {
        if (output.includes('Ctrl-C stops everything')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`devnet exited ${code}:\n${output}`)));
    });
  }, 40_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  });

  it('prints the demo URLs', () => {
    expect(output).toContain(`http://alice.localhost:${port}`);
    expect(output).toMatch(/alice: behind the relay/);
    expect(output).toMatch(/bob: direct/);
  });

  it('serves alice (relayed) and bob (direct), and a 404 page for an unknown name', async () => {
    const alice = await curl(`http://alice.localhost:${port}/`);
    expect(alice.status).toBe(200);
    expect(alice.body).toContain('Hello from alice');
    expect(alice.body).toContain(`alice.localhost:${port}`);
    const bob = await curl(`http://bob.localhost:${port}/`);
    expect(bob.status).toBe(200);
    expect(bob.body).toContain('Hello from bob');
    const nobody = await curl(`http://nobody.localhost:${port}/`);
    expect(nobody.status).toBe(404);
    expect(nobody.body).toContain('<html');
  });

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  });
});

describe('devnet in-process: a stopped node', () => {
  let net: Devnet;
  beforeAll(async () => {
    net = await startDevnet({ port: await freePort(), host: '127.0.0.1' });
  }, 30_000);
  afterAll(() => net?.stop());

  it('gives the 503 offline page once alice stops', async () => {
    const url = net.urls.alice;
    expect((await curl(url)).status).toBe(200);
    await net.agents.alice.stop();
    const page = await curl(url);
    expect(page.status).toBe(503);
    expect(page.body.toLowerCase()).toContain('offline');
    expect((await curl(net.urls.bob)).status).toBe(200);
  });
});
