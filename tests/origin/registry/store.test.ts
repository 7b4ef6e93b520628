import { crc32 } from 'node:zlib';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrame } from '../../../origin/registry/framing.ts';
import { AppendLog } from '../../../origin/registry/append-log.ts';
import { LOG_FILE, RegistryStore } from '../../../origin/registry/store.ts';
import { silentLogger } from '../../../origin/registry/options.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { signBinding } from '../../../shared/records/binding.ts';
import type { NameState } from '../../../origin/registry/state.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

afterAll(removeTempDirs);

const registrar = KeyPair.generate();
const owner = KeyPair.generate();

async function stateFor(name: string, boundAt = Date.now()): Promise<NameState> {
  const binding = await signBinding({ name, owner: owner.id.toString(), boundAt }, registrar);
  return {
    name,
    binding,
    origin: binding,
    transfers: [],
    route: null,
    released: null,
    offer: null,
    previous: null,
  };
}

describe('log framing', () => {
  it('reads whole frames; a torn last write is dropped without a report', () => {
    const a = encodeFrame(Buffer.from('first'));
    const b = encodeFrame(Buffer.from('second'));
    const whole = Buffer.concat([a, b]);
    expect(decodeFrames(whole)).toMatchObject({ validBytes: whole.length, damaged: [] });
    expect(decodeFrames(whole).payloads.map(String)).toEqual(['first', 'second']);
    for (let cut = 1; cut < b.length; cut++) {
      const torn = decodeFrames(whole.subarray(0, a.length + cut));
      expect(torn.payloads.map(String)).toEqual(['first']);
      expect(torn.validBytes).toBe(a.length);
      expect(torn.damaged).toEqual([]);
      expect(torn.tornBytes).toBe(cut);
    }
    // A zero-filled tail (a crash after the file grew, before its data landed) is torn too.
    const zeroed = decodeFrames(Buffer.concat([a, Buffer.alloc(40)]));
    expect(zeroed).toMatchObject({ validBytes: a.length, damaged: [], tornBytes: 40 });
  });

  it('skips a damaged frame anywhere and keeps every frame after it, reporting the range', () => {
    const frames = ['one', 'two', 'three', 'four'].map((t) => encodeFrame(Buffer.from(t)));
    const whole = Buffer.concat(frames);
    for (let at = 0; at < whole.length; at++) {
      const damaged = Buffer.from(whole);
      damaged[at] ^= 0x5a;
      const hit = frames.findIndex(
        (_, i) => at < frames.slice(0, i + 1).reduce((n, f) => n + f.length, 0),
      );
      const decoded = decodeFrames(damaged);
      const expected = ['one', 'two', 'three', 'four'].filter((_, i) => i !== hit);
      expect(decoded.payloads.map(String), `byte ${at}`).toEqual(expected);
      expect(decoded.damaged.length, `byte ${at}`).toBe(1);
      expect(decoded.damaged[0].bytes).toBe(frames[hit].length);
    }
  });
});

describe('append log', () => {
  it('gathers concurrent appends into fewer fdatasyncs, all durable and in order', async () => {
    const path = join(tempDir(), 'test.log');
    const { log } = AppendLog.open(path);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        log.append(Buffer.from(String(i)), () => order.push(i)),
      ),
    );
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(log.syncs).toBeGreaterThan(0);
    expect(log.syncs).toBeLessThan(200);
    await log.close();
    const reopened = AppendLog.open(path);
    expect(reopened.payloads.map(String)).toEqual(order.map(String));
    await reopened.log.close();
  });

  it('drops a torn last write at start and appends cleanly after it', async () => {
    const path = join(tempDir(), 'torn.log');
    const { log } = AppendLog.open(path);
    await log.append(Buffer.from('kept'));
    await log.close();
    appendFileSync(path, encodeFrame(Buffer.from('lost-in-the-crash')).subarray(0, 11));
    const opened = AppendLog.open(path);
    expect(opened.payloads.map(String)).toEqual(['kept']);
    expect(opened.droppedBytes).toBe(11);
    await opened.log.append(Buffer.from('after'));
    await opened.log.close();
    expect(AppendLog.open(path).payloads.map(String)).toEqual(['kept', 'after']);
  });
});

describe('registry store', () => {
  it('keeps states and request seqs across a restart', async () => {
    const dir = tempDir();
    const store = RegistryStore.open(dir, { compactMinBytes: 1 << 30, logger: silentLogger });
    await store.commit({
      states: [await stateFor('alice')],
      seqs: [[owner.id.toString(), 'alice', 7]],
    });
    await store.commit({ states: [await stateFor('bobby')] });
    await store.close();
    const again = RegistryStore.open(dir, { compactMinBytes: 1 << 30, logger: silentLogger });
    expect(again.get('alice')?.binding.owner).toBe(owner.id.toString());
    expect(again.get('bobby')?.version).toBe(2);
    expect(again.requestSeq(owner.id.toString(), 'alice')).toBe(7);
    expect(again.requestSeq(owner.id.toString(), 'bobby')).toBe(-1);
    expect(again.changesSince(1, 10).entries.map((e) => e.state.name)).toEqual(['bobby']);
    await again.close();
  });

  it('compaction keeps the file bounded while the live state is unchanged', async () => {
    const dir = tempDir();
    const store = RegistryStore.open(dir, { compactMinBytes: 64 * 1024, logger: silentLogger });
    const names = ['carol', 'david', 'erin1'];
    const states = await Promise.all(names.map((n) => stateFor(n)));
    for (let round = 0; round < 300; round++) {
      await store.commit({ states, seqs: [[owner.id.toString(), 'carol', round]] });
    }
    await store.close();
    // 300 rounds of ~2 KB would be ~600 KB without compaction.
    expect(statSync(join(dir, LOG_FILE)).size).toBeLessThan(200 * 1024);
    const again = RegistryStore.open(dir, { compactMinBytes: 64 * 1024, logger: silentLogger });
    expect(names.map((n) => again.get(n)?.state.name)).toEqual(names);
    expect(again.requestSeq(owner.id.toString(), 'carol')).toBe(299);
    await again.close();
  });

  it('reads a log in the earlier framing, and reports what follows its first bad frame', async () => {
    const dir = tempDir();
    const legacy = (payload: Buffer) => {
      const frame = Buffer.alloc(8 + payload.length);
      frame.writeUInt32BE(payload.length, 0);
      frame.writeUInt32BE(crc32(payload), 4);
      payload.copy(frame, 8);
      return frame;
    };
    const first = await stateFor('gina1');
    writeFileSync(
      join(dir, LOG_FILE),
      Buffer.concat([
        legacy(Buffer.from(JSON.stringify({ s: [{ v: 1, st: first }] }))),
        Buffer.from('junk'),
      ]),
    );
    const store = RegistryStore.open(dir, { compactMinBytes: 1 << 30, logger: silentLogger });
    expect(store.get('gina1')?.state).toEqual(first);
    expect(store.damage?.bytes).toBe(4);
    await store.close();
    const again = RegistryStore.open(dir, { compactMinBytes: 1 << 30, logger: silentLogger });
    expect(again.get('gina1')?.state).toEqual(first);
    expect(again.damage).toBeNull();
    await again.close();
  });

  it('ignores a log it cannot read past a corrupt frame rather than crash', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOG_FILE), Buffer.from('not a log at all, just bytes'));
    const store = RegistryStore.open(dir, { compactMinBytes: 1 << 30, logger: silentLogger });
    expect(store.size).toBe(0);
    expect(store.damage?.bytes).toBeGreaterThan(0);
    await store.commit({ states: [await stateFor('frank')] });
    await store.close();
    expect(readFileSync(join(dir, LOG_FILE)).length).toBeGreaterThan(0);
  });
});
