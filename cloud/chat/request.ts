/** Checks an OpenAI-style chat completion request; unknown fields are ignored as OpenAI's clients send many. */
import { CloudError } from '../errors.ts';
import type { ChatMessage, CompletionRequest } from './types.ts';

const ROLES: Record<string, ChatMessage['role']> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
};

function num(
  v: unknown,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    v < min ||
    v > max ||
    (integer && !Number.isInteger(v))
  ) {
    throw new CloudError(
      'BAD_REQUEST',
      `"${key}" must be a${integer ? 'n integer' : ' number'} from ${min} to ${max}`,
    );
  }
  return v;
}

export function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1000)
    throw new CloudError('BAD_REQUEST', '"messages" is a list of 1 to 1000 messages');
  return value.map((m, i) => {
    const role = ROLES[(m as { role?: string })?.role ?? ''];
    if (!role)
      throw new CloudError('BAD_REQUEST', `messages[${i}].role must be system, user or assistant`);
    const c = (m as { content?: unknown }).content;
    let content: string;
    if (typeof c === 'string') content = c;
    else if (Array.isArray(c)) {
      // Content parts: only text is understood here.
      content = c
        .map((p) =>
          p && typeof p === 'object' && (p as { type?: string }).type === 'text'
            ? String((p as { text?: unknown }).text ?? '')
            : '',
        )
        .join('');
    } else if (c === null && role === 'assistant') content = '';
    else throw new CloudError('BAD_REQUEST', `messages[${i}].content must be a string`);
    return { role, content };
  });
}

export function parseCompletion(
  body: Record<string, unknown>,
): CompletionRequest & { stream: boolean; includeUsage: boolean } {
  if (body.n !== undefined && body.n !== 1)
    throw new CloudError('BAD_REQUEST', 'only n = 1 is supported');
  let stop: string[] | undefined;
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (
    Array.isArray(body.stop) &&
    body.stop.length <= 4 &&
    body.stop.every((s) => typeof s === 'string')
  )
    stop = body.stop as string[];
  else if (body.stop !== undefined && body.stop !== null)
    throw new CloudError('BAD_REQUEST', '"stop" is a string or up to 4 strings');
  const opts = body.stream_options as { include_usage?: unknown } | undefined;
  return {
    messages: parseMessages(body.messages),
    model: typeof body.model === 'string' ? body.model : undefined,
    temperature: num(body.temperature, 'temperature', 0, 2),
    top_p: num(body.top_p, 'top_p', 0, 1),
    max_tokens: num(body.max_tokens ?? body.max_completion_tokens, 'max_tokens', 1, 131072, true),
    seed: num(body.seed, 'seed', -(2 ** 31), 2 ** 32, true),
    stop,
    stream: body.stream === true,
    includeUsage: opts?.include_usage === true,
  };
}
