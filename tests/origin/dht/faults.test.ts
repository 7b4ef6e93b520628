/** Bad datagrams, abusive sources, dead peers, restarts and bad options: counted, refused, survived. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, randomBytes } from '../../../shared/bytes.ts';
import { encodeCbor } from '../../../shared/cbor/index.ts';
import { ErrorCode, Method, Value, Want } from '../../../shared/dht/index.ts';
import { Id } from '../../../shared/id.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { DhtError, DhtNode } from '../../../origin/dht/index.ts';
import { RawPeer } from '../../helpers/dht-raw-peer.ts';
import { startTestnet, type Testnet } from '../../helpers/dht-testnet.ts';

const local = { host: '127.0.0.1', port: 0, host6: false as const, developerMode: true };
const stopAll: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
});

async function startNode(
  extra: Partial<ConstructorParameters<typeof DhtNode>[0]> = {},
): Promise<DhtNode> {
  const node = new DhtNode({ key: KeyPair.generate(), ...local, ...extra });
  await node.start();
  stopAll.push(() => node.stop());
  return node;
}

async function rawPeer(key?: KeyPair): Promise<RawPeer> {
  const peer = await new RawPeer(key).start();
  stopAll.push(() => peer.close());
  return peer;
}

/** Waits until `check` holds (datagrams are asynchronous), polling a bounded number of times. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('bad datagrams', () => {
  it('drops and counts short, oversized, undecryptable and undecodable datagrams, and keeps answering', async () => {
    const node = await startNode({ rateLimitPerSecond: 0 });
    const peer = await rawPeer();
    const port = node.address().port;
    const to = { id: node.id, port };
    await peer.sendRaw(new Uint8Array(0), port);
    await peer.sendRaw(randomBytes(60), port);
    await peer.sendRaw(randomBytes(20_000), port);
    // Right sender id, but the box does not authenticate.
    await peer.sendRaw(concatBytes(peer.key.id.bytes, randomBytes(200)), port);
    // A sender id that is not a curve point.
    await peer.sendRaw(
      concatBytes(new Uint8Array(32).fill(0xff), new Uint8Array(31).fill(0xff), randomBytes(100)),
      port,
    );
    // Well encrypted, but not a DHT message: CBOR garbage, then a map with an unknown method.
    const context = peer.context(node.id, peer.key);
    await peer.sendRaw(
      concatBytes(peer.key.id.bytes, context.encrypt(randomBytes(40).fill(0x1c, 0, 1))),
      port,
    );
    await peer.sendRaw(
      concatBytes(peer.key.id.bytes, context.encrypt(encodeCbor({ y: 0x27, t: 9, v: 1 }))),
      port,
    );
    await eventually(() => {
      const d = node.counters().dropped;
      return (
        d.tooShort === 2 &&
        d.oversized === 1 &&
        d.decryptFailed === 1 &&
        d.invalidSender === 1 &&
        d.malformed === 2
      );
    });
    const answer = await peer.request(to, { method: Method.PING });
    expect(answer.kind).toBe('response');
    // The readable but unknown-method request got a protocol ERROR back (204), the rest nothing.
    const errors = peer.received.filter((r) => r.message.kind === 'error');
    expect(
      errors.map((r) => (r.message.kind === 'error' ? [r.message.txid, r.message.error.code] : [])),
    ).toEqual([[9, ErrorCode.METHOD_UNKNOWN]]);
  });

  it('answers a readable request with bad fields with a protocol ERROR (203)', async () => {
    const node = await startNode();
    const peer = await rawPeer();
    const context = peer.context(node.id, peer.key);
    // FIND_NODE whose target is 3 bytes long.
    await peer.sendRaw(
      concatBytes(
        peer.key.id.bytes,
        context.encrypt(encodeCbor({ y: 0x22, t: 41, q: { t: new Uint8Array(3), w: 1 }, v: 1 })),
      ),
      node.address().port,
    );
    const answer = await peer.waitFor((r) => r.message.kind === 'error');
    expect(answer.message.kind === 'error' && answer.message.error.code).toBe(ErrorCode.PROTOCOL);
    expect(answer.message.txid).toBe(41);
  });

  it('drops a replayed datagram (duplicated nonce)', async () => {
    const node = await startNode();
    const peer = await rawPeer();
    const bytes = concatBytes(
      peer.key.id.bytes,
      peer.context(node.id, peer.key).encrypt(encodeCbor({ y: 0x21, t: 5, v: 1 })),
    );
    await peer.sendRaw(bytes, node.address().port);
    await peer.sendRaw(bytes, node.address().port);
    await eventually(
      () => node.counters().dropped.decryptFailed === 1 && node.counters().requestsIn.ping === 1,
    );
  });

  it('bans a source after repeated malformed packets', async () => {
    const node = await startNode();
    const peer = await rawPeer();
    const port = node.address().port;
    const context = peer.context(node.id, peer.key);
    for (let i = 0; i < 3; i++)
      await peer.sendRaw(
        concatBytes(peer.key.id.bytes, context.encrypt(encodeCbor({ y: 0x27, t: 1 + i, v: 1 }))),
        port,
      );
    await eventually(() => node.counters().dropped.malformed === 3);
    await peer.send(
      { id: node.id, port },
      { kind: 'request', txid: 77, request: { method: Method.PING } },
    );
    await eventually(() => node.counters().dropped.banned === 1);
    expect(node.counters().requestsIn.ping ?? 0).toBe(0);
  });

  it('rate-limits one source', async () => {
    const node = await startNode({ rateLimitPerSecond: 1, rateLimitBurst: 5 });
    const peer = await rawPeer();
    for (let i = 0; i < 20; i++)
      await peer.send(
        { id: node.id, port: node.address().port },
        { kind: 'request', txid: i + 1, request: { method: Method.PING } },
      );
    await eventually(() => node.counters().dropped.rateLimited >= 14);
    expect(node.counters().requestsIn.ping).toBeLessThanOrEqual(6);
  });
});

describe('misbehaving and dead peers', () => {
  it('refuses an answer from the right address under another id and counts the id flip', async () => {
    const claimed = KeyPair.generate();
    const impostor = await rawPeer(claimed);
    const other = KeyPair.generate();
    impostor.socket.on('message', async () => {
      // Let the request land first, then answer every FIND_NODE under a different key.
      await new Promise((r) => setTimeout(r, 5));
      for (const r of impostor.received.filter((m) => m.message.kind === 'request').splice(0)) {
        await impostor.send(
          { id: r.from, port: r.port },
          {
            kind: 'response',
            txid: r.message.txid,
            response: { method: Method.FIND_NODE, nodes4: [], nodes6: [] },
          },
          other,
        );
      }
    });
    const node = await startNode({
      bootstrap: [{ id: claimed.id, host: '127.0.0.1', port: impostor.port }],
      requestTimeoutMs: 2000,
    });
    await eventually(() => node.counters().dropped.idFlip >= 1);
    expect(node.routingTableSize().v4).toBe(0);
  });

  it('times out requests to a silent node and counts them per method', async () => {
    const silent = await rawPeer();
    const node = await startNode({
      bootstrap: [{ id: KeyPair.generate().id, host: '127.0.0.1', port: silent.port }],
      requestTimeoutMs: 300,
    });
    expect(node.counters().timeouts.find_node).toBe(1);
    expect(await node.findNode(new Id(randomBytes(32)))).toEqual([]);
  });
});

describe('requests in flight', () => {
  it('keeps at most maxInFlight requests outstanding and queues the rest', async () => {
    const silent = await Promise.all([rawPeer(), rawPeer(), rawPeer()]);
    const node = new DhtNode({
      key: KeyPair.generate(),
      ...local,
      maxInFlight: 1,
      requestTimeoutMs: 1000,
      bootstrap: silent.map((p) => ({ id: p.key.id, host: '127.0.0.1', port: p.port })),
    });
    stopAll.push(() => node.stop());
    const started = node.start();
    const heard = () => silent.filter((p) => p.received.length > 0).length;
    await eventually(() => heard() === 1);
    // The other two wait for the first to time out.
    await new Promise((r) => setTimeout(r, 300));
    expect(heard()).toBe(1);
    await started;
    expect(heard()).toBe(3);
    expect(node.counters().timeouts.find_node).toBe(3);
  });
});

describe('routing table persistence', () => {
  let net: Testnet;
  let dir: string;
  beforeAll(async () => {
    net = await startTestnet(12, { batch: 4 });
    stopAll.push(() => net.stop());
    dir = await mkdtemp(join(tmpdir(), 'pc2-dht-'));
    stopAll.push(() => rm(dir, { recursive: true, force: true }));
  });

  it('saves the table on stop and rejoins from it without bootstrap nodes', async () => {
    const key = KeyPair.generate();
    const first = new DhtNode({
      key,
      ...local,
      dataDir: dir,
      bootstrap: [{ id: net.nodes[0].id, ...net.nodes[0].address() }],
    });
    await first.start();
    expect(first.routingTableSize().v4Usable).toBeGreaterThan(3);
    await first.stop();
    const saved = JSON.parse(await readFile(join(dir, 'dht-routing-v4.json'), 'utf8'));
    expect(saved.id).toBe(key.id.toString());
    expect(saved.nodes.length).toBeGreaterThan(3);
    const again = new DhtNode({ key, ...local, dataDir: dir });
    await again.start();
    stopAll.push(() => again.stop());
    expect(again.routingTableSize().v4Usable).toBeGreaterThan(3);
    const someone = net.nodes[7].id;
    expect((await again.findNode(someone))[0].id.equals(someone)).toBe(true);
  });
});

describe('options', () => {
  it('refuses unknown and malformed options clearly', () => {
    const key = KeyPair.generate();
    const attempt = (o: object) => {
      try {
        new DhtNode({ key, ...o } as ConstructorParameters<typeof DhtNode>[0]);
        return 'accepted';
      } catch (e) {
        return e instanceof DhtError ? e.code : 'other';
      }
    };
    expect(attempt({ prot: 1 })).toBe('INVALID_OPTIONS');
    expect(attempt({ port: 70000 })).toBe('INVALID_OPTIONS');
    expect(attempt({ bootstrap: [{ id: 'nope', host: 'h', port: 1 }] })).toBe('INVALID_OPTIONS');
    expect(attempt({ key: 'k' })).toBe('INVALID_OPTIONS');
    expect(attempt({ port: 0 })).toBe('accepted');
  });

  it('refuses to store a value too big for one datagram', async () => {
    const node = await startNode();
    const big = Value.createImmutable(new Uint8Array(1200));
    await expect(node.storeValue(big)).rejects.toMatchObject({ code: 'MESSAGE_TOO_BIG' });
    expect(await node.storeValue(Value.createImmutable(new Uint8Array(900)))).toBe(0);
  });

  it('answers FIND_NODE with want bit 4 only with a token', async () => {
    const node = await startNode();
    const peer = await rawPeer();
    const r = await peer.request(
      { id: node.id, port: node.address().port },
      { method: Method.FIND_NODE, target: node.id, want: Want.TOKEN },
    );
    expect(
      r.kind === 'response' && r.response.method === Method.FIND_NODE && r.response.token,
    ).toBeTypeOf('number');
  });
});
