import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { signChallenge } from '../../shared/records/challenge.ts';
import { RegistryClient } from '../../agent/registry-client.ts';
import {
  dig,
  short,
  startZoneNetwork,
  TEST_ZONE as ZONE,
  toolsSupported,
  until,
  type ZoneNetwork,
} from '../helpers/zone-network.ts';

const support = toolsSupported(['dig', 'kdig']);

async function publish(url: string, owner: KeyPair, name: string, values: string[], seq: number) {
  const now = Date.now();
  const challenge = await signChallenge(
    { zone: ZONE, name, values, seq, iat: now, exp: now + 10 * 60_000 },
    owner,
  );
  const res = await fetch(`${url}/api/v1/zone/challenges/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ challenge }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// Two super node processes for ela.test, asked with dig and kdig.
describe.skipIf(!support.ok)(
  'the zone on real super node processes, asked with dig and kdig',
  () => {
    let net: ZoneNetwork;
    const alice = KeyPair.generate();
    beforeAll(async () => {
      net = await startZoneNetwork({ ttl: 30, extra: () => ['--caa', '0 issue "pebble.test"'] });
      // each super node lists the other once the first heartbeats crossed
      const both = (list: string[]) => list?.join() === '192.0.2.1,192.0.2.2';
      expect(await until(() => short(net.nodes[1].dnsPort, ZONE, 'A'), both)).toEqual([
        '192.0.2.1',
        '192.0.2.2',
      ]);
      expect(await until(() => short(net.nodes[0].dnsPort, ZONE, 'A'), both)).toEqual([
        '192.0.2.1',
        '192.0.2.2',
      ]);
      const claimed = await new RegistryClient({ url: net.nodes[0].url, key: alice }).claim(
        'alice',
      );
      expect(claimed.name).toBe('alice');
    }, 120_000);
    afterAll(() => net?.close());

    it('SOA and NS name the super nodes, with glue; the answer is authoritative, without recursion', async () => {
      const port = net.nodes[0].dnsPort;
      const soa = await dig(port, [ZONE, 'SOA', '+norec']);
      expect(soa).toMatch(/status: NOERROR/);
      expect(soa).toMatch(/flags: qr aa;/);
      expect(soa).toMatch(
        new RegExp(`SOA\\s+ns1\\.${ZONE}\\. hostmaster\\.${ZONE}\\. \\d+ 3600 600 604800 30`),
      );
      const ns = await dig(port, [ZONE, 'NS']);
      expect(ns).toMatch(/flags: qr aa rd;/); // RD echoed, RA never set
      expect(ns).toMatch(new RegExp(`IN\\s+NS\\s+ns1\\.${ZONE}\\.`));
      expect(ns).toMatch(new RegExp(`IN\\s+NS\\s+ns2\\.${ZONE}\\.`));
      expect(ns).toMatch(new RegExp(`ns2\\.${ZONE}\\.\\s+30\\s+IN\\s+A\\s+127\\.0\\.0\\.1`));
    });

    it('the apex and any name below it point at the live gateways (A and AAAA), the same on both super nodes', async () => {
      for (const n of net.nodes) {
        expect(await short(n.dnsPort, ZONE, 'A')).toEqual(['192.0.2.1', '192.0.2.2']);
        expect(await short(n.dnsPort, ZONE, 'AAAA')).toEqual(['2001:db8::1', '2001:db8::2']);
        expect(await short(n.dnsPort, `alice.${ZONE}`, 'A')).toEqual(['192.0.2.1', '192.0.2.2']);
        expect(await short(n.dnsPort, `deep.er.name.${ZONE}`, 'AAAA')).toEqual([
          '2001:db8::1',
          '2001:db8::2',
        ]);
      }
      // the case a name was asked in comes back (resolvers that randomize it check)
      expect(await dig(net.nodes[1].dnsPort, [`BoB.${ZONE}`, 'A'])).toMatch(
        new RegExp(`\nBoB\\.${ZONE}\\.\\s+30\\s+IN\\s+A\\s+192\\.0\\.2\\.1`),
      );
      expect(await dig(net.nodes[1].dnsPort, [`carol.${ZONE}`, 'AAAA'], 'kdig')).toMatch(
        new RegExp(`carol\\.${ZONE}\\.\\s+30\\s+IN\\s+AAAA\\s+2001:db8::1`),
      );
    });

    it('CAA at the apex; REFUSED outside the zone, without AA', async () => {
      expect(await short(net.nodes[0].dnsPort, ZONE, 'CAA')).toEqual(['0 issue "pebble.test"']);
      const out = await dig(net.nodes[0].dnsPort, ['example.com', 'A']);
      expect(out).toMatch(/status: REFUSED/);
      expect(out).not.toMatch(/flags: qr aa/);
      expect(await dig(net.nodes[0].dnsPort, ['version.bind', 'TXT', 'CH'], 'kdig')).toMatch(
        /status: REFUSED/,
      );
    });

    it("TXT at _acme-challenge.<name>: published by the name's owner, refused for anyone else, served by every super node", async () => {
      const published = await publish(net.nodes[0].url, alice, 'alice', ['owner-value-1'], 1);
      expect(published.status).toBe(200);
      expect(published.body.servedBy).toEqual([
        net.nodes[0].key.key.id.toString(),
        net.nodes[1].key.key.id.toString(),
      ]);
      for (const n of net.nodes)
        expect(await short(n.dnsPort, `_acme-challenge.alice.${ZONE}`, 'TXT')).toEqual([
          '"owner-value-1"',
        ]);
      const mallory = await publish(net.nodes[1].url, KeyPair.generate(), 'alice', ['evil'], 2);
      expect(mallory).toMatchObject({ status: 403, body: { error: { code: 'NOT_OWNER' } } });
      expect((await publish(net.nodes[1].url, alice, 'alice', ['replayed'], 1)).body).toMatchObject(
        { error: { code: 'REPLAYED' } },
      );
      expect((await publish(net.nodes[1].url, alice, 'nobody', ['v'], 3)).status).toBe(404);
      expect(await short(net.nodes[1].dnsPort, `_acme-challenge.alice.${ZONE}`, 'TXT')).toEqual([
        '"owner-value-1"',
      ]);
    });

    it('EDNS0: OPT with a 1232-byte size and a cookie in the answer; BADVERS for EDNS version 1', async () => {
      const out = await dig(net.nodes[0].dnsPort, [ZONE, 'SOA', '+edns=0', '+cookie']);
      expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
      expect(out).toMatch(/COOKIE: [0-9a-f]{48} \(good\)/);
      expect(await dig(net.nodes[0].dnsPort, [ZONE, 'SOA', '+edns=1', '+noednsneg'])).toMatch(
        /status: BADVERS/,
      );
      expect(await dig(net.nodes[1].dnsPort, [ZONE, 'SOA', '+edns=0'], 'kdig')).toMatch(
        /EDNS PSEUDOSECTION:\s*;; Version: 0; flags: ; UDP size: 1232 B/,
      );
    });

    it('an answer too large for UDP comes truncated, and dig and kdig get it whole over TCP', async () => {
      const values = ['a', 'b', 'c', 'd'].map((c) => c.repeat(200));
      expect((await publish(net.nodes[0].url, alice, 'alice', values, 10)).status).toBe(200);
      const name = `_acme-challenge.alice.${ZONE}`;
      const udpOnly = await dig(net.nodes[1].dnsPort, [name, 'TXT', '+ignore', '+noedns']);
      expect(udpOnly).toMatch(/flags: qr aa tc rd;/);
      expect(udpOnly).toMatch(/ANSWER: 0/);
      const retried = await dig(net.nodes[1].dnsPort, [name, 'TXT', '+noedns']);
      expect(retried).toMatch(/Truncated, retrying in TCP mode/);
      expect(retried).toMatch(/ANSWER: 4/);
      expect(await dig(net.nodes[1].dnsPort, [name, 'TXT', '+tcp'], 'kdig')).toMatch(/ANSWER: 4/);
    });
  },
);

describe.runIf(!support.ok)('zone DNS tests unavailable', () => {
  it('says why they were skipped', () => {
    expect(support.why).toBeTruthy();
  });
});
