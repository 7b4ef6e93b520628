import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../../agent/tunnel/index.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import { signEdgeToken } from '../../../shared/records/edge-token.ts';
import { type IngressServer, startIngressServer } from '../../../origin/ingress/index.ts';
import type { TunnelServer } from '../../../origin/tunnel/index.ts';
import { SLAB_BYTES, SlabReads, tunnelSlabs } from '../../../origin/tunnel/slab-reads.ts';
import { Slab } from '../../../shared/slab.ts';
import { authenticated, newClient, startServer } from '../../tunnel/harness.ts';

/** Frames as the wire has them: size u16 (header included), a type byte, then `fill`. */
function frame(size: number, fill: number): Buffer {
  const out = Buffer.alloc(size, fill);
  out[0] = size >> 8;
  out[1] = size & 0xff;
  out[2] = 0x40;
  return out;
}

describe('slab reads', () => {
  it('frames come out whole whatever the reads; kept views keep their slab out of the pool', () => {
    const frames = Array.from({ length: 200 }, (_, i) =>
      frame(3 + ((i * 7919) % 65_533), i & 0xff),
    );
    const wire = Buffer.concat(frames);
    const got: Buffer[] = [];
    const kept: { bytes: Uint8Array; copy: Buffer; slab: Slab }[] = [];
    const reads = new SlabReads({
      frame: (bytes, memory) => {
        got.push(Buffer.from(bytes));
        // Every fifth frame is held past the call (as a queued socket write would).
        if (memory && got.length % 5 === 0) {
          memory.retain();
          kept.push({ bytes, copy: Buffer.from(bytes), slab: memory });
        }
      },
      malformed: (message) => {
        throw new Error(message);
      },
      streaming: () => true,
      closed: () => false,
    });
    let at = 0;
    let step = 0;
    while (at < wire.length) {
      const into = reads.buffer();
      expect(into.length).toBeGreaterThanOrEqual(65_536);
      const n = Math.min(into.length, wire.length - at, 1 + ((step++ * 104_729) % 200_000));
      wire.copy(into, 0, at, at + n);
      at += n;
      reads.callback(n);
      // Release the older half of the held views: their slabs may be reused, the rest must not be.
      for (const k of kept.splice(0, Math.floor(kept.length / 2))) k.slab.release();
      for (const k of kept) expect(k.copy.equals(k.bytes)).toBe(true);
    }
    expect(got.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(got[i].equals(frames[i])).toBe(true);
    for (const k of kept) k.slab.release();
    reads.release();
    expect(tunnelSlabs.stats().free).toBeGreaterThan(0);
  });

  it('an idle connection reads into the shared scratch buffer; an incomplete frame moves to a slab', () => {
    const seen: (Slab | null)[] = [];
    const reads = new SlabReads({
      frame: (_bytes, memory) => void seen.push(memory),
      malformed: () => {},
      streaming: () => false,
      closed: () => false,
    });
    const first = reads.buffer();
    const wire = Buffer.concat([frame(40, 1), frame(100, 2)]);
    wire.copy(first, 0, 0, 60);
    reads.callback(60);
    const second = reads.buffer();
    expect(second.length).toBe(SLAB_BYTES - 20);
    wire.copy(second, 0, 60);
    reads.callback(wire.length - 60);
    expect(seen[0]).toBeNull();
    expect(seen[1]).toBeInstanceOf(Slab);
    expect(reads.buffer()).toBe(first);
  });
});

// The whole path: slabs are reused while views of them sit in the edge sockets' write queues.
const edge = KeyPair.generate();
const superNode = KeyPair.generate();
const BODY = 6 * 1024 * 1024;
const bodies = Array.from({ length: 4 }, () => randomBytes(BODY));
let app: Server;
let tunnel: TunnelServer;
let client: TunnelClient;
let ingress: IngressServer;

beforeAll(async () => {
  app = createServer((req, res) => {
    const body = bodies[Number(req.url!.slice(1))];
    res.writeHead(200, { 'content-length': body.length });
    // In pieces of odd sizes, so DATA frames and reads fall anywhere.
    for (let at = 0; at < body.length; at += 100_003) res.write(body.subarray(at, at + 100_003));
    res.end();
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  tunnel = await startServer();
  client = newClient(tunnel, (app.address() as AddressInfo).port);
  client.start();
  await authenticated(client);
  ingress = await startIngressServer({
    tunnel,
    superNodeId: superNode.id,
    edgeKeys: [edge.id],
    host: '127.0.0.1',
    port: 0,
  });
});
afterAll(async () => {
  await ingress.close();
  await client.stop();
  await tunnel.stop();
  await new Promise((resolve) => app.close(resolve));
});

describe('relayed downloads over slab reads', () => {
  it('concurrent downloads, one read slowly, each byte-exact', async () => {
    const node = client.options.deviceKey.id;
    const base = `http://127.0.0.1:${ingress.address().port}`;
    const fetchOne = async (i: number, slow: boolean) => {
      const res = await request(`${base}/${i}`, {
        headers: {
          [INGRESS_HEADERS.nodeId]: node.toString(),
          [INGRESS_HEADERS.edgeToken]: await signEdgeToken(edge, node, superNode.id, Date.now()),
        },
      });
      const hash = createHash('sha256');
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        if (slow) await new Promise((r) => setTimeout(r, 2));
      }
      return hash.digest('hex');
    };
    const before = tunnelSlabs.stats();
    const got = await Promise.all(bodies.map((_, i) => fetchOne(i, i === 0)));
    expect(got).toEqual(bodies.map((b) => createHash('sha256').update(b).digest('hex')));
    // The tunnel connections did read into slabs, and took them again from the pool.
    expect(tunnelSlabs.stats().reused).toBeGreaterThan(before.reused + 10);
  }, 60_000);
});
