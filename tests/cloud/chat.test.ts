import { KEY, Upstream } from './fixtures/openai-upstream.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, signIn, wallet, type Session, type TestCloud } from './helpers.ts';

/** Reads SSE `data:` payloads from a response as they arrive. */
async function* sse(res: Response): AsyncGenerator<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line.startsWith('data: ')) yield line.slice(6);
    }
  }
}

describe.skipIf(!hasSqlite)('cloud chat with an OpenAI-compatible backend', () => {
  const up = new Upstream();
  let c: TestCloud;
  let owner: Session;
  let appPassword: string;

  beforeAll(async () => {
    await up.start();
    ({ c, owner, appPassword } = await ownedCloud({
      chat: { backend: 'openai', url: up.url, apiKey: KEY, model: 'upstream-model' },
    }));
  });
  afterAll(async () => {
    await c?.stop();
    up.server?.close();
  });

  const completions = (
    body: object,
    auth: Record<string, string> = { authorization: `Bearer ${appPassword}` },
    signal?: AbortSignal,
  ) =>
    fetch(`${c.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
      signal,
    });

  it('streams /v1/chat/completions as server-sent events without buffering, with the key only upstream', async () => {
    up.hold = true;
    const res = await completions({
      model: 'anything',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = sse(res);
    // The first word reaches the client while the upstream still holds the rest back.
    const first = JSON.parse((await events.next()).value!);
    expect(first).toMatchObject({
      object: 'chat.completion.chunk',
      model: 'upstream-model',
      choices: [{ delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
    });
    up.hold = false;
    up.release();
    const rest: string[] = [];
    for await (const e of events) rest.push(e);
    expect(rest[rest.length - 1]).toBe('[DONE]');
    const chunks = rest.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.map((x) => x.choices[0]?.delta?.content ?? '').join('')).toBe('lo **there**');
    expect(chunks.find((x) => x.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');
    expect(chunks[chunks.length - 1].usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8,
    });
    const seen = up.requests[up.requests.length - 1];
    expect(seen.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen.body).toMatchObject({
      model: 'upstream-model',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('answers one JSON completion without stream, and lists the model', async () => {
    const res = await completions({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
    });
    const json = await res.json();
    expect(json).toMatchObject({
      object: 'chat.completion',
      model: 'upstream-model',
      choices: [
        { message: { role: 'assistant', content: 'Hello **there**' }, finish_reason: 'stop' },
      ],
      usage: { total_tokens: 8 },
    });
    const models = await (
      await fetch(`${c.url}/v1/models`, { headers: { authorization: `Bearer ${appPassword}` } })
    ).json();
    expect(models.data.map((m: any) => m.id)).toEqual(['upstream-model']);
  });

  it('authenticates by session or app password only', async () => {
    const body = { messages: [{ role: 'user', content: 'hi' }] };
    expect((await completions(body, {})).status).toBe(401);
    expect((await completions(body, { authorization: 'Bearer sk-wrong' })).status).toBe(401);
    const basic = `Basic ${Buffer.from(`${owner.address}:${appPassword}`).toString('base64')}`;
    expect((await completions(body, { authorization: basic })).status).toBe(200);
    expect((await completions(body, { cookie: owner.cookie, origin: c.url })).status).toBe(200);
    expect(
      (await completions(body, { cookie: owner.cookie, origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect((await completions({ messages: [] })).status).toBe(400);
    expect((await completions({ messages: [{ role: 'wizard', content: 'x' }] })).status).toBe(400);
    expect((await completions({ ...body, temperature: 9 })).status).toBe(400);
  });

  it('keeps conversations per wallet, streams replies, never shows the key', async () => {
    const status = await owner.api('GET', '/api/chat/status');
    expect(status.json).toEqual({ configured: true, backend: 'openai', model: 'upstream-model' });
    expect(JSON.stringify(status.json)).not.toContain(KEY);
    const conv = (await owner.api('POST', '/api/chat/conversations', {})).json;
    const res = await owner.fetch(`/api/chat/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Tell me something' }),
    });
    const events: any[] = [];
    for await (const e of sse(res)) events.push(JSON.parse(e));
    expect(
      events
        .filter((e) => e.delta)
        .map((e) => e.delta)
        .join(''),
    ).toBe('Hello **there**');
    expect(events[events.length - 1]).toMatchObject({
      done: true,
      message: { role: 'assistant', content: 'Hello **there**', stopped: false },
    });
    const kept = (await owner.api('GET', `/api/chat/conversations/${conv.id}`)).json;
    expect(kept.title).toBe('Tell me something');
    expect(kept.messages.map((m: any) => [m.role, m.content])).toEqual([
      ['user', 'Tell me something'],
      ['assistant', 'Hello **there**'],
    ]);
    // The next turn sends the history upstream.
    await (
      await owner.fetch(`/api/chat/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'more' }),
      })
    ).text();
    expect(up.requests[up.requests.length - 1].body.messages.map((m: any) => m.content)).toEqual([
      'Tell me something',
      'Hello **there**',
      'more',
    ]);
    await owner.api('POST', '/api/members', { address: wallet(2).address });
    const member = await signIn(c, wallet(2));
    expect((await member.api('GET', `/api/chat/conversations/${conv.id}`)).status).toBe(404);
    expect((await member.api('GET', '/api/chat/conversations')).json.conversations).toEqual([]);
    expect(
      (await owner.api('GET', '/api/chat/conversations')).json.conversations.map((x: any) => x.id),
    ).toEqual([conv.id]);
    expect((await member.api('DELETE', `/api/chat/conversations/${conv.id}`)).status).toBe(404);
    expect((await owner.api('DELETE', `/api/chat/conversations/${conv.id}`)).status).toBe(200);
    expect((await owner.api('GET', `/api/chat/conversations/${conv.id}`)).status).toBe(404);
  });

  it('stop: a client that goes away closes the upstream request, and the partial reply is kept', async () => {
    up.hold = true;
    const closedBefore = up.closedEarly;
    const conv = (await owner.api('POST', '/api/chat/conversations', {})).json;
    const ac = new AbortController();
    const res = await owner.fetch(`/api/chat/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'long story' }),
      signal: ac.signal,
    });
    const events = sse(res);
    expect(JSON.parse((await events.next()).value!)).toEqual({ delta: 'Hel' });
    ac.abort();
    for (let i = 0; i < 100 && up.closedEarly === closedBefore; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(up.closedEarly).toBe(closedBefore + 1);
    up.hold = false;
    up.release();
    let kept: any;
    for (let i = 0; i < 100; i++) {
      kept = (await owner.api('GET', `/api/chat/conversations/${conv.id}`)).json;
      if (kept.messages.length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(kept.messages[1]).toMatchObject({ role: 'assistant', content: 'Hel', stopped: true });
  });

  it('maps an upstream failure to 502 with its message', async () => {
    up.failWith = 503;
    try {
      const res = await completions({ messages: [{ role: 'user', content: 'hi' }], stream: true });
      expect(res.status).toBe(502);
      const json = await res.json();
      expect(json.error.message).toContain('model overloaded');
      expect(JSON.stringify(json)).not.toContain(KEY);
    } finally {
      up.failWith = undefined;
    }
  });
});

describe.skipIf(!hasSqlite)('cloud chat without a backend', () => {
  it('says exactly how to add one', async () => {
    const { c, owner, appPassword } = await ownedCloud();
    try {
      const status = (await owner.api('GET', '/api/chat/status')).json;
      expect(status.configured).toBe(false);
      expect(status.help).toContain('backend: "openai", url:');
      expect(status.help).toContain('npm run chat:install-local');
      const res = await fetch(`${c.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${appPassword}` },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('CHAT_NOT_CONFIGURED');
    } finally {
      await c.stop();
    }
  });
});
