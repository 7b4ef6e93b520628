/** Real `pc2` processes for end-to-end tests: super nodes, gateways, node agents, upstreams. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveIdentity } from '../../agent/identity.ts';
import { KeyPair } from '../../shared/keys.ts';
import { CLI, PC2, REPO } from './cli.ts';

export { reservePort } from './ports.ts';

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches; rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` to the process group without waiting for anything (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
}

export function startProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; prefix?: string[] } = {},
): Proc {
  const argv = [...(options.prefix ?? []), command, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const onExit = (code: number | null) => {
          done();
          reject(
            new Error(
              `${argv.join(' ')} exited (${code}) before ${pattern}:\n${output.slice(-3000)}`,
            ),
          );
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}:\n${output.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid!, signal);
      } catch {
        return;
      }
      await exited;
    },
  };
}

/** The pc2 CLI as installed (or its TypeScript entry under another runner, via `prefix`). */
export const pc2 = (
  args: string[],
  options: { env?: Record<string, string>; prefix?: string[] } = {},
) => startProcess(options.prefix ? CLI : PC2, args, options);

export interface KeyFile {
  key: KeyPair;
  path: string;
}

export async function keyFile(dir: string, name: string): Promise<KeyFile> {
  const key = KeyPair.generate();
  const path = join(dir, `${name}.key`);
  await saveIdentity(path, key);
  return { key, path };
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
