/**
 * Chat: the OpenAI-compatible `POST /v1/chat/completions` (server-sent events with `stream: true`,
 * one JSON answer without) and `GET /v1/models`, authenticated by the session or an app password
 * (HTTP Basic, or `Authorization: Bearer <app password>` as OpenAI clients send it); and the chat
 * page's conversations under /api/chat/. A client that goes away stops the generation.
 */
import { randomBytes } from 'node:crypto';
import { CloudError } from '../errors.ts';
import { parseCompletion } from '../chat/request.ts';
import { openSse } from '../chat/sse.ts';
import type { ChatDelta, CompletionRequest, FinishReason } from '../chat/types.ts';
import { str, type ApiContext, type Route } from './routes.ts';

const CHAT_BODY_BYTES = 4 * 1024 * 1024;

function abortOnClose(ctx: ApiContext): AbortSignal {
  const ac = new AbortController();
  ctx.res.on('close', () => {
    if (!ctx.res.writableFinished) ac.abort();
  });
  return ac.signal;
}

async function completions(ctx: ApiContext): Promise<unknown> {
  const backend = ctx.cloud.chat.requireBackend();
  const req = parseCompletion(ctx.body);
  const signal = abortOnClose(ctx);
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(ctx.cloud.options.clock.now() / 1000);
  const base = { id, created, model: backend.model };
  const stream = backend.complete(req, signal);
  if (!req.stream) {
    let content = '';
    let finish: FinishReason = 'stop';
    let usage = { prompt_tokens: 0, completion_tokens: 0 };
    for await (const d of stream) {
      if ('content' in d) content += d.content;
      else {
        finish = d.finish;
        if (d.usage) usage = d.usage;
      }
    }
    return {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    };
  }
  // The first delta (or the backend's refusal) comes before the 200: an unreachable upstream is a 502.
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  const sse = openSse(ctx.res);
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  let role = true;
  try {
    for (let r = first; !r.done; r = await it.next()) {
      const d: ChatDelta = r.value;
      if ('content' in d) {
        sse.send(
          chunk(role ? { role: 'assistant', content: d.content } : { content: d.content }, null),
        );
        role = false;
      } else {
        sse.send(chunk(role ? { role: 'assistant' } : {}, d.finish));
        if (req.includeUsage && d.usage)
          sse.send({
            ...base,
            object: 'chat.completion.chunk',
            choices: [],
            usage: { ...d.usage, total_tokens: d.usage.prompt_tokens + d.usage.completion_tokens },
          });
      }
    }
    sse.send('[DONE]');
  } catch (e) {
    sse.send({
      error: {
        code: e instanceof CloudError ? e.code : 'INTERNAL',
        message: e instanceof CloudError ? e.message : 'the chat backend failed',
      },
    });
  }
  sse.end();
  return undefined;
}

/** A reply in a kept conversation, streamed to the chat page; a stop keeps what was said so far. */
async function reply(ctx: ApiContext): Promise<void> {
  const { chat } = ctx.cloud;
  const wallet = ctx.principal.address;
  const conv = chat.conversations.get(wallet, ctx.params[0]);
  const content = str(ctx.body, 'content', { max: 200_000 });
  if (content.trim() === '') throw new CloudError('BAD_REQUEST', 'say something');
  const backend = chat.requireBackend();
  const history = chat.conversations
    .messages(conv.id)
    .map(({ role, content }) => ({ role, content }));
  chat.conversations.add(conv.id, { role: 'user', content });
  if (history.length === 0 && conv.title === 'New chat')
    chat.conversations.rename(wallet, conv.id, content.replace(/\s+/g, ' ').trim().slice(0, 60));
  const signal = abortOnClose(ctx);
  const sse = openSse(ctx.res);
  const request: CompletionRequest = { messages: [...history, { role: 'user', content }] };
  let text = '';
  let error: string | undefined;
  try {
    for await (const d of backend.complete(request, signal)) {
      if ('content' in d) {
        text += d.content;
        sse.send({ delta: d.content });
      }
    }
  } catch (e) {
    error = e instanceof CloudError ? e.message : 'the chat backend failed';
  }
  const stored = chat.conversations.add(
    conv.id,
    { role: 'assistant', content: text },
    signal.aborted,
  );
  sse.send({ done: true, message: stored, error });
  sse.end();
}

export const chatRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/chat\/completions$/,
    raw: false,
    bodyBytes: CHAT_BODY_BYTES,
    handler: completions,
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models$/,
    handler: (ctx) => {
      const b = ctx.cloud.chat.backend;
      return {
        object: 'list',
        data: b ? [{ id: b.model, object: 'model', created: 0, owned_by: 'pc2' }] : [],
      };
    },
  },
  { method: 'GET', pattern: /^\/api\/chat\/status$/, handler: (ctx) => ctx.cloud.chat.status() },
  {
    method: 'GET',
    pattern: /^\/api\/chat\/conversations$/,
    handler: (ctx) => ({ conversations: ctx.cloud.chat.conversations.list(ctx.principal.address) }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/chat\/conversations$/,
    handler: (ctx) => {
      ctx.status = 201;
      return ctx.cloud.chat.conversations.create(
        ctx.principal.address,
        str(ctx.body, 'title', { optional: true, max: 200 }) || 'New chat',
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/chat\/conversations\/([0-9a-f]{16})$/,
    handler: (ctx) => {
      const c = ctx.cloud.chat.conversations.get(ctx.principal.address, ctx.params[0]);
      return { ...c, messages: ctx.cloud.chat.conversations.messages(c.id) };
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/api\/chat\/conversations\/([0-9a-f]{16})$/,
    handler: (ctx) => {
      ctx.cloud.chat.conversations.rename(
        ctx.principal.address,
        ctx.params[0],
        str(ctx.body, 'title', { max: 200 }),
      );
      return ctx.cloud.chat.conversations.get(ctx.principal.address, ctx.params[0]);
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/chat\/conversations\/([0-9a-f]{16})$/,
    handler: (ctx) => {
      ctx.cloud.chat.conversations.remove(ctx.principal.address, ctx.params[0]);
      return { ok: true };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/chat\/conversations\/([0-9a-f]{16})\/messages$/,
    raw: true,
    bodyBytes: CHAT_BODY_BYTES,
    handler: reply,
  },
];
