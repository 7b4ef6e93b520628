/**
 * `npm run bench:dns`: the zone's name server against Debian's NSD serving the same zone, both asked
 * by Debian's dnsperf in the same run, and the failover time of the zone's answers.
 * - queries/s: a `pc2 supernode --dns` process and `nsd` (one server process, RRL off, like the super
 *   node's rate limit) answer ela.test; dnsperf (4 clients, 200 queries outstanding, UDP) asks each in
 *   turn, twice, with two query files: 1,000 names x A/AAAA plus apex SOA/NS/CAA ("working set"), and
 *   100,000 distinct names ("distinct names", past the answer cache);
 * - failover: two super nodes with TTL 5 s (and once with the default 30 s); kill -9 one and ask the
 *   other every 100 ms until the killed one's gateway address is gone from its answers.
 * Options: --seconds N per dnsperf run (default 10), --failover-runs N (default 3), --no-write.
 */
import { execFile, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { queryServer } from '../origin/zone/dns-client.ts';
import { type Proc, startProcess, tempDir } from '../tests/helpers/processes.ts';
import {
  reserveDnsPort,
  startZoneNetwork,
  TEST_ZONE as ZONE,
} from '../tests/helpers/zone-network.ts';
import { machine, writeSection } from './report.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'failover-runs': { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const failoverRuns = Number(values['failover-runs']);
const uptime = () => execFileSync('uptime').toString().trim();

function nsdZoneFile(nsPort: number): string {
  return `$ORIGIN ${ZONE}.
$TTL 30
@ IN SOA ns1.${ZONE}. hostmaster.${ZONE}. 1 3600 600 604800 30
@ IN NS ns1.${ZONE}.
ns1 IN A 127.0.0.1
@ IN A 192.0.2.1
@ IN AAAA 2001:db8::1
@ IN CAA 0 issue "letsencrypt.org"
* IN A 192.0.2.1
* IN AAAA 2001:db8::1
; port ${nsPort}
`;
}

async function startNsd(dir: string): Promise<{ port: number; proc: Proc }> {
  const port = await reserveDnsPort();
  writeFileSync(join(dir, `${ZONE}.zone`), nsdZoneFile(port));
  writeFileSync(
    join(dir, 'nsd.conf'),
    `server:
  ip-address: 127.0.0.1@${port}
  server-count: 1
  rrl-ratelimit: 0
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  database: ""
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: ${ZONE}
  zonefile: ${ZONE}.zone
`,
  );
  const proc = startProcess('nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  for (let i = 0; i < 100; i++) {
    if (
      await queryServer('127.0.0.1', port, ZONE, 'SOA', 200).then(
        () => true,
        () => false,
      )
    )
      return { port, proc };
  }
  throw new Error(`nsd did not answer:\n${proc.output()}`);
}

async function dnsperf(
  port: number,
  file: string,
  forSeconds = seconds,
): Promise<{ qps: number; lost: number; latencyMs: number }> {
  const { stdout } = await run(
    'dnsperf',
    [
      '-s',
      '127.0.0.1',
      '-p',
      String(port),
      '-d',
      file,
      '-l',
      String(forSeconds),
      '-c',
      '4',
      '-q',
      '200',
    ],
    { maxBuffer: 1 << 20 },
  );
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
  };
}

/** The answer sets of both servers for a few names, to show they serve the same zone. */
async function sameZone(a: number, b: number): Promise<void> {
  for (const [name, type] of [
    [ZONE, 'A'],
    [ZONE, 'AAAA'],
    [`x.${ZONE}`, 'A'],
    [`deep.y.${ZONE}`, 'AAAA'],
    [ZONE, 'CAA'],
    [`x.${ZONE}`, 'MX'],
  ] as const) {
    const [ra, rb] = await Promise.all([
      queryServer('127.0.0.1', a, name, type),
      queryServer('127.0.0.1', b, name, type),
    ]);
    const facts = (r: typeof ra) =>
      JSON.stringify([r.rcode, r.authoritative, r.records.map((x) => [x.type, x.data])]);
    if (facts(ra) !== facts(rb))
      throw new Error(
        `the two servers answer ${name} ${type} differently: ${facts(ra)} / ${facts(rb)}`,
      );
  }
}

async function queriesPerSecond(dir: string) {
  const net = await startZoneNetwork({
    count: 1,
    extra: () => ['--caa', '0 issue "letsencrypt.org"'],
  });
  const nsd = await startNsd(dir);
  const superPort = net.nodes[0].dnsPort;
  try {
    await sameZone(superPort, nsd.port);
    const hot = join(dir, 'working-set.txt');
    const names = Array.from({ length: 1000 }, (_, i) => `n${i}.${ZONE}`);
    writeFileSync(
      hot,
      [
        ...names.flatMap((n) => [`${n} A`, `${n} AAAA`]),
        `${ZONE} SOA`,
        `${ZONE} NS`,
        `${ZONE} CAA`,
      ].join('\n') + '\n',
    );
    const cold = join(dir, 'distinct.txt');
    writeFileSync(
      cold,
      Array.from({ length: 100_000 }, (_, i) => `d${i}.${ZONE} A`).join('\n') + '\n',
    );
    const rows: string[] = [];
    // Warm-up (JIT, caches) of both, not counted.
    await dnsperf(nsd.port, hot, 3);
    await dnsperf(superPort, hot, 3);
    for (const [label, file] of [
      ['working set', hot],
      ['distinct names', cold],
    ] as const) {
      const best = {
        nsd: { qps: 0, lost: 0, latencyMs: 0 },
        zone: { qps: 0, lost: 0, latencyMs: 0 },
      };
      for (let round = 0; round < 2; round++) {
        const n = await dnsperf(nsd.port, file);
        const z = await dnsperf(superPort, file);
        console.log(
          `${label}, round ${round + 1}: nsd ${n.qps.toFixed(0)} q/s (lost ${n.lost}), super node ${z.qps.toFixed(0)} q/s (lost ${z.lost}); ${uptime()}`,
        );
        if (n.qps > best.nsd.qps) best.nsd = n;
        if (z.qps > best.zone.qps) best.zone = z;
      }
      rows.push(
        `| ${label} | ${best.zone.qps.toFixed(0)} | ${best.nsd.qps.toFixed(0)} | **${(best.zone.qps / best.nsd.qps).toFixed(2)}x** | ${best.zone.latencyMs.toFixed(2)} / ${best.nsd.latencyMs.toFixed(2)} | ${best.zone.lost} / ${best.nsd.lost} |`,
      );
    }
    return rows;
  } finally {
    await nsd.proc.kill('SIGKILL');
    await net.close();
  }
}

async function failover(ttl: number, runs: number): Promise<number[]> {
  const net = await startZoneNetwork({ count: 2, ttl });
  const [sn1, sn2] = net.nodes;
  const gateways = async () =>
    (await queryServer('127.0.0.1', sn2.dnsPort, `x.${ZONE}`, 'A', 1000)).records
      .map((r) => String(r.data))
      .sort()
      .join();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (let t = 0; (await gateways().catch(() => '')) !== '192.0.2.1,192.0.2.2'; t++) {
        if (t > 600) throw new Error('sn1 never showed up in the answers of sn2');
        await new Promise((r) => setTimeout(r, 100));
      }
      const killedAt = performance.now();
      await sn1.proc.kill('SIGKILL');
      while ((await gateways().catch(() => '')) !== '192.0.2.2') {
        if (performance.now() - killedAt > 10 * ttl * 1000)
          throw new Error('sn1 never left the answers');
        await new Promise((r) => setTimeout(r, 100));
      }
      times.push(performance.now() - killedAt);
      console.log(
        `failover, TTL ${ttl} s, run ${i + 1}/${runs}: gone from the answers ${times.at(-1)!.toFixed(0)} ms after kill -9; ${uptime()}`,
      );
      await net.start(sn1);
    }
  } finally {
    await net.close();
  }
  return times;
}

const dir = tempDir('pc2-bench-dns-');
try {
  const startedUptime = uptime();
  const qps = await queriesPerSecond(dir);
  const short = await failover(5, failoverRuns);
  const long = await failover(30, 1);
  const fmt = (t: number[]) => {
    const [lo, hi] = [(Math.min(...t) / 1000).toFixed(1), (Math.max(...t) / 1000).toFixed(1)];
    return lo === hi ? `${lo} s` : `${lo}-${hi} s`;
  };
  const body = `Command: \`flock /tmp/machine.lock npm run bench:dns\` (${machine()}; dnsperf 2.10, NSD 4.6.1).
\`uptime\` at the start: \`${startedUptime}\`; at the end: \`${uptime()}\`.

A \`pc2 supernode --dns\` process (rate limit off) and \`nsd\` (\`server-count: 1\`, \`rrl-ratelimit: 0\`) serve
the same ela.test (SOA, NS + glue, apex and wildcard A/AAAA, CAA; the bench checks both give the same
answers first). dnsperf asks each for ${seconds} s with 4 clients and 200 queries outstanding over UDP,
in turn, twice, after a 3 s warm-up of each; the best run of each counts. "working set": 1,000
names x A/AAAA and the apex's SOA/NS/CAA, over and over (what resolvers ask); "distinct names":
100,000 different names, past the super node's answer cache (a random-subdomain flood).

| query file | super node q/s | NSD q/s | ratio (target >= 0.3x) | avg latency ms (super node / NSD) | lost (super node / NSD) |
|---|---|---|---|---|---|
${qps.join('\n')}

Failover: two super nodes; \`kill -9\` of one, then the other is asked every 100 ms until the killed
one's gateway address is gone from its answers: TTL 5 s, ${failoverRuns} run${failoverRuns === 1 ? '' : 's'}: ${fmt(short)}
(${short.map((t) => (t / 1000).toFixed(1)).join(', ')} s); TTL 30 s (the default), 1 run: ${fmt(long)}. The bound is the TTL plus the push of
the last heartbeat; a resolver that cached the answer just before adds up to
one more TTL, hence "within 2 x TTL".`;
  console.log(body);
  if (!values['no-write']) writeSection('Zone DNS', body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
