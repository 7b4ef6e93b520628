/**
 * Starts `wrangler dev` (the edge in workerd) in its own process group and stops it by that group,
 * so no workerd child outlives the test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../client.ts';
import { deadPort } from '../origins.ts';

export interface WranglerDev {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startWranglerDev(
  vars: Record<string, string>,
  readyHost: string,
  timeoutMs = 80_000,
): Promise<WranglerDev> {
  const port = await deadPort();
  const inspectorPort = await deadPort();
  const stateDir = await mkdtemp(join(tmpdir(), 'pc2-wrangler-'));
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    stateDir,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn('npx', ['--no-install', ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CI: 'true',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_HIDE_BANNER: 'true',
      NO_COLOR: '1',
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(killer);
    await rm(stateDir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 400; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const res = await send(baseUrl, readyHost, '/');
      if (res.status === 200) return { baseUrl, close };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await close();
  throw new Error(`wrangler dev did not become ready:\n${output.slice(-3000)}`);
}
