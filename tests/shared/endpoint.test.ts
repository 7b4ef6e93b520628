import { describe, expect, it } from 'vitest';
import {
  checkEndpoint,
  isPublicAddress,
  isPublicIpv6,
  parseIpv6,
  publicAddresses,
} from '../../shared/endpoint.ts';

const BLOCKED = [
  'http://127.0.0.1/',
  'http://127.1/',
  'http://2130706433/',
  'http://0x7f.0.0.1/',
  'http://0177.0.0.1/',
  'http://0.0.0.0/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://172.31.255.255/',
  'http://192.168.1.1/',
  'http://169.254.169.254/latest/meta-data',
  'http://100.64.0.1/',
  'http://100.127.255.254/',
  'http://224.0.0.1/',
  'http://239.1.1.1/',
  'http://255.255.255.255/',
  'http://240.0.0.1/',
  'http://192.0.2.10/',
  'http://198.51.100.1/',
  'http://203.0.113.9/',
  'http://198.18.0.1/',
  'http://192.0.0.8/',
  'http://[::1]/',
  'http://[::]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:10.0.0.1]/',
  'http://[64:ff9b::a00:1]/',
  'http://[fe80::1]/',
  'http://[fc00::1]/',
  'http://[fd12:3456::1]/',
  'http://[ff02::1]/',
  'http://[2001:db8::1]/',
  'http://[2002:7f00:1::1]/',
  'http://[2001::1]/',
  'http://[::127.0.0.1]/',
  'http://[fec0::1]/',
  'http://localhost/',
  'http://foo.localhost:8080/',
  'http://printer.local/',
  'http://db.internal/',
  'http://intranet/',
  'http://router.home.arpa/',
  'ftp://example.com/',
  'file:///etc/passwd',
  'gopher://example.com/',
  'http://user:pw@example.com/',
  'not a url',
  'http://1.2.3.4.5/',
];
const ALLOWED = [
  'https://alice.example.org',
  'http://8.8.8.8:8080/',
  'https://1.1.1.1/',
  'https://[2606:4700::1111]/',
  'https://[2a00:1450:4001::1]:8443/',
  'http://172.32.0.1/',
  'http://100.128.0.1/',
  'https://node-1.pc2.cloud/',
];

describe('SSRF guard for direct endpoints', () => {
  it('refuses every non-public spelling', () => {
    for (const url of BLOCKED) expect(checkEndpoint(url, false).ok, url).toBe(false);
  });
  it('accepts public addresses and names', () => {
    for (const url of ALLOWED) expect(checkEndpoint(url, false).ok, url).toBe(true);
  });
  it('accepts loopback and private endpoints in developer mode, but still only http(s)', () => {
    expect(checkEndpoint('http://127.0.0.1:4200', true).ok).toBe(true);
    expect(checkEndpoint('http://alice.localhost:8080', true).ok).toBe(true);
    expect(checkEndpoint('ftp://127.0.0.1', true).ok).toBe(false);
    expect(checkEndpoint(42, true).ok).toBe(false);
  });
  it('parses IPv6 forms, including an embedded IPv4 tail', () => {
    expect(parseIpv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6('2001:db8::')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIpv6('1::2::3')).toBeNull();
    expect(isPublicIpv6('2606:4700::1111')).toBe(true);
    expect(isPublicIpv6('::ffff:8.8.8.8')).toBe(false);
  });
  it('judges resolved addresses: loopback, private, link-local, ULA, metadata, mapped, NAT64', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '169.254.169.254',
      '100.100.100.200',
      '::1',
      'fe80::1%eth0',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::7f00:1',
      '0.0.0.0',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['8.8.8.8', '2606:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
    const resolved = [
      { address: '127.0.0.1', family: 4 },
      { address: '93.184.216.34', family: 4 },
    ];
    expect(publicAddresses(resolved, false)).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(publicAddresses(resolved.slice(0, 1), false)).toEqual([]);
    expect(publicAddresses(resolved, true)).toEqual(resolved);
  });
});
