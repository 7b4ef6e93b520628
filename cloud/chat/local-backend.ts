/**
 * A chat backend that runs a GGUF model file on the CPU with node-llama-cpp. It is installed on
 * demand (`npm run chat:install-local`, into .local/node-llama-cpp: ~85 MB with the CPU binaries
 * only), so the project's own install does not carry it; the model loads at the first request.
 * One generation runs at a time (a CPU has no room for two); aborting the signal stops it at the
 * next token.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CloudError } from '../errors.ts';
import type { Logger } from '../options.ts';
import { Channel, type ChatBackend, type ChatDelta, type CompletionRequest } from './types.ts';

export const LLAMA_VERSION = '3.22.1';
export const DEFAULT_RUNTIME_DIR = fileURLToPath(
  new URL('../../.local/node-llama-cpp/', import.meta.url),
);

export interface LocalBackendOptions {
  modelPath: string;
  /** Where `npm run chat:install-local` put node-llama-cpp. Default `<project>/.local/node-llama-cpp`. */
  runtimeDir?: string;
  /** CPU threads for generation. Default: all cores but one. */
  threads?: number;
  /** Context size in tokens. Default 4096 (or the model's own if smaller). */
  contextSize?: number;
}

type Lib = typeof import('./llama-types.ts');

interface Loaded {
  lib: Lib;
  model: any;
  context: any;
  sequence: any;
}

export class LocalBackend implements ChatBackend {
  readonly kind = 'local' as const;
  readonly model: string;
  private loading: Promise<Loaded> | undefined;
  private turn: Promise<void> = Promise.resolve();
  /** Counters for health reports and tests. */
  readonly stats = { active: 0, generations: 0, tokens: 0, lastStopReason: '' as string };

  constructor(
    private readonly opts: LocalBackendOptions,
    private readonly logger: Logger,
  ) {
    this.model = basename(opts.modelPath).replace(/\.gguf$/i, '');
  }

  private runtimeDir(): string {
    return this.opts.runtimeDir ?? DEFAULT_RUNTIME_DIR;
  }

  private load(): Promise<Loaded> {
    this.loading ??= (async () => {
      const entry = join(this.runtimeDir(), 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
      if (!existsSync(entry)) {
        throw new CloudError(
          'UNAVAILABLE',
          `the local chat backend is not installed: run \`npm run chat:install-local\` (node-llama-cpp ${LLAMA_VERSION}, CPU only, ~85 MB)`,
        );
      }
      if (!existsSync(this.opts.modelPath))
        throw new CloudError(
          'UNAVAILABLE',
          `the chat model file ${this.opts.modelPath} does not exist`,
        );
      const lib = (await import(pathToFileURL(entry).href)) as Lib;
      const llama = await lib.getLlama({
        gpu: false,
        build: 'never',
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.error,
      });
      const model = await llama.loadModel({ modelPath: this.opts.modelPath });
      const threads = this.opts.threads ?? Math.max(1, availableParallelism() - 1);
      const context = await model.createContext({
        contextSize: { max: this.opts.contextSize ?? 4096 },
        threads,
        sequences: 1,
      });
      this.logger.info('local chat model loaded', { model: this.model, threads });
      return { lib, model, context, sequence: context.getSequence() };
    })();
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  async *complete(req: CompletionRequest, signal: AbortSignal): AsyncIterable<ChatDelta> {
    const { lib, sequence } = await this.load();
    // One generation at a time: wait for the previous one (or give up if the client left).
    const previous = this.turn;
    let done!: () => void;
    this.turn = new Promise((r) => (done = r));
    try {
      await previous;
      if (signal.aborted) return;
      yield* this.generate(lib, sequence, req, signal);
    } finally {
      done();
    }
  }

  private async *generate(
    lib: Lib,
    sequence: any,
    req: CompletionRequest,
    signal: AbortSignal,
  ): AsyncIterable<ChatDelta> {
    await sequence.clearHistory();
    const history: any[] = req.messages.map((m) =>
      m.role === 'system'
        ? { type: 'system', text: m.content }
        : m.role === 'user'
          ? { type: 'user', text: m.content }
          : { type: 'model', response: [m.content] },
    );
    if (history.length === 0 || history[history.length - 1].type !== 'model')
      history.push({ type: 'model', response: [] });
    const chat = new lib.LlamaChat({ contextSequence: sequence });
    const channel = new Channel<ChatDelta>();
    const meter = {
      input: sequence.tokenMeter.usedInputTokens,
      output: sequence.tokenMeter.usedOutputTokens,
    };
    this.stats.active++;
    this.stats.generations++;
    void chat
      .generateResponse(history, {
        signal,
        stopOnAbortSignal: true,
        maxTokens: req.max_tokens,
        temperature: req.temperature ?? 0.7,
        topP: req.top_p,
        seed: req.seed,
        customStopTriggers: req.stop,
        onTextChunk: (text: string) => channel.push({ content: text }),
        onToken: (t: number[]) => {
          this.stats.tokens += t.length;
        },
      })
      .then(
        (r: any) => {
          const reason = r.metadata.stopReason as string;
          this.stats.lastStopReason = reason;
          channel.push({
            finish: reason === 'maxTokens' ? 'length' : 'stop',
            usage: {
              // The sequence's meter counts every sampled token (onToken may hold back one that could begin a stop trigger).
              prompt_tokens: sequence.tokenMeter.usedInputTokens - meter.input,
              completion_tokens: sequence.tokenMeter.usedOutputTokens - meter.output,
            },
          });
          channel.end();
        },
        (e: unknown) => {
          this.stats.lastStopReason = signal.aborted ? 'abort' : 'error';
          channel.end(
            signal.aborted
              ? undefined
              : new CloudError('INTERNAL', `the local model failed: ${(e as Error).message}`),
          );
        },
      )
      .finally(() => {
        this.stats.active--;
        chat.dispose({ disposeSequence: false });
      });
    yield* channel;
  }

  async close(): Promise<void> {
    const loaded = await this.loading?.catch(() => undefined);
    await loaded?.context.dispose();
    await loaded?.model.dispose();
  }
}
