/**
 * bench:cloud's apps phase, in this process: search over BENCH_SEARCH_FILES (10,000) text files
 * (live indexing while they are written through the store, a full index build from scratch, and
 * the latency of 1,000 queries over HTTP: p50/p95/p99), and WASM start-up: ms from the request to
 * the first stdout of hello (30 runs), beside the bare cost of starting a node process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { listenCloud } from '../cloud/runtime/listen.ts';
import { SearchService } from '../cloud/search/service.ts';
import { silentLogger } from '../shared/logger.ts';
import { signIn, wallet } from '../tests/cloud/helpers.ts';

const FILES = Number(process.env.BENCH_SEARCH_FILES ?? 10_000);
const QUERIES = 1000;

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const f1 = (x: number): string => x.toFixed(1);

/** A deterministic generator, so every run indexes and asks the same things. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function appsBench(base: string): Promise<string[]> {
  const uptimeBefore = execFileSync('uptime').toString().trim();
  const dir = mkdtempSync(join(base, 'apps-'));
  const running = await listenCloud({
    dataDir: join(dir, 'cloud'),
    sweepIntervalMs: 0,
    limits: { quotaBytes: 2 ** 40 },
  });
  const { cloud, url } = running;
  try {
    const owner = await signIn({ url }, wallet(1), cloud.ownerCode()!);
    const password = (await owner.api('POST', '/api/app-passwords', { label: 'bench' })).json
      .password as string;
    const auth = `Basic ${Buffer.from(`${owner.address}:${password}`).toString('base64')}`;
    const rand = rng(7);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const vocab = Array.from({ length: 5000 }, () =>
      Array.from(
        { length: 4 + Math.floor(rand() * 7) },
        () => letters[Math.floor(rand() * 26)],
      ).join(''),
    );
    // Zipf-like: the word of rank r is drawn with probability ~ 1/r.
    const zipf = (): string =>
      vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(rand() * Math.log(vocab.length))) - 1)];
    const store = cloud.store;
    const address = owner.address;
    for (let d = 0; d < 100; d++) store.mkdir(address, [`folder-${d}`]);

    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < FILES; i++) {
      const text = Array.from({ length: 300 }, zipf).join(' ') + '\n';
      bytes += text.length;
      const blob = await store.blobs.write(Readable.from([Buffer.from(text)]), 2 ** 40);
      store.commitFile(
        address,
        [`folder-${i % 100}`, `doc-${i}-${vocab[i % vocab.length]}.${i % 3 === 0 ? 'md' : 'txt'}`],
        blob,
      );
    }
    const written = performance.now();
    await cloud.search.indexer.idle(600_000);
    const live = performance.now();

    // A full build from nothing, as after a restore or with a lost search.db.
    const rebuildDir = mkdtempSync(join(dir, 'rebuild-'));
    const t1 = performance.now();
    const fresh = new SearchService(rebuildDir, store, silentLogger, 1024 * 1024);
    await fresh.indexer.idle(600_000);
    const built = performance.now() - t1;
    const docs = fresh.indexer.index.count();
    fresh.close();

    const queries = Array.from({ length: QUERIES }, (_, i) => {
      const k = i % 10;
      if (k < 4) return vocab[50 + Math.floor(rand() * 450)];
      if (k < 7) return vocab[2000 + Math.floor(rand() * 3000)];
      if (k < 9)
        return `${vocab[20 + Math.floor(rand() * 200)]} ${vocab[20 + Math.floor(rand() * 200)]}`;
      return `doc-${Math.floor(rand() * FILES)}`;
    });
    const pool = new Pool(url, { connections: 1 });
    const times: number[] = [];
    let hits = 0;
    for (const q of ['warmup', ...queries]) {
      const s = performance.now();
      const r = await pool.request({
        method: 'GET',
        path: `/api/search?q=${encodeURIComponent(q)}`,
        headers: { authorization: auth },
      });
      const json = (await r.body.json()) as { results: unknown[] };
      if (r.statusCode !== 200) throw new Error(`search answered ${r.statusCode}`);
      if (q !== 'warmup') {
        times.push(performance.now() - s);
        hits += json.results.length;
      }
    }
    await pool.close();

    // WASM start-up: request → first stdout event of hello, against the bare start of a node process.
    execFileSync('wat2wasm', [
      join(import.meta.dirname, '../tests/cloud/fixtures/wasm/hello.wat'),
      '-o',
      join(dir, 'hello.wasm'),
    ]);
    const wasm = readFileSync(join(dir, 'hello.wasm'));
    await owner.fetch('/dav/hello.wasm', { method: 'PUT', body: new Uint8Array(wasm) });
    const firstOutput: number[] = [];
    const total: number[] = [];
    const runPool = new Pool(url, { connections: 1 });
    for (let i = 0; i < 31; i++) {
      const s = performance.now();
      const r = await runPool.request({
        method: 'POST',
        path: '/api/apps/run',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ module: '/hello.wasm', args: ['bench'] }),
      });
      let first = 0;
      let text = '';
      for await (const chunk of r.body) {
        text += chunk.toString();
        if (!first && text.includes('"stdout"')) first = performance.now() - s;
      }
      if (!text.includes('"status":"exited"')) throw new Error(`hello did not exit: ${text}`);
      if (i > 0) {
        firstOutput.push(first);
        total.push(performance.now() - s);
      }
    }
    await runPool.close();
    const spawnFloor: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      await new Promise<void>((resolve) =>
        spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).on('exit', () => resolve()),
      );
      spawnFloor.push(performance.now() - s);
    }
    const uptimeAfter = execFileSync('uptime').toString().trim();
    return [
      `bench:cloud apps — ${new Date().toISOString()} — Node ${process.version}`,
      `uptime before: ${uptimeBefore}`,
      `uptime after:  ${uptimeAfter}`,
      '',
      `search, ${FILES} text files of ~${Math.round(bytes / FILES)} bytes (Zipf words from a 5,000-word vocabulary) in 100 folders:`,
      `- written through the store and indexed live: ${f1((written - t0) / 1000)} s writing (fsynced), index caught up ${f1((live - written) / 1000)} s after the last write: ${Math.round(FILES / ((live - t0) / 1000))} files/s end to end`,
      `- full index build from nothing (${docs} documents): ${f1(built / 1000)} s, ${Math.round(docs / (built / 1000))} documents/s`,
      `- ${QUERIES} queries over HTTP (40% common word, 30% rare word, 20% two words, 10% filename), one connection: p50 ${f1(pct(times, 0.5))} ms, p95 ${f1(pct(times, 0.95))} ms, p99 ${f1(pct(times, 0.99))} ms, max ${f1(Math.max(...times))} ms (target p95 ≤ 50 ms); ${(hits / QUERIES).toFixed(1)} results per query`,
      '',
      `WASM start-up (30 runs of hello over HTTP): first stdout after p50 ${f1(pct(firstOutput, 0.5))} ms, p95 ${f1(pct(firstOutput, 0.95))} ms; whole run p50 ${f1(pct(total, 0.5))} ms; bare \`node -e 0\` process start and exit p50 ${f1(pct(spawnFloor, 0.5))} ms`,
    ];
  } finally {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
