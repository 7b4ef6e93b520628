/** Packet, error and timeout counters of a DHT node, for metrics. */
import { methodName } from '../../shared/dht/index.ts';

export type DropReason =
  | 'tooShort'
  | 'oversized'
  | 'rateLimited'
  | 'banned'
  | 'invalidSender'
  | 'decryptFailed'
  | 'malformed'
  | 'unexpected'
  | 'idFlip';

export interface DhtCountersSnapshot {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: Record<DropReason, number>;
  /** Requests we answered, by method name. */
  requestsIn: Record<string, number>;
  /** Requests we sent, by method name. */
  requestsOut: Record<string, number>;
  /** Our requests that got no answer within the hard timeout, by method name. */
  timeouts: Record<string, number>;
  /** Protocol ERRORs received in answer to our requests, by method name. */
  errorsIn: Record<string, number>;
  /** Protocol ERRORs we sent, by method name. */
  errorsOut: Record<string, number>;
  sendFailures: number;
}

const DROP_REASONS: DropReason[] = [
  'tooShort',
  'oversized',
  'rateLimited',
  'banned',
  'invalidSender',
  'decryptFailed',
  'malformed',
  'unexpected',
  'idFlip',
];

export class DhtCounters {
  packetsIn = 0;
  packetsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  sendFailures = 0;
  readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    DropReason,
    number
  >;
  readonly requestsIn: Record<string, number> = {};
  readonly requestsOut: Record<string, number> = {};
  readonly timeouts: Record<string, number> = {};
  readonly errorsIn: Record<string, number> = {};
  readonly errorsOut: Record<string, number> = {};

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  count(table: Record<string, number>, method: number): void {
    const name = methodName(method);
    table[name] = (table[name] ?? 0) + 1;
  }

  snapshot(): DhtCountersSnapshot {
    return structuredClone({
      packetsIn: this.packetsIn,
      packetsOut: this.packetsOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      dropped: this.dropped,
      requestsIn: this.requestsIn,
      requestsOut: this.requestsOut,
      timeouts: this.timeouts,
      errorsIn: this.errorsIn,
      errorsOut: this.errorsOut,
      sendFailures: this.sendFailures,
    });
  }

  /** Sum of several snapshots (a node with an IPv4 and an IPv6 socket). */
  static sum(snapshots: DhtCountersSnapshot[]): DhtCountersSnapshot {
    const out = new DhtCounters().snapshot();
    const addTable = (into: Record<string, number>, from: Record<string, number>) => {
      for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
    };
    for (const s of snapshots) {
      out.packetsIn += s.packetsIn;
      out.packetsOut += s.packetsOut;
      out.bytesIn += s.bytesIn;
      out.bytesOut += s.bytesOut;
      out.sendFailures += s.sendFailures;
      addTable(out.dropped, s.dropped);
      addTable(out.requestsIn, s.requestsIn);
      addTable(out.requestsOut, s.requestsOut);
      addTable(out.timeouts, s.timeouts);
      addTable(out.errorsIn, s.errorsIn);
      addTable(out.errorsOut, s.errorsOut);
    }
    return out;
  }
}
