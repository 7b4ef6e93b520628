/**
 * `npm run fuzz:dns`: the long form of the fuzz smoke in tests/e2e/zone-failover.test.ts. One
 * `pc2 supernode --dns` process; rounds of hostile packets over UDP and hostile frames over TCP, each
 * round with its own seed; after every round the server must still answer SOA over UDP and TCP, and
 * its memory (RSS) must not keep growing. Options: --rounds N (default 20), --packets N per round
 * (default 20000), --connections N per round (default 300), --seed S (first seed, default 1).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { queryTcp, queryUdp } from '../../origin/zone/dns-client.ts';
import { fuzzTcp, fuzzUdp } from '../helpers/dns-fuzz.ts';
import { startZoneNetwork, TEST_ZONE as ZONE } from '../helpers/zone-network.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    packets: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
  },
});
const rss = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const net = await startZoneNetwork({ count: 1 });
const [sn] = net.nodes;
// the node process under tsx is the child of the process group leader
const pid = Number(
  readFileSync(`/proc/${sn.proc.child.pid}/task/${sn.proc.child.pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)[0] || sn.proc.child.pid,
);
let failed = false;
try {
  const rssAtStart = rss(pid);
  for (let round = 0; round < Number(values.rounds); round++) {
    const seed = Number(values.seed) + round;
    await fuzzUdp(sn.dnsPort, ZONE, Number(values.packets), seed);
    await fuzzTcp(sn.dnsPort, ZONE, Number(values.connections), seed);
    const [udp, tcp] = await Promise.all([
      queryUdp('127.0.0.1', sn.dnsPort, ZONE, 'SOA', 3000),
      queryTcp('127.0.0.1', sn.dnsPort, ZONE, 'SOA', 3000),
    ]);
    const status = (await (await fetch(`${sn.url}/api/v1/zone`)).json()) as {
      dns: Record<string, number>;
    };
    console.log(
      `round ${round + 1} (seed ${seed}): SOA over UDP ${udp.records.length}, over TCP ${tcp.records.length}; queries ${status.dns.queries}, malformed ${status.dns.malformed}, tcp connections ${status.dns.tcpConnections}; RSS ${rss(pid).toFixed(0)} MiB (${rssAtStart.toFixed(0)} at start)`,
    );
    if (udp.records.length !== 1 || tcp.records.length !== 1)
      throw new Error(`no SOA after round ${round + 1}`);
  }
} catch (e) {
  failed = true;
  console.error(`fuzz: ${(e as Error).message}\n${sn.proc.output().slice(-3000)}`);
} finally {
  await net.close();
}
process.exit(failed ? 1 : 0);
