/**
 * The super node's memory per idle tunnel session: a tunnel server (bench/super-side.ts, its own
 * process) measured after three GCs before and after N idle sessions (bench/idle-clients.ts) attach.
 * The CLI's super node admits only owners of a name, so this one runs the tunnel server alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { KeyPair } from '../shared/keys.ts';

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

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as T));
    child.send({ cmd });
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
  const edge = KeyPair.generate();
  const superSide = await startChild(
    'bench/super-side.ts',
    [edge.id.toString(), KeyPair.generate().id.toString()],
    (l) => l.startsWith('{'),
  );
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
