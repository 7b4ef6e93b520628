/**
 * WASM runs of a wallet's own modules: checks the request and the module, waits for a slot,
 * materialises the folder, runs the module in its own process (wasi-process.ts) and, for
 * write-enabled runs, imports what changed back into the wallet.
 */
import { readFile } from 'node:fs/promises';
import { CloudError } from '../errors.ts';
import type { CloudLimits, Logger } from '../options.ts';
import type { BlobStore } from '../storage/blobs.ts';
import { isDir, type FileNode } from '../storage/nodes.ts';
import { joinPath, splitPath } from '../storage/paths.ts';
import type { FileStore } from '../storage/store.ts';
import { RunSlots, type Ticket } from './run-slots.ts';
import { checkModule } from './wasm-check.ts';
import { runProcess, type OutputSink, type RunOutcome } from './wasi-process.ts';
import { Workspace } from './workspace.ts';
import { importChanges, type Changes } from './workspace-sync.ts';

export interface RunRequest {
  module: string[];
  moduleNode: FileNode;
  bytes: Uint8Array;
  folder: string[] | null;
  folderNode: FileNode | undefined;
  write: boolean;
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  timeoutMs: number;
  memoryBytes: number;
}

export type RunResult = RunOutcome & { changes?: Changes };

const MIN_TIMEOUT_MS = 100;

function strings(value: unknown, what: string, maxItems: number): string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.length > maxItems ||
    value.some((v) => typeof v !== 'string' || v.includes('\0'))
  ) {
    throw new CloudError(
      'BAD_REQUEST',
      `"${what}" must be a list of at most ${maxItems} strings without NUL`,
    );
  }
  return value as string[];
}

function bounded(value: unknown, what: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CloudError('BAD_REQUEST', `"${what}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

export class AppsService {
  readonly slots: RunSlots;

  constructor(
    private readonly store: FileStore,
    private readonly blobs: BlobStore,
    private readonly limits: CloudLimits,
    private readonly logger: Logger,
  ) {
    this.slots = new RunSlots({
      perWallet: limits.wasmRunsPerWallet,
      perNode: limits.wasmRunsPerNode,
      queuedPerWallet: limits.wasmQueuedPerWallet,
      queuedPerNode: limits.wasmQueuedPerNode,
    });
  }

  /** Validates a run request against the wallet's files and the limits; refuses bad modules before any slot is taken. */
  async prepare(wallet: string, body: Record<string, unknown>): Promise<RunRequest> {
    const known = new Set([
      'module',
      'args',
      'env',
      'stdin',
      'dir',
      'write',
      'timeoutMs',
      'memoryBytes',
    ]);
    const unknown = Object.keys(body).filter((k) => !known.has(k));
    if (unknown.length > 0)
      throw new CloudError('BAD_REQUEST', `unknown run field(s): ${unknown.join(', ')}`);
    if (typeof body.module !== 'string')
      throw new CloudError('BAD_REQUEST', '"module" is the path of a .wasm file in your space');
    const module = splitPath(body.module);
    const moduleNode = this.store.resolve(wallet, module);
    if (!moduleNode || isDir(moduleNode))
      throw new CloudError('NOT_FOUND', `${joinPath(module)} is not a file`);
    if (moduleNode.size > this.limits.wasmModuleBytes)
      throw new CloudError('TOO_LARGE', `modules are at most ${this.limits.wasmModuleBytes} bytes`);
    const args = strings(body.args, 'args', 256);
    if (args.reduce((n, a) => n + Buffer.byteLength(a), 0) > 32 * 1024)
      throw new CloudError('BAD_REQUEST', 'the arguments are at most 32 KiB');
    const envIn = body.env ?? {};
    if (typeof envIn !== 'object' || envIn === null || Array.isArray(envIn))
      throw new CloudError('BAD_REQUEST', '"env" is an object of strings');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(envIn)) {
      if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || v.includes('\0'))
        throw new CloudError('BAD_REQUEST', `"env" entry ${k} is not NAME=string`);
      env[k] = v;
    }
    if (Object.keys(env).length > 64)
      throw new CloudError('BAD_REQUEST', '"env" holds at most 64 variables');
    if (body.stdin !== undefined && typeof body.stdin !== 'string')
      throw new CloudError('BAD_REQUEST', '"stdin" is a string');
    if (body.write !== undefined && typeof body.write !== 'boolean')
      throw new CloudError('BAD_REQUEST', '"write" is true or false');
    const write = body.write === true;
    let folder: string[] | null = null;
    let folderNode: FileNode | undefined;
    if (body.dir !== undefined) {
      if (typeof body.dir !== 'string')
        throw new CloudError('BAD_REQUEST', '"dir" is the path of a folder in your space');
      folder = splitPath(body.dir);
      folderNode = this.store.resolve(wallet, folder);
      if (!folderNode || !isDir(folderNode))
        throw new CloudError('NOT_FOUND', `${joinPath(folder)} is not a folder`);
    } else if (write) {
      throw new CloudError('BAD_REQUEST', '"write" needs a "dir" to write into');
    }
    const timeoutMs = bounded(
      body.timeoutMs,
      'timeoutMs',
      MIN_TIMEOUT_MS,
      this.limits.wasmTimeoutMs,
      this.limits.wasmTimeoutMs,
    );
    const memoryBytes = bounded(
      body.memoryBytes,
      'memoryBytes',
      65536,
      this.limits.wasmMemoryBytes,
      this.limits.wasmMemoryBytes,
    );
    const bytes = await readFile(this.blobs.path(moduleNode.blob!));
    checkModule(bytes, memoryBytes);
    return {
      module,
      moduleNode,
      bytes,
      folder,
      folderNode,
      write,
      args: [module[module.length - 1], ...args],
      env,
      stdin: Buffer.from((body.stdin as string | undefined) ?? '', 'utf8'),
      timeoutMs,
      memoryBytes,
    };
  }

  /** A place in the run queue (429 when even the queue is full). */
  reserve(wallet: string): Ticket {
    return this.slots.reserve(wallet);
  }

  /** Runs a prepared request (its slot already granted). */
  async run(wallet: string, r: RunRequest, sink: OutputSink): Promise<RunResult> {
    const ws = await Workspace.create(this.store, this.blobs, r.moduleNode, r.folderNode, r.write, {
      maxBytes: this.limits.wasmFolderBytes,
      maxFiles: this.limits.wasmFolderFiles,
    });
    try {
      const outcome = await runProcess(
        {
          modulePath: ws.modulePath,
          dir: ws.dir,
          preopen: r.folderNode ? ws.root : null,
          write: r.write,
          uid: ws.uid,
          args: r.args,
          env: r.env,
          stdin: r.stdin,
          timeoutMs: r.timeoutMs,
          memoryBytes: r.memoryBytes,
          outputBytes: this.limits.wasmOutputBytes,
          writeBytes: r.write
            ? {
                limit: Math.min(
                  this.limits.wasmFolderBytes,
                  this.store.room(wallet) + ws.snapshotBytes(),
                ),
                measure: () => ws.bytes(),
              }
            : undefined,
        },
        sink,
      );
      // Only a module that ended by itself had the chance to leave its files consistent.
      if (r.write && r.folder && outcome.status === 'exited') {
        return {
          ...outcome,
          changes: await importChanges(this.store, this.blobs, wallet, r.folder, ws),
        };
      }
      return outcome;
    } finally {
      await ws
        .dispose()
        .catch((e) => this.logger.warn('cloud run directory not removed', { error: String(e) }));
    }
  }
}
