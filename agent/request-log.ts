/** The last requests through a node's entry, for the owner's inspector: a bounded ring, plus events. */
import { EventEmitter } from 'node:events';

export interface RequestRecord {
  /** Increasing per agent, so a viewer can tell new from seen. */
  id: number;
  /** When the request arrived, ms since the epoch. */
  time: number;
  method: string;
  path: string;
  /** The visitor's host (X-Forwarded-Host), else the Host that arrived. */
  host: string;
  /** 0 when no response was sent (the visitor went away first). */
  status: number;
  durationMs: number;
  /** Request and response body bytes. */
  bytesIn: number;
  bytesOut: number;
  /** Which way it came: `relay <super node>` or `direct`. */
  via: string;
  /** The visitor's address as the edge saw it (first X-Forwarded-For), if known. */
  client?: string;
  userAgent?: string;
  /** What went wrong, if something did (the app did not answer, the visitor went away). */
  error?: string;
}

/** Every request since start, by status class ('0xx': no response sent), and body bytes each way. */
export interface RequestTotals {
  byClass: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Emits `request` (RequestRecord) for each finished request. The totals count every request since
 * start, whatever the ring kept or Clear dropped: the node's metrics read them, so the inspector and
 * the metrics count one set of requests once.
 */
export class RequestLog extends EventEmitter {
  readonly #records: RequestRecord[] = [];
  readonly #limit: number;
  #nextId = 1;
  readonly totals: RequestTotals = { byClass: {}, bytesIn: 0, bytesOut: 0 };

  constructor(limit = 200) {
    super();
    this.#limit = limit;
  }

  nextId(): number {
    return this.#nextId++;
  }

  add(record: RequestRecord): void {
    const statusClass = `${Math.floor(record.status / 100)}xx`;
    this.totals.byClass[statusClass] = (this.totals.byClass[statusClass] ?? 0) + 1;
    this.totals.bytesIn += record.bytesIn;
    this.totals.bytesOut += record.bytesOut;
    this.#records.push(record);
    if (this.#records.length > this.#limit) this.#records.shift();
    this.emit('request', record);
  }

  /** Oldest first. */
  list(): RequestRecord[] {
    return [...this.#records];
  }

  clear(): void {
    this.#records.length = 0;
  }
}
