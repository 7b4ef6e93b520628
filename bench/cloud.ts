/**
 * `npm run bench:cloud`: the personal cloud's WebDAV against `rclone serve webdav` (Debian's rclone)
 * on the same disk in the same run, with curl as the client: GET and PUT of 1 GiB (median of 3),
 * PROPFIND depth 1 of a 10,000-file folder (median of 5), plus a bare node:http floor (GET streams a
 * file, PUT writes and fsyncs it) that shows what the machine and curl allow. Then a 5 GiB streamed
 * upload and download on a fresh cloud process with its peak RSS (VmHWM, reset before each). Each
 * server runs in its own process. Env: BENCH_GIB (1), BENCH_BIG_GIB (5; 0 skips), BENCH_FILES
 * (10000), BENCH_ROUNDS (3). Then the apps (cloud-apps.ts: search over 10,000 files, WASM start-up)
 * and the backup of BENCH_BACKUP_GIB (5) with its memory (cloud-backup.ts). BENCH_ONLY picks
 * phases: storage,apps,backup (all by default).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { signIn, wallet } from '../tests/cloud/helpers.ts';
import { appsBench } from './cloud-apps.ts';
import { backupBench } from './cloud-backup.ts';

const run = promisify(execFile);
const GIB = 1024 ** 3;
const SIZE = Number(process.env.BENCH_GIB ?? 1) * GIB;
const BIG = Number(process.env.BENCH_BIG_GIB ?? 5) * GIB;
const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVER = fileURLToPath(new URL('./cloud-server.ts', import.meta.url));
const children: ChildProcess[] = [];
const base = mkdtempSync(join(tmpdir(), 'pc2-bench-cloud-'));

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

async function startChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: (line: string) => boolean,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start`)), 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (l) => {
        if (ready(l)) {
          clearTimeout(timer);
          resolve(l);
        }
      });
    }
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
  return { child, line };
}

interface Target {
  name: string;
  url: string;
  davPath: string;
  curlAuth: string[];
  pid: number;
}

async function curlTime(args: string[]): Promise<{ seconds: number; code: number }> {
  const { stdout } = await run(
    'curl',
    ['-sS', '-H', 'Expect:', '-w', '%{time_total} %{http_code}', ...args],
    { maxBuffer: 1 << 20 },
  );
  const [t, code] = stdout.trim().split(' ');
  return { seconds: Number(t), code: Number(code) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mibps = (bytes: number, s: number): number => bytes / s / 1024 ** 2;

function rss(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function makeSource(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  const block = randomBytes(16 * 1024 * 1024);
  for (let done = 0; done < size; done += block.length)
    await fh.write(block, 0, Math.min(block.length, size - done));
  await fh.close();
}

async function storageBench(): Promise<string[]> {
  const uptimeBefore = execFileSync('uptime').toString().trim();
  const src = join(base, 'source.bin');
  await makeSource(src, SIZE);

  // The cloud, signed in as its owner with an app password for curl.
  const cloudDir = join(base, 'cloud');
  const cloud = await startChild(
    process.execPath,
    ['--import', 'tsx', SERVER],
    { BENCH_DIR: cloudDir },
    (l) => l.startsWith('http'),
  );
  const [cloudUrl, code] = cloud.line.split(' ');
  const owner = await signIn({ url: cloudUrl }, wallet(1), code);
  const password = (await owner.api('POST', '/api/app-passwords', { label: 'bench' })).json
    .password as string;
  const cloudTarget: Target = {
    name: 'pc2 cloud',
    url: cloudUrl,
    davPath: '/dav',
    curlAuth: ['-u', `${owner.address}:${password}`],
    pid: cloud.child.pid!,
  };

  const rcloneDir = join(base, 'rclone');
  mkdirSync(join(rcloneDir, 'many'), { recursive: true });
  // rclone caches directory listings: its folder is filled on disk before it starts.
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(rcloneDir, 'many', `file-${i}.txt`), `file ${i}\n`);
  const port = 20000 + Math.floor(Math.random() * 10000);
  const rclone = await startChild(
    'rclone',
    ['serve', 'webdav', '--addr', `127.0.0.1:${port}`, rcloneDir, '--config', '/dev/null', '-v'],
    {},
    (l) => /Serving|WebDav Server started|Server started/i.test(l),
  );
  const rcloneTarget: Target = {
    name: 'rclone serve webdav',
    url: `http://127.0.0.1:${port}`,
    davPath: '',
    curlAuth: [],
    pid: rclone.child.pid!,
  };

  const bare = await startChild(
    process.execPath,
    ['--import', 'tsx', SERVER],
    { BENCH_DIR: join(base, 'bare'), BENCH_BARE: '1' },
    (l) => l.startsWith('http'),
  );
  const bareTarget: Target = {
    name: 'bare node:http (floor)',
    url: bare.line.split(' ')[0],
    davPath: '',
    curlAuth: [],
    pid: bare.child.pid!,
  };
  const targets = [cloudTarget, rcloneTarget, bareTarget];

  const put = new Map<string, number[]>();
  const get = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of targets) {
      const p = await curlTime([
        ...t.curlAuth,
        '-T',
        src,
        `${t.url}${t.davPath}/big-${r}.bin`,
        '-o',
        '/dev/null',
      ]);
      if (p.code !== 201 && p.code !== 204) throw new Error(`${t.name} PUT answered ${p.code}`);
      put.set(t.name, [...(put.get(t.name) ?? []), mibps(SIZE, p.seconds)]);
      const g = await curlTime([
        ...t.curlAuth,
        `${t.url}${t.davPath}/big-${r}.bin`,
        '-o',
        '/dev/null',
      ]);
      if (g.code !== 200) throw new Error(`${t.name} GET answered ${g.code}`);
      get.set(t.name, [...(get.get(t.name) ?? []), mibps(SIZE, g.seconds)]);
    }
  }

  // A folder of FILES small files: through the cloud's WebDAV, and straight onto rclone's disk.
  const fill0 = performance.now();
  const pool = new Pool(cloudUrl, { connections: 16 });
  await pool
    .request({
      method: 'MKCOL',
      path: '/dav/many',
      headers: {
        authorization: `Basic ${Buffer.from(`${owner.address}:${password}`).toString('base64')}`,
      },
    })
    .then((r) => r.body.text());
  const auth = `Basic ${Buffer.from(`${owner.address}:${password}`).toString('base64')}`;
  for (let i = 0; i < FILES; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, FILES - i) }, async (_, j) => {
        const r = await pool.request({
          method: 'PUT',
          path: `/dav/many/file-${i + j}.txt`,
          headers: { authorization: auth },
          body: `file ${i + j}\n`,
        });
        await r.body.text();
        if (r.statusCode !== 201) throw new Error(`fill PUT answered ${r.statusCode}`);
      }),
    );
  }
  const fillS = (performance.now() - fill0) / 1000;
  await pool.close();
  const propfind = new Map<string, number[]>();
  const propfindBytes = new Map<string, number>();
  for (let r = 0; r < 5; r++) {
    for (const t of [cloudTarget, rcloneTarget]) {
      const out = join(base, 'propfind.xml');
      const p = await curlTime([
        ...t.curlAuth,
        '-X',
        'PROPFIND',
        '-H',
        'Depth: 1',
        `${t.url}${t.davPath}/many/`,
        '-o',
        out,
      ]);
      if (p.code !== 207) throw new Error(`${t.name} PROPFIND answered ${p.code}`);
      propfind.set(t.name, [...(propfind.get(t.name) ?? []), p.seconds * 1000]);
      propfindBytes.set(t.name, readFileSync(out).length);
    }
  }

  // The 5 GiB streamed upload and download, on a fresh cloud process: its peak RSS (VmHWM).
  let big:
    | { up: number; down: number; hwmUp: number; hwmDown: number; rssIdle: number }
    | undefined;
  if (BIG > 0) {
    cloud.child.kill('SIGKILL');
    const fresh = await startChild(
      process.execPath,
      ['--import', 'tsx', SERVER],
      { BENCH_DIR: join(base, 'cloud-big') },
      (l) => l.startsWith('http'),
    );
    const [url, freshCode] = fresh.line.split(' ');
    const o = await signIn({ url }, wallet(1), freshCode);
    const pass = (await o.api('POST', '/api/app-passwords', { label: 'bench' })).json
      .password as string;
    const pid = fresh.child.pid!;
    const rssIdle = rss(pid).rss;
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const up = await run(
      'bash',
      [
        '-c',
        `head -c ${BIG} /dev/zero | curl -sS -H 'Expect:' -u '${o.address}:${pass}' -T - -w '%{time_total} %{http_code}' -o /dev/null ${url}/dav/five.bin`,
      ],
      { maxBuffer: 1 << 20 },
    );
    const [upS, upCode] = up.stdout.trim().split(' ');
    if (upCode !== '201') throw new Error(`5 GiB PUT answered ${upCode}`);
    const hwmUp = rss(pid).hwm;
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const down = await curlTime([
      '-u',
      `${o.address}:${pass}`,
      `${url}/dav/five.bin`,
      '-o',
      '/dev/null',
    ]);
    big = {
      up: mibps(BIG, Number(upS)),
      down: mibps(BIG, down.seconds),
      hwmUp,
      hwmDown: rss(pid).hwm,
      rssIdle,
    };
  }
  const uptimeAfter = execFileSync('uptime').toString().trim();
  const curlVersion = execFileSync('curl', ['--version']).toString().split('\n')[0];
  const rcloneVersion = execFileSync('rclone', ['version']).toString().split('\n')[0];

  const f = (x: number) => x.toFixed(0);
  const lines = [
    `bench:cloud — ${new Date().toISOString()} — Node ${process.version}, ${rcloneVersion}, ${curlVersion.split(' ').slice(0, 2).join(' ')}`,
    `uptime before: ${uptimeBefore}`,
    `uptime after:  ${uptimeAfter}`,
    '',
    `| server | PUT ${SIZE / GIB} GiB MiB/s (median of ${ROUNDS}) | GET ${SIZE / GIB} GiB MiB/s (median of ${ROUNDS}) | PROPFIND depth 1, ${FILES} files, ms (median of 5) | PROPFIND body bytes |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...targets.map(
      (t) =>
        `| ${t.name} | ${f(median(put.get(t.name)!))} (${put.get(t.name)!.map(f).join(', ')}) | ${f(median(get.get(t.name)!))} (${get.get(t.name)!.map(f).join(', ')}) | ${propfind.has(t.name) ? `${f(median(propfind.get(t.name)!))} (${propfind.get(t.name)!.map(f).join(', ')})` : '—'} | ${propfindBytes.get(t.name) ?? '—'} |`,
    ),
    '',
    `cloud / rclone: PUT ${(median(put.get(cloudTarget.name)!) / median(put.get(rcloneTarget.name)!)).toFixed(2)}×, GET ${(median(get.get(cloudTarget.name)!) / median(get.get(rcloneTarget.name)!)).toFixed(2)}×, PROPFIND time ${(median(propfind.get(cloudTarget.name)!) / median(propfind.get(rcloneTarget.name)!)).toFixed(2)}× (targets: ≥ 0.8×, ≥ 0.8×, ≤ 1.5×)`,
    `filling the ${FILES}-file folder through the cloud's WebDAV (16 connections, fsynced): ${fillS.toFixed(1)} s (${f(FILES / fillS)} PUT/s)`,
  ];
  if (big) {
    lines.push(
      `${BIG / GIB} GiB streamed PUT to a fresh cloud process (chunked, curl -T -): ${f(big.up)} MiB/s, peak RSS ${f(big.hwmUp)} MiB; GET back: ${f(big.down)} MiB/s, peak RSS ${f(big.hwmDown)} MiB (RSS after sign-in, before the upload: ${f(big.rssIdle)} MiB)`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? 'storage,apps,backup').split(',');
  const out: string[] = [];
  if (only.includes('storage')) out.push(...(await storageBench()), '');
  if (only.includes('apps')) out.push(...(await appsBench(base)), '');
  if (only.includes('backup')) out.push(...(await backupBench(base)));
  console.log(out.join('\n'));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
