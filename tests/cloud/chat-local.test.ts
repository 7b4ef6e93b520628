import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installLocalChat } from '../../cloud/chat/install-local.ts';
import { DEFAULT_RUNTIME_DIR, type LocalBackend } from '../../cloud/chat/local-backend.ts';
import { writeTinyGguf } from './fixtures/tiny-gguf.ts';
import { hasSqlite, ownedCloud, type TestCloud } from './helpers.ts';

/**
 * The local GGUF backend with the real node-llama-cpp and a tiny random-weight model written here.
 * node-llama-cpp is installed on demand (`npm run chat:install-local`, ~6 s from npm's cache): the
 * first run of this file installs it if missing, later runs reuse it.
 */
describe.skipIf(!hasSqlite)('cloud chat with a local GGUF model', () => {
  let c: TestCloud;
  let bearer: string;
  const dir = mkdtempSync(join(tmpdir(), 'pc2-gguf-'));

  beforeAll(async () => {
    if (
      !existsSync(join(DEFAULT_RUNTIME_DIR, 'node_modules', 'node-llama-cpp', 'dist', 'index.js'))
    )
      installLocalChat();
    const model = writeTinyGguf(join(dir, 'pc2-tiny.gguf'));
    const owned = await ownedCloud({
      chat: { backend: 'local', modelPath: model.path, threads: 1, contextSize: 4096 },
    });
    c = owned.c;
    bearer = `Bearer ${owned.appPassword}`;
  }, 300_000);
  afterAll(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (body: object, signal?: AbortSignal) =>
    fetch(`${c.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bearer },
      body: JSON.stringify(body),
      signal,
    });
  const stats = () => (c.cloud.chat.backend as LocalBackend).stats;

  it('streams exactly the tokens asked for, as server-sent events', async () => {
    const res = await ask({
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      max_tokens: 24,
      temperature: 0,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    expect(events[events.length - 1]).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.filter((x) => x.choices[0]?.delta?.content).length).toBeGreaterThan(1);
    expect(chunks.find((x) => x.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe(
      'length',
    );
    expect(chunks[chunks.length - 1].usage).toMatchObject({ completion_tokens: 24 });
    expect(chunks[chunks.length - 1].usage.prompt_tokens).toBeGreaterThan(0);
  }, 120_000);

  it('is deterministic at temperature 0', async () => {
    const body = {
      messages: [
        { role: 'system', content: 'be terse' },
        { role: 'user', content: 'count' },
      ],
      max_tokens: 32,
      temperature: 0,
    };
    const a = await (await ask(body)).json();
    const b = await (await ask(body)).json();
    expect(a.usage.completion_tokens).toBe(32);
    expect(a.choices[0].message.content.length).toBeGreaterThan(0);
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
    const other = await (
      await ask({ ...body, messages: [{ role: 'user', content: 'something else entirely' }] })
    ).json();
    expect(other.choices[0].message.content).not.toBe(a.choices[0].message.content);
  }, 120_000);

  it('stops generating when the client disconnects', async () => {
    const tokensBefore = stats().tokens;
    const ac = new AbortController();
    const res = await ask(
      {
        messages: [{ role: 'user', content: 'go on forever' }],
        stream: true,
        max_tokens: 3500,
        temperature: 0,
      },
      ac.signal,
    );
    const reader = res.body!.getReader();
    await reader.read();
    expect(stats().active).toBe(1);
    ac.abort();
    for (let i = 0; i < 200 && stats().active > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stats().active).toBe(0);
    expect(stats().lastStopReason).toBe('abort');
    const generated = stats().tokens - tokensBefore;
    expect(generated).toBeGreaterThan(0);
    expect(generated).toBeLessThan(3500);
    // Nothing more is generated after the stop.
    await new Promise((r) => setTimeout(r, 200));
    expect(stats().tokens - tokensBefore).toBe(generated);
  }, 120_000);
});
