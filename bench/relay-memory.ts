/**
 * What tunnel sessions and connections cost a super node: a tunnel server (bench/super-side.ts, its
 * own process) measured after three GCs before and after N idle sessions attach
 * (bench/idle-clients.ts), and while one node's pool grows to carry 1,000 streams at once. The CLI's
 * super node admits only owners of a name, so this one runs the tunnel server alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

function startChild(script: string, childArgs: string[], ready: (line: string) => boolean) {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...childArgs], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise<{ child: ChildProcess; line: string }>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) if (ready(line)) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function ask<T>(child: ChildProcess, cmd: string, extra: object = {}): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as T));
    child.send({ cmd, ...extra });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Memory {
  heapUsed: number;
  rss: number;
  sessions: number;
  connections: number;
  gc: boolean;
}

export async function measureIdleSessions(sessions: number) {
  const superSide = await startChild('bench/super-side.ts', [], (l) => l.startsWith('{'));
  const ports = JSON.parse(superSide.line) as { tunnelPort: number; servicePeer: string };
  try {
    const before = (await ask<{ memory: Memory }>(superSide.child, 'memory')).memory;
    const idle = await startChild(
      'bench/idle-clients.ts',
      [String(ports.tunnelPort), ports.servicePeer, String(sessions), '9'],
      (l) => l.startsWith('ready'),
    );
    const after = (await ask<{ memory: Memory }>(superSide.child, 'memory')).memory;
    await stop(idle.child);
    return {
      sessions: after.sessions,
      connections: after.connections,
      heapPerSessionKiB: Number(
        ((after.heapUsed - before.heapUsed) / after.sessions / 1024).toFixed(2),
      ),
      rssPerSessionKiB: Number(((after.rss - before.rss) / after.sessions / 1024).toFixed(2)),
      gc: after.gc,
    };
  } finally {
    await stop(superSide.child);
  }
}

/**
 * One node's pool growing from its first connection to `count`, each carrying a stream held open:
 * the time it takes, and the super node's CPU and memory per connection.
 */
export async function measurePoolGrowth(count: number) {
  // The node's upstream: accepts and holds every connection.
  const sink = createServer((socket) => socket.on('error', () => {}));
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const superSide = await startChild('bench/super-side.ts', [], (l) => l.startsWith('{'));
  const ports = JSON.parse(superSide.line) as { tunnelPort: number; servicePeer: string };
  try {
    const node = await startChild(
      'bench/idle-clients.ts',
      [
        String(ports.tunnelPort),
        ports.servicePeer,
        '1',
        String((sink.address() as AddressInfo).port),
      ],
      (l) => l.startsWith('ready'),
    );
    const { pool } = await ask<{
      pool: { ms: number; cpuMs: number; before: Memory; after: Memory };
    }>(superSide.child, 'pool', { count });
    await stop(node.child);
    const added = pool.after.connections - pool.before.connections;
    return {
      streams: count,
      connections: pool.after.connections,
      growthMs: Number(pool.ms.toFixed(0)),
      superNodeCpuMsPerConnection: Number((pool.cpuMs / added).toFixed(3)),
      heapPerConnectionKiB: Number(
        ((pool.after.heapUsed - pool.before.heapUsed) / added / 1024).toFixed(2),
      ),
      rssPerConnectionKiB: Number(((pool.after.rss - pool.before.rss) / added / 1024).toFixed(2)),
    };
  } finally {
    await stop(superSide.child);
    sink.close();
  }
}
