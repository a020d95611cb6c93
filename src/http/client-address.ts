import { isIP, type BlockList } from 'node:net';
import type { ProxyTrust } from '../config.js';

/**
 * The client's address, as far as the configured proxies can vouch for it.
 *
 * The chain is the X-Forwarded-For entries followed by the socket's peer, nearest last.
 * Each proxy appends the address it saw, so only entries written by proxies we trust
 * mean anything: with N hops the client is the (N+1)-th address from the right; with a
 * list, the first address from the right that is not a trusted proxy. Entries further
 * left are whatever the client chose to send.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trust: ProxyTrust,
  proxies: BlockList,
): string {
  const self = normalizeAddress(peer) ?? peer;
  if (trust.kind === 'none') return self;
  const chain = [...(forwardedFor ?? '').split(',').map((entry) => entry.trim()).filter(Boolean), peer];
  let index = chain.length - 1;
  if (trust.kind === 'hops') {
    index = Math.max(0, chain.length - 1 - trust.hops);
  } else {
    while (index > 0 && isTrustedProxy(chain[index]!, proxies)) index--;
  }
  // a trusted proxy that wrote garbage vouches for nothing: fall back to the nearest real address
  for (let i = index; i < chain.length; i++) {
    const address = normalizeAddress(chain[i]!);
    if (address) return address;
  }
  return self;
}

/** True when the socket's peer is a proxy allowed to forward client details. */
export function peerIsTrustedProxy(peer: string, trust: ProxyTrust, proxies: BlockList): boolean {
  if (trust.kind === 'hops') return trust.hops > 0;
  if (trust.kind === 'addresses') return isTrustedProxy(peer, proxies);
  return false;
}

function isTrustedProxy(entry: string, proxies: BlockList): boolean {
  const address = normalizeAddress(entry);
  if (!address) return false;
  return proxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A bare IP address from a forwarded entry or socket address: ports and brackets removed,
 * IPv4-mapped IPv6 turned back into IPv4. Null when it is not an address.
 */
export function normalizeAddress(entry: string): string | null {
  let value = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(value);
  if (mapped) value = mapped[1]!;
  return isIP(value) ? value.toLowerCase() : null;
}

/**
 * The unit the throttle counts per address: an IPv4 address, or the /64 an IPv6 address
 * belongs to (one subscriber usually holds a whole /64 and can rotate inside it at will).
 */
export function addressGroup(address: string): string {
  const normalized = normalizeAddress(address);
  if (!normalized || isIP(normalized) === 4) return normalized ?? address;
  const groups = expandIPv6(normalized);
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const parts = (text: string) => {
    if (!text) return [];
    return text.split(':').flatMap((part) => {
      if (!part.includes('.')) return [part];
      // an embedded IPv4 address fills the last two groups
      const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const left = parts(head);
  const right = parts(tail ?? '');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.padStart(4, '0'));
}
