import { describe, expect, it } from 'vitest';
import { answerQuestion } from '../../origin/zone/answer.ts';
import { sampleView, ZONE } from './helpers.ts';

const data = (a: { answers: unknown[] }) => a.answers.map((r) => (r as { data: unknown }).data);

describe('the zone answers', () => {
  it('the apex: SOA, NS with glue, A, AAAA, CAA, all authoritative', async () => {
    const { view } = await sampleView();
    const soa = answerQuestion(view, ZONE, ZONE, 'SOA', 'IN');
    expect(soa).toMatchObject({ rcode: 'NOERROR', authoritative: true });
    expect(soa.answers[0]).toMatchObject({
      type: 'SOA',
      data: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, minimum: 30 },
    });
    const ns = answerQuestion(view, ZONE, ZONE, 'NS', 'IN');
    expect(data(ns)).toEqual([`ns1.${ZONE}`]);
    expect(ns.additionals).toMatchObject([{ name: `ns1.${ZONE}`, type: 'A', data: '192.0.2.53' }]);
    expect(data(answerQuestion(view, ZONE, ZONE, 'A', 'IN'))).toEqual(['192.0.2.1']);
    expect(data(answerQuestion(view, ZONE, ZONE, 'AAAA', 'IN'))).toEqual(['2001:db8::1']);
    expect(data(answerQuestion(view, ZONE, ZONE, 'CAA', 'IN'))).toEqual([
      { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
    ]);
  });

  it('every other name through the wildcard, echoing the case it was asked in', async () => {
    const { view } = await sampleView();
    const a = answerQuestion(view, `AlIcE.${ZONE}`, `alice.${ZONE}`, 'A', 'IN');
    expect(a.answers).toMatchObject([
      { name: `AlIcE.${ZONE}`, type: 'A', data: '192.0.2.1', ttl: 30 },
    ]);
    expect(data(answerQuestion(view, `a.b.c.${ZONE}`, `a.b.c.${ZONE}`, 'AAAA', 'IN'))).toEqual([
      '2001:db8::1',
    ]);
  });

  it('NODATA with the SOA for a type a name does not have, and no NXDOMAIN anywhere', async () => {
    const { view } = await sampleView();
    const mx = answerQuestion(view, `alice.${ZONE}`, `alice.${ZONE}`, 'MX', 'IN');
    expect(mx).toMatchObject({ rcode: 'NOERROR', authoritative: true, answers: [] });
    expect(mx.authorities).toMatchObject([{ name: ZONE, type: 'SOA' }]);
  });

  it('challenge TXT at _acme-challenge names, and the wildcard still answers A under them', async () => {
    const { view } = await sampleView();
    view.txt.set(`_acme-challenge.alice.${ZONE}`, ['owner-value']);
    expect(
      data(answerQuestion(view, `_acme-challenge.${ZONE}`, `_acme-challenge.${ZONE}`, 'TXT', 'IN')),
    ).toEqual([['value-one']]);
    expect(
      data(
        answerQuestion(
          view,
          `_acme-challenge.alice.${ZONE}`,
          `_acme-challenge.alice.${ZONE}`,
          'TXT',
          'IN',
        ),
      ),
    ).toEqual([['owner-value']]);
    expect(
      answerQuestion(
        view,
        `_acme-challenge.alice.${ZONE}`,
        `_acme-challenge.alice.${ZONE}`,
        'A',
        'IN',
      ).answers,
    ).toEqual([]);
    // alice is an empty non-terminal now; RFC 4592 would stop the wildcard, the zone does not.
    expect(data(answerQuestion(view, `alice.${ZONE}`, `alice.${ZONE}`, 'A', 'IN'))).toEqual([
      '192.0.2.1',
    ]);
    // no value published under bob: TXT is NODATA
    expect(
      answerQuestion(
        view,
        `_acme-challenge.bob.${ZONE}`,
        `_acme-challenge.bob.${ZONE}`,
        'TXT',
        'IN',
      ).answers,
    ).toEqual([]);
  });

  it("a name server's own name answers with its addresses, not the gateways", async () => {
    const { view } = await sampleView();
    expect(data(answerQuestion(view, `ns1.${ZONE}`, `ns1.${ZONE}`, 'A', 'IN'))).toEqual([
      '192.0.2.53',
    ]);
  });

  it('REFUSED outside the zone, for another class and for zone transfers; ANY gets RFC 8482 HINFO', async () => {
    const { view } = await sampleView();
    for (const [name, type, klass] of [
      ['example.com', 'A', 'IN'],
      [`x${ZONE}`, 'A', 'IN'],
      [ZONE, 'TXT', 'CH'],
      [ZONE, 'AXFR', 'IN'],
      [ZONE, 'IXFR', 'IN'],
    ]) {
      expect(answerQuestion(view, name, name, type, klass)).toMatchObject({
        rcode: 'REFUSED',
        authoritative: false,
        answers: [],
      });
    }
    expect(answerQuestion(view, ZONE, ZONE, 'ANY', 'IN').answers).toMatchObject([
      { type: 'HINFO', data: { cpu: 'RFC8482', os: '' } },
    ]);
  });
});
