/**
 * A chat backend that is any OpenAI-compatible server (Ollama, llama.cpp's server, vLLM, a hosted
 * API): the node calls `<url>/chat/completions` with `stream: true` and its own key (from the
 * node's configuration; never sent to a browser) and reads the server-sent events as they arrive.
 * Aborting the signal closes the upstream request, so the upstream stops generating too.
 */
import { request } from 'undici';
import { CloudError } from '../errors.ts';
import type { ChatBackend, ChatDelta, CompletionRequest } from './types.ts';

export interface OpenAiBackendOptions {
  /** Base URL up to the version, e.g. `http://127.0.0.1:11434/v1` or `https://api.openai.com/v1`. */
  url: string;
  apiKey?: string;
  model: string;
}

export class OpenAiBackend implements ChatBackend {
  readonly kind = 'openai' as const;
  readonly model: string;

  constructor(private readonly opts: OpenAiBackendOptions) {
    this.model = opts.model;
  }

  async *complete(req: CompletionRequest, signal: AbortSignal): AsyncIterable<ChatDelta> {
    const body = {
      model: this.opts.model,
      messages: req.messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: req.temperature,
      top_p: req.top_p,
      max_tokens: req.max_tokens,
      seed: req.seed,
      stop: req.stop,
    };
    let res;
    try {
      res = await request(`${this.opts.url.replace(/\/$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal,
        headersTimeout: 120_000,
        bodyTimeout: 300_000,
      });
    } catch (e) {
      if (signal.aborted) return;
      throw new CloudError(
        'BAD_GATEWAY',
        `the chat server did not answer: ${(e as Error).message}`,
      );
    }
    if (res.statusCode !== 200) {
      const text = (await res.body.text().catch(() => '')).slice(0, 500);
      let message = text;
      try {
        message = JSON.parse(text)?.error?.message ?? text;
      } catch {}
      throw new CloudError('BAD_GATEWAY', `the chat server answered ${res.statusCode}: ${message}`);
    }
    let buffered = '';
    let finish: ChatDelta | undefined;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    try {
      for await (const chunk of res.body) {
        buffered += (chunk as Buffer).toString('utf8');
        if (buffered.length > 1024 * 1024)
          throw new CloudError('BAD_GATEWAY', 'the chat server sent an event over 1 MiB');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).replace(/\r$/, '');
          buffered = buffered.slice(nl + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') break;
          let event: any;
          try {
            event = JSON.parse(data);
          } catch {
            continue;
          }
          if (event.usage)
            usage = {
              prompt_tokens: event.usage.prompt_tokens ?? 0,
              completion_tokens: event.usage.completion_tokens ?? 0,
            };
          const choice = event.choices?.[0];
          const content = choice?.delta?.content;
          if (typeof content === 'string' && content !== '') yield { content };
          if (choice?.finish_reason)
            finish = { finish: choice.finish_reason === 'length' ? 'length' : 'stop' };
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e instanceof CloudError
        ? e
        : new CloudError('BAD_GATEWAY', `the chat server's stream broke: ${(e as Error).message}`);
    }
    yield { finish: finish && 'finish' in finish ? finish.finish : 'stop', usage };
  }

  async close(): Promise<void> {}
}
