/**
 * How many DHT nodes there are, from where our closest contacts sit. Node ids are uniform in the
 * 256-bit space, so the i-th closest of N nodes lies near distance i / N (as a fraction of the space):
 * N is the least-squares slope of i against the normalised distances d_i, i.e. sum(i*d_i)/sum(d_i^2)
 * (the estimator of Kademlia size-estimation work used on Mainline DHT). With few contacts it is rough;
 * it is never less than the contacts themselves plus us.
 */
import type { Id } from '../../shared/id.ts';

/** The XOR distance between two ids as a fraction of the id space, from its top 52 bits. */
export function normalisedDistance(a: Id, b: Id): number {
  let value = 0;
  // 6.5 bytes of mantissa is all a double holds; the remaining bits cannot change the estimate.
  for (let i = 0; i < 7; i++) value = value * 256 + (a.bytes[i] ^ b.bytes[i]);
  return value / 256 ** 7;
}

/** Estimated number of DHT nodes given our id and our closest known contacts (any order). */
export function estimateDhtSize(self: Id, contacts: readonly Id[]): number {
  const distances = contacts
    .map((c) => normalisedDistance(self, c))
    .filter((d) => d > 0)
    .sort((x, y) => x - y);
  if (distances.length === 0) return 1;
  let sumID = 0;
  let sumDD = 0;
  distances.forEach((d, i) => {
    sumID += (i + 1) * d;
    sumDD += d * d;
  });
  return Math.max(distances.length + 1, Math.round(sumID / sumDD));
}
