import { timingSafeEqual } from 'node:crypto';

/** The hidden field that carries the session's synchronizer token in the demo's forms. */
export const CSRF_FIELD = 'csrf_token';

/**
 * Whether a submitted form token is the session's own. Compared in constant time,
 * so the response time says nothing about how much of a guess was right.
 */
export function csrfTokenMatches(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || !expected) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(submitted, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
