/** Test helpers: temporary data directories, a settable clock, registries on 127.0.0.1 port 0. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyPair } from '../../../shared/keys.ts';
import {
  startRegistryServer,
  type RegistryOptions,
  type RegistryServer,
} from '../../../origin/registry/index.ts';
import { RegistryClient } from '../../../agent/registry-client.ts';

export class ManualClock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-registry-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function startRegistry(
  options: Partial<RegistryOptions> = {},
): Promise<RegistryServer & { key: KeyPair }> {
  const key = options.key ?? KeyPair.generate();
  const server = await startRegistryServer({
    key,
    trustedRegistrars: [key.id],
    dataDir: tempDir(),
    rateLimits: false,
    host: '127.0.0.1',
    port: 0,
    ...options,
  });
  return Object.assign(server, { key });
}

export function clientFor(
  server: { url: string },
  key = KeyPair.generate(),
  clock?: { now(): number },
): RegistryClient {
  return new RegistryClient({ url: server.url, key, ...(clock ? { clock } : {}) });
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 5_000,
  stepMs = 20,
): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return undefined;
}

export async function expectCode(
  p: Promise<unknown>,
  code: string,
  status?: number,
): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; status?: number };
    if (err.code !== code || (status !== undefined && err.status !== status)) {
      throw new Error(
        `expected ${code}${status ? `/${status}` : ''}, got ${err.code}/${err.status}: ${(e as Error).message}`,
      );
    }
    return;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}
