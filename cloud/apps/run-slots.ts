/**
 * At most N runs at once per wallet and per node; a run that cannot start waits in a bounded queue
 * (per wallet and per node), and one that cannot even wait is refused at once (429).
 */
import { CloudError } from '../errors.ts';

export interface SlotLimits {
  perWallet: number;
  perNode: number;
  queuedPerWallet: number;
  queuedPerNode: number;
}

export interface Ticket {
  /** Runs waiting ahead of this one when it was queued (0: it starts at once). */
  position: number;
  /** Resolves with the release function once the run may start. */
  ready: Promise<() => void>;
  /** Leaves the queue (the client went away before the run started). */
  cancel(): void;
}

interface Waiter {
  wallet: string;
  grant: (release: () => void) => void;
}

export class RunSlots {
  private readonly running = new Map<string, number>();
  private total = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly limits: SlotLimits) {}

  stats(): { running: number; queued: number } {
    return { running: this.total, queued: this.queue.length };
  }

  reserve(wallet: string): Ticket {
    if (this.canRun(wallet) && !this.queue.some((w) => w.wallet === wallet)) {
      return { position: 0, ready: Promise.resolve(this.take(wallet)), cancel: () => {} };
    }
    const mine = this.queue.filter((w) => w.wallet === wallet).length;
    if (this.queue.length >= this.limits.queuedPerNode || mine >= this.limits.queuedPerWallet) {
      throw new CloudError(
        'RATE_LIMITED',
        `too many runs: at most ${this.limits.perWallet} per wallet and ${this.limits.perNode} on this node at once, and a few waiting; try again soon`,
      );
    }
    let waiter!: Waiter;
    const ready = new Promise<() => void>((resolve) => {
      waiter = { wallet, grant: resolve };
    });
    const position = this.queue.length + 1;
    this.queue.push(waiter);
    return {
      position,
      ready,
      cancel: () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      },
    };
  }

  private canRun(wallet: string): boolean {
    return (
      this.total < this.limits.perNode && (this.running.get(wallet) ?? 0) < this.limits.perWallet
    );
  }

  private take(wallet: string): () => void {
    this.total++;
    this.running.set(wallet, (this.running.get(wallet) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.running.get(wallet) ?? 1) - 1;
      if (n === 0) this.running.delete(wallet);
      else this.running.set(wallet, n);
      this.next();
    };
  }

  /** Starts the first waiting runs that fit, in queue order. */
  private next(): void {
    for (let i = 0; i < this.queue.length && this.total < this.limits.perNode; ) {
      const w = this.queue[i];
      if (this.canRun(w.wallet)) {
        this.queue.splice(i, 1);
        w.grant(this.take(w.wallet));
      } else i++;
    }
  }
}
