/**
 * DATA frames split across socket reads, decrypted in their pieces (no copy), on both secretbox
 * backends: the same plaintext as whole frames, and the same refusals.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type SecretboxBackend,
  secretboxBackend,
  tweetnaclBackend,
  useSecretboxBackend,
} from '../../shared/crypto/secretbox.ts';
import {
  decodeSplitData,
  encodeDataFrames,
  encodeEmpty,
  FrameReader,
  MAX_DATA_BYTES,
  newSessionKeyPair,
  type SplitFrame,
  sessionContext,
} from '../../shared/tunnel/index.ts';

const a = newSessionKeyPair();
const b = newSessionKeyPair();
const native = secretboxBackend();
afterAll(() => useSecretboxBackend(native));

/** libsodium where the runner installed it (Node.js: tests/setup); tweetnacl on every runner. */
const backends: [string, SecretboxBackend][] =
  native.name === 'libsodium'
    ? [
        ['libsodium', native],
        ['tweetnacl', tweetnaclBackend],
      ]
    : [['tweetnacl', tweetnaclBackend]];

const same = (x: Uint8Array, y: Uint8Array) =>
  x.length === y.length && x.every((b, i) => b === y[i]);
const joined = (pieces: readonly Uint8Array[]) => Uint8Array.from(pieces.flatMap((p) => [...p]));

/** Feeds `bytes` to a reader in reads of `read` bytes; returns the payload and the frames that came split. */
function receive(bytes: Uint8Array, read: number, backendName: string) {
  const receiver = sessionContext(b, a.publicKey);
  const reader = new FrameReader();
  const out: number[] = [];
  let split = 0;
  for (let at = 0; at < bytes.length; at += read) {
    // A copy per read, as a socket hands out fresh buffers.
    const frames = reader.pushKeepingSplitData(bytes.slice(at, at + read));
    if (!frames.ok) throw frames.error;
    for (const frame of frames.value) {
      if (frame instanceof Uint8Array) {
        const whole = receiver.decryptInPlace(frame.subarray(3));
        if (!whole.ok) throw whole.error;
        out.push(...whole.value);
      } else {
        split++;
        const pieces = decodeSplitData(frame, receiver);
        if (!pieces.ok) throw new Error(`${backendName}: ${pieces.error.message}`);
        for (const piece of pieces.value) out.push(...piece);
      }
    }
  }
  return { payload: Uint8Array.from(out), split };
}

for (const [name, backend] of backends)
  describe(`split DATA frames on ${name}`, () => {
    it('read sizes that cut frames anywhere (header, nonce, MAC, ciphertext): byte-exact', () => {
      useSecretboxBackend(backend);
      const sender = sessionContext(a, b.publicKey);
      const data = new Uint8Array(5 * MAX_DATA_BYTES + 333).map(
        (_, i) => (i * 7 + (i >> 8)) & 0xff,
      );
      const wire = encodeDataFrames(sender, data, MAX_DATA_BYTES);
      let split = 0;
      for (const read of [65536, 65535, 40_000, 5000, 4097, 1000, 13]) {
        // A fresh sender for each pass: the receiver refuses a repeated nonce.
        const fresh = encodeDataFrames(sessionContext(a, b.publicKey), data, MAX_DATA_BYTES);
        const got = receive(fresh, read, name);
        expect(same(got.payload, data)).toBe(true);
        split += got.split;
      }
      expect(wire.length).toBeGreaterThan(0);
      expect(split).toBeGreaterThan(5);
    });

    it('a forged or replayed split frame is refused and nothing of it is written', () => {
      useSecretboxBackend(backend);
      const sender = sessionContext(a, b.publicKey);
      const receiver = sessionContext(b, a.publicKey);
      const frame = encodeDataFrames(
        sender,
        new Uint8Array(MAX_DATA_BYTES).fill(9),
        MAX_DATA_BYTES,
      );
      const split = (bytes: Uint8Array): SplitFrame => {
        const reader = new FrameReader();
        reader.pushKeepingSplitData(bytes.slice(0, 30_000));
        const r = reader.pushKeepingSplitData(bytes.slice(30_000));
        if (!r.ok || r.value[0] instanceof Uint8Array) throw new Error('expected a split frame');
        return r.value[0];
      };
      const forged = frame.slice();
      forged[50_000] ^= 1;
      const refused = split(forged);
      const before = joined(refused.pieces);
      const result = decodeSplitData(refused, receiver);
      expect(!result.ok && result.error.code).toBe('DECRYPT_FAILED');
      expect(same(joined(refused.pieces), before)).toBe(true);
      expect(decodeSplitData(split(frame), receiver).ok).toBe(true);
      const replayed = decodeSplitData(split(frame), receiver);
      expect(!replayed.ok && replayed.error.code).toBe('DUPLICATED_NONCE');
    });
  });

describe('frames the reader copies whole', () => {
  it('small frames and frames that are not DATA come whole; push() never returns pieces', () => {
    const ping = encodeEmpty('PING');
    const sender = sessionContext(a, b.publicKey);
    const big = encodeDataFrames(sender, new Uint8Array(20_000), MAX_DATA_BYTES);
    const stream = new Uint8Array([...ping, ...big]);
    const keeping = new FrameReader();
    const first = keeping.pushKeepingSplitData(stream.subarray(0, 2));
    const rest = keeping.pushKeepingSplitData(stream.slice(2, 10_000));
    const end = keeping.pushKeepingSplitData(stream.slice(10_000));
    expect(first.ok && first.value.length).toBe(0);
    expect(rest.ok && rest.value[0]).toBeInstanceOf(Uint8Array);
    expect(end.ok && end.value[0] instanceof Uint8Array).toBe(false);
    const copying = new FrameReader();
    copying.push(stream.slice(0, 10_000));
    const whole = copying.push(stream.slice(10_000));
    expect(whole.ok && whole.value[0]).toBeInstanceOf(Uint8Array);
    expect(whole.ok && whole.value[0].length).toBe(big.length);
  });

  it('a frame trickling in one byte at a time is gathered into one buffer', () => {
    const sender = sessionContext(a, b.publicKey);
    const receiver = sessionContext(b, a.publicKey);
    const big = encodeDataFrames(sender, new Uint8Array(6000).fill(5), MAX_DATA_BYTES);
    const reader = new FrameReader();
    const frames = [];
    for (const byte of big) {
      const r = reader.pushKeepingSplitData(Uint8Array.of(byte));
      if (r.ok) frames.push(...r.value);
    }
    expect(frames.length).toBe(1);
    expect(frames[0]).toBeInstanceOf(Uint8Array);
    const plain = receiver.decryptInPlace((frames[0] as Uint8Array).subarray(3));
    expect(plain.ok && plain.value.every((x) => x === 5)).toBe(true);
  });
});
