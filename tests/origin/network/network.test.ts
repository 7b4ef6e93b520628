/**
 * The network map's parts without sockets: the super node's traffic buckets (rates, bounds,
 * persistence), the DHT size estimate, the health verdict, and the edge's checking and merging of
 * super node reports (hostile ones included, and listings that were not signed by the name's owner).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { NetworkMapSource } from '../../../edge/network/map.ts';
import { checkReport, sumSeries } from '../../../edge/network/reports.ts';
import { parseEdgeConfig } from '../../../edge/config.ts';
import { estimateDhtSize } from '../../../origin/dht/size-estimate.ts';
import { healthReport, type HealthFacts } from '../../../origin/health.ts';
import { TrafficHistory, type TrafficCounters } from '../../../origin/network/traffic.ts';
import { AnswerCounts } from '../../../origin/zone/answer-counts.ts';
import { randomBytes } from '../../../shared/bytes.ts';
import { Id } from '../../../shared/id.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { signBinding } from '../../../shared/records/binding.ts';
import type { SuperNodeReport, TrafficSeries } from '../../../shared/records/network.ts';
import { signRoute } from '../../../shared/records/route.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pc2-net-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function counters(): { values: TrafficCounters; read: () => TrafficCounters } {
  const values = { bytesToNodes: 0, bytesFromNodes: 0, relayRequests: 0, apiRequests: 0 };
  return { values, read: () => ({ ...values }) };
}

describe('TrafficHistory', () => {
  it('puts growth in minute and quarter-hour buckets, whose totals give the rates', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const c = counters();
    const h = new TrafficHistory({ read: c.read, now: () => now, sampleMs: 1e9 });
    h.start();
    for (let s = 0; s < 180; s += 10) {
      now += 10_000;
      c.values.bytesFromNodes += 1000; // 100 B/s
      c.values.relayRequests += 5; // 0.5/s
      h.sample();
    }
    const { hour, day } = h.snapshot();
    expect(hour.stepS).toBe(60);
    expect(hour.t).toEqual([0, 1, 2].map((i) => now / 1000 - 180 + i * 60));
    expect(hour.seconds).toEqual([60, 60, 60]);
    for (let i = 0; i < 3; i++) expect(hour.bytesFromNodes[i] / hour.seconds[i]).toBeCloseTo(100);
    expect(hour.relayRequests.slice(0, 3)).toEqual([30, 30, 30]);
    expect(day.t).toEqual([now / 1000 - 180]);
    expect(day.bytesFromNodes).toEqual([18_000]);
    h.stop();
  });

  it('stays bounded over days, adds nothing when a counter goes back, and survives a restart', async () => {
    let now = Date.UTC(2026, 0, 1);
    const c = counters();
    const file = join(tempDir(), 'network', 'traffic.json');
    const h = new TrafficHistory({ read: c.read, now: () => now, file, sampleMs: 1e9 });
    h.start();
    for (let m = 0; m < 3 * 24 * 60; m++) {
      now += 60_000;
      c.values.apiRequests += 60;
      h.sample();
    }
    c.values.apiRequests = 0; // a part restarted: no negative spike
    now += 30_000;
    h.sample();
    const { hour, day } = h.snapshot();
    expect(hour.t.length).toBeLessThanOrEqual(61);
    expect(day.t.length).toBeLessThanOrEqual(97);
    expect(Math.min(...hour.apiRequests, ...day.apiRequests)).toBeGreaterThanOrEqual(0);
    await h.stop();
    const again = new TrafficHistory({ read: c.read, now: () => now, file, sampleMs: 1e9 });
    again.start();
    expect(again.snapshot().day.t).toEqual(day.t);
    await again.stop();
    // A damaged file is ignored, not fatal.
    writeFileSync(file, '{"v":1,"hour":[{"start":"x"}],"day":7}');
    const fresh = new TrafficHistory({ read: c.read, now: () => now, file, sampleMs: 1e9 });
    fresh.start();
    expect(fresh.snapshot().hour.t).toHaveLength(1);
    await fresh.stop();
    expect(JSON.parse(readFileSync(file, 'utf8')).v).toBe(1);
  });
});

describe('estimateDhtSize', () => {
  it('finds the size of a uniform network from the 8 closest ids, within a factor of two', () => {
    for (const n of [200, 5000, 50_000]) {
      const estimates: number[] = [];
      for (let trial = 0; trial < 9; trial++) {
        const self = new Id(randomBytes(32));
        const ids = Array.from({ length: n }, () => new Id(randomBytes(32)));
        const distance = (id: Id) => {
          let d = 0;
          for (let i = 0; i < 7; i++) d = d * 256 + (id.bytes[i] ^ self.bytes[i]);
          return d;
        };
        ids.sort((a, b) => distance(a) - distance(b));
        estimates.push(estimateDhtSize(self, ids.slice(0, 8)));
      }
      const median = estimates.sort((a, b) => a - b)[4];
      expect(median).toBeGreaterThan(n / 2);
      expect(median).toBeLessThan(n * 2);
    }
    expect(estimateDhtSize(new Id(randomBytes(32)), [])).toBe(1);
  });
});

describe('healthReport', () => {
  const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
    now: 1_000_000_000,
    id: 'id',
    version: 'pc2 test',
    label: 'sn',
    region: null,
    startedAt: 1_000_000_000 - 3_600_000,
    store: { names: 1, namesBound: 1, logBytes: 10, writeError: null },
    peers: [],
    tunnel: { listening: true, sessions: 0, connections: 0, streams: 0, queuedStreams: 0 },
    dht: null,
    certificateNotAfter: null,
    ...over,
  });
  const peer = (lastPullAt: number) => ({
    id: 'p',
    url: 'http://p',
    pending: 0,
    lastPushAt: 0,
    lastPullAt,
    pushFailures: 0,
    pullFailures: 3,
    cursor: 0,
    lastError: 'ECONNREFUSED',
  });

  it('is ok, degraded on warnings, unfit on a failed check', () => {
    expect(healthReport(facts()).status).toBe('ok');
    const lagging = healthReport(facts({ peers: [peer(1_000_000_000 - 120_000)] }));
    expect(lagging.status).toBe('degraded');
    expect(lagging.ok).toBe(true);
    expect(lagging.peers[0]).toMatchObject({ state: 'behind', lagS: 120 });
    expect(healthReport(facts({ peers: [peer(0)] })).peers[0].state).toBe('never');
    const soon = healthReport(facts({ certificateNotAfter: 1_000_000_000 + 86_400_000 }));
    expect(soon.status).toBe('degraded');
    expect(soon.certificate!.expiresInS).toBe(86_400);
    for (const broken of [
      facts({ store: { names: 1, namesBound: 1, logBytes: 1, writeError: new Error('EIO') } }),
      facts({
        tunnel: { listening: false, sessions: 0, connections: 0, streams: 0, queuedStreams: 0 },
      }),
      facts({ certificateNotAfter: 1_000_000_000 - 1 }),
      facts({
        dht: {
          running: false,
          bootstrapped: true,
          routingTable: { v4: 0, v4Usable: 0 },
          sizeEstimate: 0,
        },
      }),
    ]) {
      const h = healthReport(broken);
      expect(h.status).toBe('unfit');
      expect(h.ok).toBe(false);
      expect(h.checks.some((c) => c.status === 'fail')).toBe(true);
    }
  });
});

describe('AnswerCounts', () => {
  it('counts answers by question type and rcode, whatever the bytes', () => {
    const counts = new AnswerCounts();
    const answer = (type: 'A' | 'TXT', rcode: 'NOERROR' | 'REFUSED') =>
      dnsPacket.encode({
        type: 'response',
        id: 1,
        flags: rcode === 'REFUSED' ? 5 : 0,
        questions: [{ type, name: 'alice.ela.city' }],
      });
    counts.count(answer('A', 'NOERROR'));
    counts.count(answer('A', 'NOERROR'));
    counts.count(answer('TXT', 'REFUSED'));
    counts.count(new Uint8Array(5));
    counts.count(new Uint8Array(40).fill(200));
    expect(counts.entries()).toEqual([
      { type: 'A', rcode: 'NOERROR', count: 2 },
      { type: 'TXT', rcode: 'REFUSED', count: 1 },
      { type: 'NONE', rcode: 'OTHER', count: 1 },
    ]);
  });
});

const series = (stepS: number, t: number[], v: number): TrafficSeries => ({
  stepS,
  t,
  seconds: t.map(() => stepS),
  bytesToNodes: t.map(() => v),
  bytesFromNodes: t.map(() => v),
  relayRequests: t.map(() => v),
  apiRequests: t.map(() => v),
});

function report(id: string, over: Partial<SuperNodeReport> = {}): SuperNodeReport {
  return {
    v: 1,
    id,
    label: 'sn',
    region: null,
    version: 'pc2 test',
    startedAt: 0,
    time: 60_000,
    fit: true,
    nodesOnline: { direct: 1, relay: 2 },
    namesBound: 3,
    tunnelSessions: 2,
    dhtSizeEstimate: 10,
    listed: [],
    hour: series(60, [60, 120], 1),
    day: series(900, [900], 1),
    ...over,
  };
}

describe('super node reports at the edge', () => {
  it('refuses hostile reports', () => {
    const id = KeyPair.generate().id.toString();
    expect(checkReport(report(id), id)).toMatchObject({ id, namesBound: 3 });
    const bad: unknown[] = [
      null,
      'text',
      report('someone-else'),
      { ...report(id), v: 2 },
      { ...report(id), namesBound: Number.NaN },
      { ...report(id), label: 'x'.repeat(1000) },
      { ...report(id), hour: series(60, [61], 1) },
      { ...report(id), hour: series(900, [900], 1) },
      {
        ...report(id),
        hour: series(
          60,
          Array.from({ length: 500 }, (_, i) => i * 60),
          1,
        ),
      },
      { ...report(id), hour: { ...series(60, [60], 1), bytesToNodes: [-1] } },
      { ...report(id), listed: [{ name: 'a' }] },
      {
        ...report(id),
        listed: Array.from({ length: 501 }, () => ({ name: 'a', binding: '', route: '' })),
      },
    ];
    for (const b of bad) expect(typeof checkReport(b, id)).toBe('string');
  });

  it('sums aligned buckets and drops those older than the window', () => {
    const sum = sumSeries([series(60, [60, 120], 1), series(60, [120, 180], 2)], 60, 100);
    expect(sum.t).toEqual([120, 180]);
    expect(sum.bytesToNodes).toEqual([3, 2]);
  });

  it('merges every super node, shows a bad one as down, and lists only owner-signed listings', async () => {
    const registrar = KeyPair.generate();
    const [a, b] = [KeyPair.generate(), KeyPair.generate()];
    const now = Date.now();
    const entry = async (name: string, owner: KeyPair, listed: boolean, signer = owner) => ({
      name,
      binding: await signBinding(
        { name, owner: owner.id.toString(), boundAt: now - 1000 },
        registrar,
      ),
      route: await signRoute(
        {
          name,
          mode: 'relay',
          relays: [a.id.toString()],
          seq: 1,
          iat: now,
          exp: now + 60_000,
          listed,
        },
        signer,
      ),
    });
    const alice = KeyPair.generate();
    const bob = KeyPair.generate();
    const carol = KeyPair.generate();
    const listed = [
      await entry('alice', alice, true),
      await entry('bob-not-asking', bob, false),
      await entry('carol', carol, true, KeyPair.generate()), // signed by someone else
    ];
    const answers: Record<string, unknown> = {
      [`https://a.example/api/v1/network`]: report(a.id.toString(), {
        listed,
        nodesOnline: { direct: 1, relay: 2 },
      }),
      [`https://b.example/api/v1/network`]: { ...report(b.id.toString()), hour: 'garbage' },
    };
    const config = parseEdgeConfig({
      zone: 'ela.city',
      registrarKeys: [registrar.id.toString()],
      edgeKey: KeyPair.generate().bosonPrivateKeyBase58(),
      superNodes: [
        { id: a.id.toString(), url: 'https://a.example' },
        { id: b.id.toString(), url: 'https://b.example' },
      ],
      fetch: async (input: RequestInfo | URL) =>
        new Response(JSON.stringify(answers[String(input)]), { status: 200 }),
    });
    const map = await new NetworkMapSource(config).get('https://ela.city');
    expect(map.superNodes.map((s) => s.up)).toEqual([true, false]);
    expect(map.nodesOnline).toEqual({ direct: 1, relay: 2 });
    expect(map.listed).toEqual([{ name: 'alice', mode: 'relay', url: 'https://alice.ela.city' }]);
    expect(JSON.stringify(map)).not.toContain(alice.id.toString());
  });
});
