/** What every chat backend takes and yields (the OpenAI chat completions shape, trimmed). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  /** The model name the client asked for (an OpenAI-compatible upstream may route on it). */
  model?: string;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string[];
}

export type FinishReason = 'stop' | 'length';

export type ChatDelta =
  | { content: string }
  | { finish: FinishReason; usage?: { prompt_tokens: number; completion_tokens: number } };

export interface ChatBackend {
  readonly kind: 'openai' | 'local';
  /** The model name answered to clients. */
  readonly model: string;
  /** Streams the reply; stops (and frees the backend) as soon as `signal` aborts. */
  complete(req: CompletionRequest, signal: AbortSignal): AsyncIterable<ChatDelta>;
  close(): Promise<void>;
}

/** A push-to-pull queue: callbacks of a generator feed an async iterator. */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;
  private error: unknown;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(error?: unknown): void {
    this.ended = true;
    this.error = error;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.waiting = r));
    }
  }
}
