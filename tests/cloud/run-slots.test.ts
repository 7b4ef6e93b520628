import { describe, expect, it } from 'vitest';
import { RunSlots } from '../../cloud/apps/run-slots.ts';

describe('WASM run slots', () => {
  it('limits runs per wallet and per node, queues in order, then refuses', async () => {
    const slots = new RunSlots({ perWallet: 1, perNode: 2, queuedPerWallet: 1, queuedPerNode: 2 });
    const a1 = slots.reserve('a');
    const b1 = slots.reserve('b');
    expect([a1.position, b1.position]).toEqual([0, 0]);
    const a2 = slots.reserve('a'); // a is at its own limit though the node has none left either
    expect(a2.position).toBe(1);
    expect(() => slots.reserve('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' })); // a's queue is full
    const c1 = slots.reserve('c');
    expect(c1.position).toBe(2);
    expect(() => slots.reserve('d')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' })); // the node's queue is full
    expect(slots.stats()).toEqual({ running: 2, queued: 2 });
    let started = '';
    void a2.ready.then(() => (started += 'a2 '));
    void c1.ready.then(() => (started += 'c1 '));
    (await b1.ready)(); // b's slot frees: a2 is first in the queue but a is still at its limit, so c1 starts
    await Promise.resolve();
    expect(started).toBe('c1 ');
    (await a1.ready)();
    await Promise.resolve();
    expect(started).toBe('c1 a2 ');
    expect(slots.stats()).toEqual({ running: 2, queued: 0 });
  });

  it('a cancelled waiter leaves the queue', () => {
    const slots = new RunSlots({ perWallet: 1, perNode: 1, queuedPerWallet: 1, queuedPerNode: 1 });
    slots.reserve('a');
    const waiting = slots.reserve('b');
    waiting.cancel();
    expect(slots.stats().queued).toBe(0);
    expect(slots.reserve('c').position).toBe(1);
  });
});
