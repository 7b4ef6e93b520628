/**
 * This super node's heartbeat: every third of the TTL it signs what it serves (its name server and
 * the gateways in front of it that answer), stores it and pushes it to every peer. A
 * super node that stops (crash, kill -9, partition) stops refreshing it, and every other super node
 * drops it from its answers once its last heartbeat is a TTL old.
 */
import { connect } from 'node:net';
import type { ResolvedZoneOptions } from './options.ts';
import {
  type Heartbeat,
  heartbeatKey,
  signHeartbeat,
  verifyItem,
  type ZoneRecord,
} from './records.ts';

const CHECK_TIMEOUT_MS = 2_000;

export class HeartbeatLoop {
  readonly #o: ResolvedZoneOptions;
  readonly #commit: (record: ZoneRecord) => Promise<unknown>;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #last: Heartbeat | null = null;
  #stopped = false;
  /** The port DNS answers on, once known (it may have been 0 = any). */
  dnsPort = 53;

  /** @param commit stores a record of this super node and pushes it to the peers */
  constructor(options: ResolvedZoneOptions, commit: (record: ZoneRecord) => Promise<unknown>) {
    this.#o = options;
    this.#commit = commit;
  }

  /** Sends the first heartbeat, then one every interval. */
  async start(): Promise<void> {
    await this.beat();
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.#running = this.beat()
          .catch((e: Error) => this.#o.logger.warn('zone: heartbeat failed', { error: e.message }))
          .finally(() => {
            this.#running = null;
            if (!this.#stopped) tick();
          });
      }, this.#o.heartbeatIntervalMs);
      this.#timer.unref?.();
    };
    tick();
  }

  async beat(): Promise<void> {
    const now = this.#o.clock.now();
    const gateways = await this.#liveGateways();
    const ns = this.#o.dns
      ? { host: this.#o.nsHost, addresses: this.#o.nsAddresses, port: this.dnsPort }
      : null;
    const last = this.#last;
    const same =
      last !== null && JSON.stringify([last.ns, last.gateways]) === JSON.stringify([ns, gateways]);
    const heartbeat: Omit<Heartbeat, 'v'> = {
      zone: this.#o.zone,
      seq: Math.max(now, (last?.seq ?? 0) + 1),
      iat: now,
      ns,
      gateways,
      changedAt: same ? last.changedAt : now,
      acme: this.#o.acme,
    };
    const jws = await signHeartbeat(heartbeat, this.#o.key);
    const checked = await verifyItem({ jws }, { zone: this.#o.zone, trusted: this.#o.trusted });
    if (!checked.ok) throw new Error(`own heartbeat does not verify: ${checked.reason}`);
    await this.#commit(checked.record);
    this.#last = { v: 1, ...heartbeat };
  }

  async #liveGateways(): Promise<string[]> {
    const port = this.#o.gatewayCheckPort;
    if (port === null) return this.#o.gatewayAddresses;
    const ok = await Promise.all(
      this.#o.gatewayAddresses.map((address) => reachable(address, port)),
    );
    return this.#o.gatewayAddresses.filter((_, i) => ok[i]);
  }

  get key(): string {
    return heartbeatKey(this.#o.key.id);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CHECK_TIMEOUT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
