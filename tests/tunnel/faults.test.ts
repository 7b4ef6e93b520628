import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoContext } from '../../shared/crypto/context.ts';
import { idToX25519, KeyPair } from '../../shared/keys.ts';
import {
  decodeChallenge,
  encodeAttach,
  encodeAuth,
  FrameReader,
  newSessionKeyPair,
  PROTOCOL_VERSION,
} from '../../shared/tunnel/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import {
  authenticated,
  echoServer,
  HOST,
  newClient,
  readAll,
  startServer,
  tcpServer,
  type TcpServer,
  waitFor,
} from './harness.ts';

let server: TunnelServer;
let upstream: TcpServer;

beforeAll(async () => {
  upstream = await echoServer();
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
  await upstream.close();
});

async function echoOnce(deviceId: KeyPair['id'], text = 'ping'): Promise<string> {
  const stream = await server.openStream(deviceId);
  stream.end(text);
  return (await readAll(stream)).toString();
}

/** Connects, reads the challenge, returns it with the socket. */
async function rawConnect(): Promise<{
  socket: Socket;
  challenge: Uint8Array;
  frames: FrameReader;
}> {
  const socket = connect(server.address().port, HOST);
  socket.on('error', () => {});
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  const frames = new FrameReader(2);
  const got = frames.push(chunk);
  if (!got.ok) throw got.error;
  const challenge = decodeChallenge(got.value[0]);
  if (!challenge.ok) throw challenge.error;
  return { socket, challenge: challenge.value, frames };
}

/** The tunnel client in a process of its own (tests/tunnel/client-process.ts), to kill or freeze. */
function spawnClient(
  to: TunnelServer,
  device: KeyPair,
  upstreamPort: number,
  pingIntervalMs?: number,
) {
  const args = [
    '--import',
    'tsx',
    'tests/tunnel/client-process.ts',
    String(to.address().port),
    to.options.key.id.toString(),
    device.bosonPrivateKeyBase58(),
    String(upstreamPort),
    ...(pingIntervalMs ? [String(pingIntervalMs)] : []),
  ];
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
}

function clientAuthenticated(child: ReturnType<typeof spawnClient>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('authenticated') && resolve());
    child.once('exit', (code) => reject(new Error(`client exited ${code}`)));
  });
}

describe('faults', () => {
  it('client killed mid-stream: the server cleans up the stream and the session', async () => {
    const device = KeyPair.generate();
    const child = spawnClient(server, device, upstream.port);
    try {
      await clientAuthenticated(child);
      const stream = await server.openStream(device.id);
      stream.write('first');
      const [echo] = (await once(stream, 'data')) as [Buffer];
      expect(echo.toString()).toBe('first');
      const closed = new Promise<Error | undefined>((resolve) => {
        stream.on('error', (e) => resolve(e));
        stream.on('close', () => resolve(undefined));
      });
      child.kill('SIGKILL');
      const error = await closed;
      expect(error?.message ?? 'closed').toMatch(/closed|lost/);
      await waitFor(() => !server.hasSession(device.id), 10_000, 'session dropped');
      await waitFor(
        () => server.stats().connections === 0 && server.stats().streams === 0,
        10_000,
        'no connections left',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a frozen node (SIGSTOP) is dropped within 3 ping intervals, even with a stream paused for its reader', async () => {
    const quick = await startServer({ pingIntervalMs: 300 });
    // The node's upstream sends far more than the server's reader will take.
    const flood = await tcpServer((socket) => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (socket.write(chunk));
        socket.once('drain', pump);
      };
      pump();
    });
    const device = KeyPair.generate();
    const child = spawnClient(quick, device, flood.port, 300);
    try {
      await clientAuthenticated(child);
      // A stream nobody reads: the server stops reading its connection (paused for the reader).
      const stream = await quick.openStream(device.id);
      stream.on('error', () => {});
      await waitFor(() => quick.stats().streams === 1, 5_000, 'the stream');
      await new Promise((r) => setTimeout(r, 500));
      const closed = once(quick, 'sessionClosed');
      child.kill('SIGSTOP');
      // 3 intervals of silence (900 ms) plus the sweep's granularity; far less than the stream's
      // 15-minute idle timeout, which is what used to end it.
      await waitFor(() => !quick.hasSession(device.id), 5_000, 'the frozen session dropped');
      const [, reason] = (await closed) as [unknown, string];
      expect(reason).toMatch(/3 ping intervals/);
      await waitFor(() => quick.stats().connections === 0, 5_000, 'no connections left');
    } finally {
      child.kill('SIGKILL');
      await quick.stop();
      await flood.close();
    }
  });

  it('5 reconnects in a row: each new session serves', async () => {
    const client = newClient(server, upstream.port);
    try {
      client.start();
      await authenticated(client);
      const device = client.options.deviceKey.id;
      for (let i = 0; i < 5; i++) {
        const next = once(server, 'session');
        expect(server.closeSession(device, 'test: network dropped')).toBe(true);
        await next;
        expect(await echoOnce(device, `round ${i}`)).toBe(`round ${i}`);
      }
    } finally {
      await client.stop();
    }
  });

  it('a half-open connection (traffic blackholed, socket open) is detected and replaced', async () => {
    // Short ping intervals (the server declares a connection dead after 3 x 400 ms of silence; the
    // client pings every 250 ms and gives up on a server silent for 750 ms).
    const quick = await startServer({ pingIntervalMs: 400 });
    // A TCP relay that can stop forwarding without closing anything.
    const stalled = new Set<Socket>();
    const relay = await tcpServer((inbound) => {
      const outbound = connect(quick.address().port, HOST);
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (d: Buffer) => !stalled.has(inbound) && to.write(d));
      forward(inbound, outbound);
      forward(outbound, inbound);
    });
    const client = newClient(quick, upstream.port, {
      pingIntervalMs: 250,
      pingJitterMs: 0,
      createSocket: (host) => connect(relay.port, host),
    });
    const echo = async (text: string) => {
      const stream = await quick.openStream(client.options.deviceKey.id);
      stream.end(text);
      return (await readAll(stream)).toString();
    };
    try {
      client.start();
      await authenticated(client);
      expect(await echo('ping')).toBe('ping');
      const reasons: string[] = [];
      client.on('reconnecting', (r: { reason: string }) => reasons.push(r.reason));
      const replaced = once(quick, 'session');
      for (const s of relay.sockets) stalled.add(s);
      await replaced;
      // Whichever side noticed the silence first dropped the connection.
      expect(quick.stats().deadConnections > 0 || reasons.some((r) => /silent/.test(r))).toBe(true);
      expect(await echo('after')).toBe('after');
    } finally {
      await client.stop();
      await relay.close();
      await quick.stop();
    }
  });

  it('a wrong key cannot take over a session', async () => {
    const victim = newClient(server, upstream.port);
    try {
      victim.start();
      await authenticated(victim);
      const victimId = victim.options.deviceKey.id;
      const attacker = KeyPair.generate();
      const attackerPeer = () =>
        CryptoContext.between(attacker.x25519SecretKey, idToX25519(server.options.key.id));
      const failuresBefore = server.stats().authFailures + server.stats().malformedFrames;

      // 1. AUTH naming the victim's device id, made with the attacker's key.
      const a = await rawConnect();
      const sessionKey = newSessionKeyPair().publicKey;
      a.socket.write(
        encodeAuth(attackerPeer(), {
          deviceId: victimId,
          version: PROTOCOL_VERSION,
          userId: attacker.id,
          sessionKey,
          nameAccess: 0,
          signature: attacker.sign(a.challenge),
        }),
      );
      await once(a.socket, 'close');

      // 2. ATTACH to the victim's session with the attacker's key.
      const b = await rawConnect();
      b.socket.write(
        encodeAttach(attackerPeer(), {
          deviceId: victimId,
          sessionKey,
          signature: attacker.sign(b.challenge),
        }),
      );
      await once(b.socket, 'close');

      // 3. A real AUTH of the victim's, replayed on another connection (other challenge).
      const c = await rawConnect();
      const d = await rawConnect();
      const victimPeer = CryptoContext.between(
        victim.options.deviceKey.x25519SecretKey,
        idToX25519(server.options.key.id),
      );
      d.socket.write(
        encodeAuth(victimPeer, {
          deviceId: victimId,
          version: PROTOCOL_VERSION,
          userId: victimId,
          sessionKey,
          nameAccess: 0,
          signature: victim.options.deviceKey.sign(c.challenge),
        }),
      );
      await once(d.socket, 'close');
      c.socket.destroy();

      expect(server.stats().authFailures + server.stats().malformedFrames).toBeGreaterThanOrEqual(
        failuresBefore + 3,
      );
      expect(victim.state).toBe('authenticated');
      expect(await echoOnce(victimId, 'still mine')).toBe('still mine');
    } finally {
      await victim.stop();
    }
  });

  it('a malformed frame closes only its own connection', async () => {
    const sockets: Socket[] = [];
    const client = newClient(server, upstream.port, {
      createSocket: (host, port) => {
        const s = connect(port, host);
        sockets.push(s);
        return s;
      },
    });
    try {
      client.start();
      await authenticated(client);
      const device = client.options.deviceKey.id;
      // Two streams at once make the pool grow past one connection.
      const held = await server.openStream(device);
      held.write('x');
      await waitFor(() => (server.sessions()[0]?.connections ?? 0) >= 2, 5000, 'pool growth');
      expect(await echoOnce(device, 'during')).toBe('during');
      await waitFor(
        () => client.stats().connections === sockets.length,
        5000,
        'every connection past its handshake',
      );
      const malformedBefore = server.stats().malformedFrames;
      const victimSocket = sockets[sockets.length - 1];
      victimSocket.write(Buffer.from([0, 5, 0x41, 1, 2])); // a DATA frame far too short to be a box
      await once(victimSocket, 'close');
      expect(server.stats().malformedFrames).toBe(malformedBefore + 1);
      expect(server.hasSession(device)).toBe(true);
      held.end('y');
      expect((await readAll(held)).toString()).toBe('xy');
      expect(await echoOnce(device, 'after')).toBe('after');
    } finally {
      await client.stop();
    }
  });
});
