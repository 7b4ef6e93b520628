/** The route cache's LRU: recency decides eviction (hits on the newest key included), entries expire. */
import { describe, expect, it } from 'vitest';
import { ExpiringLru } from '../../edge/lru.ts';

describe('ExpiringLru', () => {
  it('evicts the least recently used key, counting hits on any key as use', () => {
    let now = 0;
    const lru = new ExpiringLru<string, number>({ maxEntries: 2, now: () => now });
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('b')).toBe(2); // the newest: no move needed
    expect(lru.get('a')).toBe(1); // now a is the newest, b the oldest
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3, 100);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    lru.set('d', 4, 100); // a is the oldest now
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(2);
    now = 100;
    expect(lru.get('c')).toBeUndefined();
    expect(lru.get('d')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('forgets a deleted newest key and refuses entries already expired', () => {
    const lru = new ExpiringLru<string, number>({ maxEntries: 3, now: () => 50 });
    lru.set('a', 1, 100);
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
    lru.set('b', 2, 40);
    expect(lru.size).toBe(0);
    lru.set('a', 5, 100);
    expect(lru.get('a')).toBe(5);
  });
});
