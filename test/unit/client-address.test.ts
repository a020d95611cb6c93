import { trustedProxyList, type ProxyTrust } from '../../src/config.js';
import { addressGroup, clientAddress, normalizeAddress } from '../../src/http/client-address.js';

const none: ProxyTrust = { kind: 'none' };
const oneHop: ProxyTrust = { kind: 'hops', hops: 1 };
const twoHops: ProxyTrust = { kind: 'hops', hops: 2 };
const byAddress: ProxyTrust = { kind: 'addresses', addresses: ['10.0.0.0/8', '::1'] };
const resolve = (trust: ProxyTrust, peer: string, forwardedFor?: string) =>
  clientAddress(peer, forwardedFor, trust, trustedProxyList(trust));

describe('client address', () => {
  it.each([
    // without trusted proxies the socket's peer is the client, whatever the header says
    [none, '203.0.113.9', '198.51.100.1', '203.0.113.9'],
    // one hop: the entry our proxy appended; anything left of it is the client's own say
    [oneHop, '10.0.0.2', '198.51.100.1', '198.51.100.1'],
    [oneHop, '10.0.0.2', '6.6.6.6, 7.7.7.7, 198.51.100.1', '198.51.100.1'],
    [oneHop, '10.0.0.2', undefined, '10.0.0.2'],
    [twoHops, '10.0.0.2', '6.6.6.6, 198.51.100.1, 10.0.0.3', '198.51.100.1'],
    [twoHops, '10.0.0.2', '198.51.100.1', '198.51.100.1'],
    // by address: the first hop from the right that is not one of ours
    [byAddress, '10.0.0.2', '6.6.6.6, 198.51.100.1, 10.1.2.3', '198.51.100.1'],
    [byAddress, '203.0.113.9', '198.51.100.1', '203.0.113.9'],
    [byAddress, '::1', '198.51.100.1', '198.51.100.1'],
    // garbage from the client where our proxy vouches for nothing better
    [oneHop, '10.0.0.2', 'unknown', '10.0.0.2'],
    [oneHop, '::ffff:10.0.0.2', '[2001:db8::5]:443', '2001:db8::5'],
    [oneHop, '10.0.0.2', '198.51.100.1:5123', '198.51.100.1'],
  ])('%j from %s with X-Forwarded-For %s is %s', (trust, peer, header, expected) => {
    expect(resolve(trust, peer, header)).toBe(expected);
  });

  it('normalizes addresses and rejects what is not one', () => {
    expect(normalizeAddress('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('[::1]:80')).toBe('::1');
    expect(normalizeAddress('evil.example')).toBeNull();
  });

  it('groups IPv6 addresses by /64 and keeps IPv4 addresses whole', () => {
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('192.0.2.1')).toBe('192.0.2.1');
  });
});
