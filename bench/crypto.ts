/**
 * `npm run bench:crypto`: XSalsa20-Poly1305 seal+open throughput of the candidate implementations
 * (tweetnacl, @noble/ciphers, libsodium via sodium-native) at Active Proxy DATA frame sizes, after
 * checking they produce identical bytes. Also runs under Deno: `deno run -A bench/crypto.ts`.
 */
import { createRequire } from 'node:module';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import nacl from 'tweetnacl';

const require = createRequire(import.meta.url);
const sodium = require('sodium-native') as {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
};

const key = crypto.getRandomValues(new Uint8Array(32));
const nonce = crypto.getRandomValues(new Uint8Array(24));

type Impl = { seal(m: Uint8Array): Uint8Array; open(c: Uint8Array): Uint8Array | null };
const impls: Record<string, Impl> = {
  tweetnacl: {
    seal: (m) => nacl.secretbox(m, nonce, key),
    open: (c) => nacl.secretbox.open(c, nonce, key),
  },
  '@noble/ciphers': {
    seal: (m) => xsalsa20poly1305(key, nonce).encrypt(m),
    open: (c) => {
      try {
        return xsalsa20poly1305(key, nonce).decrypt(c);
      } catch {
        return null;
      }
    },
  },
  'sodium-native': {
    seal: (m) => {
      const c = new Uint8Array(m.length + 16);
      sodium.crypto_secretbox_easy(c, m, nonce, key);
      return c;
    },
    open: (c) => {
      const m = new Uint8Array(c.length - 16);
      return sodium.crypto_secretbox_open_easy(m, c, nonce, key) ? m : null;
    },
  },
};

const runtime =
  typeof (globalThis as { Deno?: unknown }).Deno === 'object' ? 'deno' : `node ${process.version}`;
console.log(`secretbox seal+open, MiB/s of plaintext (${runtime})`);
for (const size of [1024, 16 * 1024, 32724]) {
  const plain = crypto.getRandomValues(new Uint8Array(size));
  const reference = impls.tweetnacl.seal(plain);
  for (const [name, impl] of Object.entries(impls)) {
    const sealed = impl.seal(plain);
    if (sealed.length !== reference.length || !sealed.every((b, i) => b === reference[i]))
      throw new Error(`${name} differs from tweetnacl`);
    if (!impl.open(sealed)) throw new Error(`${name} cannot open its own box`);
  }
  const line: string[] = [];
  for (const [name, impl] of Object.entries(impls)) {
    const iterations = Math.ceil((64 * 1024 * 1024) / size);
    for (let i = 0; i < 50; i++) impl.open(impl.seal(plain));
    const start = performance.now();
    for (let i = 0; i < iterations; i++) impl.open(impl.seal(plain));
    const seconds = (performance.now() - start) / 1000;
    line.push(`${name} ${((iterations * size) / 1048576 / seconds).toFixed(0)}`);
  }
  console.log(`${String(size).padStart(6)} B: ${line.join(' | ')}`);
}

// Key agreement (once per peer / session): tweetnacl's box.before against X25519 from @noble/curves
// followed by NaCl's HSalsa20, checked byte-identical.
const { x25519 } = await import('@noble/curves/ed25519.js');
const hsalsa20 = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20(o: Uint8Array, i: Uint8Array, k: Uint8Array, c: Uint8Array): number;
    };
  }
).lowlevel.crypto_core_hsalsa20;
const SIGMA = new TextEncoder().encode('expand 32-byte k');
const nobleBefore = (pk: Uint8Array, sk: Uint8Array) => {
  const out = new Uint8Array(32);
  hsalsa20(out, new Uint8Array(16), x25519.getSharedSecret(sk, pk), SIGMA);
  return out;
};
const a = x25519.keygen();
const b = x25519.keygen();
if (
  !nacl.box
    .before(b.publicKey, a.secretKey)
    .every((x, i) => x === nobleBefore(b.publicKey, a.secretKey)[i])
)
  throw new Error('key agreement differs');
const agreements = [
  ['tweetnacl box.before', () => nacl.box.before(b.publicKey, a.secretKey)],
  ['@noble/curves x25519 + HSalsa20', () => nobleBefore(b.publicKey, a.secretKey)],
] as const;
const best = new Map<string, number>();
for (let round = 0; round < 5; round++) {
  for (const [name, fn] of agreements) {
    for (let i = 0; i < 20; i++) fn();
    const start = performance.now();
    for (let i = 0; i < 100; i++) fn();
    const ms = (performance.now() - start) / 100;
    best.set(name, Math.min(best.get(name) ?? Infinity, ms));
  }
}
for (const [name, ms] of best)
  console.log(`${name}: ${ms.toFixed(2)} ms per shared key (best of 5 rounds)`);
