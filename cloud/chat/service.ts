/**
 * AI chat: the configured backend (an OpenAI-compatible server or a local GGUF model), the
 * conversations of each wallet, and what the page shows when no backend is configured.
 */
import type { Clock, Logger } from '../options.ts';
import { CloudError } from '../errors.ts';
import type { Db } from '../storage/db.ts';
import { Conversations } from './conversations.ts';
import { LocalBackend, type LocalBackendOptions } from './local-backend.ts';
import { OpenAiBackend, type OpenAiBackendOptions } from './openai-backend.ts';
import type { ChatBackend } from './types.ts';

export type ChatOptions =
  | ({ backend: 'openai' } & OpenAiBackendOptions)
  | ({ backend: 'local' } & LocalBackendOptions);

export const HOW_TO_CONFIGURE = [
  "No chat backend is configured on this node. The node owner adds one in the node's configuration:",
  '- an OpenAI-compatible server (Ollama, llama.cpp\'s server, vLLM, a hosted API): chat: { backend: "openai", url: "http://127.0.0.1:11434/v1", model: "llama3.2", apiKey: "…" } (the key stays on the node);',
  '- or a local GGUF model run on the CPU: run `npm run chat:install-local` once, then chat: { backend: "local", modelPath: "/path/to/model.gguf" }.',
  'See docs/cloud.md, "Chat backends".',
].join('\n');

export class ChatService {
  readonly backend: ChatBackend | undefined;
  readonly conversations: Conversations;

  constructor(options: ChatOptions | undefined, db: Db, clock: Clock, logger: Logger) {
    this.conversations = new Conversations(db, clock);
    if (options?.backend === 'openai')
      this.backend = new OpenAiBackend({
        url: options.url,
        apiKey: options.apiKey,
        model: options.model,
      });
    else if (options?.backend === 'local') this.backend = new LocalBackend(options, logger);
  }

  /** What a browser may know: never the URL's credentials or the key. */
  status(): { configured: boolean; backend: string | null; model: string | null; help?: string } {
    if (!this.backend)
      return { configured: false, backend: null, model: null, help: HOW_TO_CONFIGURE };
    return { configured: true, backend: this.backend.kind, model: this.backend.model };
  }

  requireBackend(): ChatBackend {
    if (!this.backend) throw new CloudError('CHAT_NOT_CONFIGURED', HOW_TO_CONFIGURE);
    return this.backend;
  }

  close(): void {
    void this.backend?.close().catch(() => {});
  }
}
