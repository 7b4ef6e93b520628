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

/** Emits `request` (RequestRecord) for each finished request. */
export class RequestLog extends EventEmitter {
  readonly #records: RequestRecord[] = [];
  readonly #limit: number;
  #nextId = 1;

  constructor(limit = 200) {
    super();
    this.#limit = limit;
  }

  nextId(): number {
    return this.#nextId++;
  }

  add(record: RequestRecord): void {
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
