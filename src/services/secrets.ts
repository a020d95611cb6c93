import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new client secret: 256 random bits, shown once and never stored. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the catalogue keeps of a secret. A fast digest is enough for 256 random bits (RFC 6819
 * §5.1.4.1.3); the prefix tells a digest from a secret wherever one might be mistaken for the other.
 */
export function secretDigest(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

/** Whether a value is a digest (as the catalogue keeps a secret) rather than a secret. */
export const isSecretDigest = (value: string): boolean => value.startsWith('sha256:');

/** The client's secrets as oidc-provider holds them: the current digest and the previous one during its grace period. */
export interface SecretDigests {
  current: string | undefined;
  previous?: { digest: string; validUntil: number };
}

/** Whether a presented secret is the current one, or the previous one within its grace period (epoch seconds). */
export function secretMatches(digests: SecretDigests, presented: string, now = Math.floor(Date.now() / 1000)): boolean {
  const candidate = Buffer.from(secretDigest(presented));
  const same = (digest: string | undefined) => {
    if (!digest) return false;
    const stored = Buffer.from(digest);
    return stored.length === candidate.length && timingSafeEqual(stored, candidate);
  };
  const current = same(digests.current);
  const previous = digests.previous !== undefined && now < digests.previous.validUntil && same(digests.previous.digest);
  return current || previous;
}
