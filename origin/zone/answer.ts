/**
 * The zone's answer to one question, from a {@link ZoneView}; no I/O. Every name under the zone
 * exists (the wildcard), so there is no NXDOMAIN: a name either has the asked type or gets NODATA
 * with the SOA for negative caching. Names of the zone's name servers answer with their own
 * addresses; `_acme-challenge` names with published values answer TXT; the apex answers SOA, NS,
 * A/AAAA and CAA; every other name is the wildcard (A/AAAA of the live gateways). Unlike RFC 4592, an
 * empty non-terminal (`alice` under a published `_acme-challenge.alice`) still gets the wildcard's
 * A/AAAA: a name must not go dark while its owner renews a certificate.
 */
import type { Answer } from 'dns-packet';
import type { ZoneView } from './view.ts';

export type Rcode = 'NOERROR' | 'REFUSED' | 'NOTIMP' | 'FORMERR';

export interface ZoneAnswer {
  rcode: Rcode;
  /** Authoritative (AA): set for every answer from inside the zone. */
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** RFC 8482: ANY gets one synthesized HINFO instead of everything at the name. */
const ANY_HINFO = { cpu: 'RFC8482', os: '' };
const SOA_TIMERS = { refresh: 3600, retry: 600, expire: 604800 };

const refused = (): ZoneAnswer => ({
  rcode: 'REFUSED',
  authoritative: false,
  answers: [],
  authorities: [],
  additionals: [],
});

/**
 * @param qname the name as asked (its case is echoed); `lower` its lower-case form without the trailing dot.
 */
export function answerQuestion(
  view: ZoneView,
  qname: string,
  lower: string,
  qtype: string,
  qclass: string,
): ZoneAnswer {
  const zone = view.zone;
  if (qclass !== 'IN' || !(lower === zone || lower.endsWith('.' + zone))) return refused();
  if (qtype === 'AXFR' || qtype === 'IXFR') return refused();
  if (qtype === 'ANY') return answer(view, [rr(view, qname, 'HINFO', ANY_HINFO)]);

  const hostAddresses = view.hostAddresses.get(lower);
  if (hostAddresses) return answer(view, addresses(view, qname, qtype, split(hostAddresses)));

  const txt = view.txt.get(lower);
  if (txt)
    return answer(view, qtype === 'TXT' ? txt.map((value) => rr(view, qname, 'TXT', [value])) : []);

  if (lower === zone) {
    switch (qtype) {
      case 'SOA':
        return answer(view, [soaRecord(view, qname)]);
      case 'NS':
        return answer(
          view,
          view.nameServers.filter(firstOfHost).map((ns) => rr(view, qname, 'NS', ns.host)),
          glue(view),
        );
      case 'CAA':
        return answer(
          view,
          view.caa.map((c) =>
            rr(view, qname, 'CAA', { flags: c.flags, tag: c.tag, value: c.value }),
          ),
        );
    }
  }
  return answer(view, addresses(view, qname, qtype, view.gateways));
}

function rr(view: ZoneView, name: string, type: string, data: unknown): Answer {
  return { name, type, ttl: view.ttl, class: 'IN', data } as Answer;
}

function addresses(
  view: ZoneView,
  qname: string,
  qtype: string,
  list: { a: string[]; aaaa: string[] },
): Answer[] {
  if (qtype === 'A') return list.a.map((data) => rr(view, qname, 'A', data));
  if (qtype === 'AAAA') return list.aaaa.map((data) => rr(view, qname, 'AAAA', data));
  return [];
}

function answer(view: ZoneView, answers: Answer[], additionals: Answer[] = []): ZoneAnswer {
  return answers.length === 0
    ? noData(view)
    : { rcode: 'NOERROR', authoritative: true, answers, authorities: [], additionals };
}

function split(list: string[]): { a: string[]; aaaa: string[] } {
  return { a: list.filter((x) => !x.includes(':')), aaaa: list.filter((x) => x.includes(':')) };
}

function firstOfHost(ns: { host: string }, i: number, all: { host: string }[]): boolean {
  return i === 0 || all[i - 1].host !== ns.host;
}

/** A/AAAA of the name servers that live inside the zone (glue). */
function glue(view: ZoneView): Answer[] {
  const out: Answer[] = [];
  for (const [host, list] of view.hostAddresses) {
    if (host !== view.zone && !host.endsWith('.' + view.zone)) continue;
    for (const data of list)
      out.push({
        name: host,
        ttl: view.ttl,
        class: 'IN',
        type: data.includes(':') ? 'AAAA' : 'A',
        data,
      });
  }
  return out;
}

export function soaRecord(view: ZoneView, name: string): Answer {
  return {
    name,
    type: 'SOA',
    ttl: view.ttl,
    class: 'IN',
    data: {
      mname: view.nameServers[0]?.host ?? view.zone,
      rname: view.hostmaster,
      serial: view.serial,
      ...SOA_TIMERS,
      minimum: view.ttl,
    },
  };
}

function noData(view: ZoneView): ZoneAnswer {
  return {
    rcode: 'NOERROR',
    authoritative: true,
    answers: [],
    authorities: [soaRecord(view, view.zone)],
    additionals: [],
  };
}
