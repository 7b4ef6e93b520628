/**
 * A real NAT on this machine, built from network namespaces:
 *
 *   <p>-wan (198.18.0.1)  ── veth ──  <p>-rtr (198.18.0.2 | 10.77.0.1)  ── veth ──  <p>-lan (10.77.0.2)
 *   super nodes, gateway              nftables MASQUERADE, forward only lan->wan    node agent + upstream
 *
 * The lan host can open connections out (they leave masqueraded as 198.18.0.2); nothing from the wan
 * side can open a connection in, even with a route. Needs root, iproute2 and nftables.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export const WAN_IP = '198.18.0.1';
export const ROUTER_WAN_IP = '198.18.0.2';
export const LAN_IP = '10.77.0.2';

export function natLabSupported(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root' };
  for (const tool of ['ip', 'nft']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return { ok: false, why: `needs ${tool} (apt-get install iproute2 nftables)` };
    }
  }
  return { ok: true };
}

const sh = (args: string[], input?: string) =>
  execFileSync(args[0], args.slice(1), { input, stdio: ['pipe', 'ignore', 'pipe'] });

export class NatLab {
  readonly wan: string;
  readonly router: string;
  readonly lan: string;
  #children = new Set<ChildProcess>();

  constructor(readonly prefix = `pc2n${process.pid % 100000}`) {
    this.wan = `${prefix}-wan`;
    this.router = `${prefix}-rtr`;
    this.lan = `${prefix}-lan`;
  }

  create(): void {
    this.destroy();
    const p = this.prefix;
    const steps: string[][] = [
      ['ip', 'netns', 'add', this.wan],
      ['ip', 'netns', 'add', this.router],
      ['ip', 'netns', 'add', this.lan],
      [
        'ip',
        'link',
        'add',
        `${p}w0`,
        'netns',
        this.wan,
        'type',
        'veth',
        'peer',
        'name',
        `${p}w1`,
        'netns',
        this.router,
      ],
      [
        'ip',
        'link',
        'add',
        `${p}l0`,
        'netns',
        this.lan,
        'type',
        'veth',
        'peer',
        'name',
        `${p}l1`,
        'netns',
        this.router,
      ],
      ['ip', '-n', this.wan, 'addr', 'add', `${WAN_IP}/24`, 'dev', `${p}w0`],
      ['ip', '-n', this.router, 'addr', 'add', `${ROUTER_WAN_IP}/24`, 'dev', `${p}w1`],
      ['ip', '-n', this.router, 'addr', 'add', '10.77.0.1/24', 'dev', `${p}l1`],
      ['ip', '-n', this.lan, 'addr', 'add', `${LAN_IP}/24`, 'dev', `${p}l0`],
      ...[this.wan, this.router, this.lan].map((ns) => ['ip', '-n', ns, 'link', 'set', 'lo', 'up']),
      ['ip', '-n', this.wan, 'link', 'set', `${p}w0`, 'up'],
      ['ip', '-n', this.router, 'link', 'set', `${p}w1`, 'up'],
      ['ip', '-n', this.router, 'link', 'set', `${p}l1`, 'up'],
      ['ip', '-n', this.lan, 'link', 'set', `${p}l0`, 'up'],
      ['ip', '-n', this.lan, 'route', 'add', 'default', 'via', '10.77.0.1'],
      // A route to the lan from the wan side, so "unreachable" is the NAT's doing, not a missing route.
      ['ip', '-n', this.wan, 'route', 'add', '10.77.0.0/24', 'via', ROUTER_WAN_IP],
      ['ip', 'netns', 'exec', this.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
    ];
    for (const step of steps) sh(step);
    const ruleset = `table ip pc2nat {
  chain nat_post {
    type nat hook postrouting priority 100;
    oifname "${p}w1" masquerade
  }
  chain lan_forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "${p}l1" oifname "${p}w1" accept
  }
  chain wan_input {
    type filter hook input priority 0; policy accept;
    iifname "${p}w1" ct state new drop
  }
}
`;
    sh(['ip', 'netns', 'exec', this.router, 'nft', '-f', '-'], ruleset);
  }

  /** Starts a process inside a namespace; it is killed by destroy(). */
  spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
      stdio: 'pipe',
      ...options,
      detached: true,
    });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** Runs a command inside a namespace to completion. */
  exec(ns: string, command: string, args: string[], timeoutMs = 30_000): string {
    return execFileSync('ip', ['netns', 'exec', ns, command, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
    });
  }

  destroy(): void {
    for (const child of this.#children) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.#children.clear();
    for (const ns of [this.wan, this.router, this.lan]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* not there */
      }
    }
  }
}
