// Usernames: the standard `nome.cognome` form derived from a person's names, the MI form of
// ministry-managed accounts, and the early check of what is typed at the login form.

export const USERNAME_MAX_LENGTH = 64;

// Leaves room for a numeric suffix without ever crossing USERNAME_MAX_LENGTH.
const GIVEN_PART_MAX = 28;
const FAMILY_PART_MAX = 27;

// Letters that Unicode decomposition does not reduce to ASCII.
const LETTERS_WITHOUT_DECOMPOSITION: Readonly<Record<string, string>> = {
  'ß': 'ss', 'ẞ': 'SS',
  'æ': 'ae', 'Æ': 'AE',
  'œ': 'oe', 'Œ': 'OE',
  'ø': 'o', 'Ø': 'O',
  'đ': 'd', 'Đ': 'D',
  'ð': 'd', 'Ð': 'D',
  'þ': 'th', 'Þ': 'TH',
  'ł': 'l', 'Ł': 'L',
  'ħ': 'h', 'Ħ': 'H',
  'ı': 'i',
  'ŋ': 'n', 'Ŋ': 'N',
};

const UNDECOMPOSABLE = new RegExp(`[${Object.keys(LETTERS_WITHOUT_DECOMPOSITION).join('')}]`, 'gu');

/** Latin text reduced to ASCII: accents stripped, ligatures and special letters spelled out. */
export function asciiFold(text: string): string {
  return text
    .replace(UNDECOMPOSABLE, (letter) => LETTERS_WITHOUT_DECOMPOSITION[letter] ?? '')
    // NFKD also splits compatibility forms (ligature ﬁ, full-width letters) into plain letters.
    .normalize('NFKD')
    .replace(/\p{M}/gu, '');
}

/** One name reduced to lower-case a–z: "Maria Grazia" → "mariagrazia", "D'Amico" → "damico". */
export function usernamePart(name: string): string {
  return asciiFold(name).toLowerCase().replace(/[^a-z]/g, '');
}

/**
 * The standard username `nome.cognome` before any numeric suffix, or null when a name has no
 * Latin letters to build it from.
 */
export function baseUsername(givenName: string, familyName: string): string | null {
  const given = usernamePart(givenName).slice(0, GIVEN_PART_MAX);
  const family = usernamePart(familyName).slice(0, FAMILY_PART_MAX);
  if (given === '' || family === '') return null;
  return `${given}.${family}`;
}

/** The nth candidate for a base: `mario.rossi`, `mario.rossi1`, `mario.rossi2`, … */
export function usernameCandidate(base: string, attempt: number): string {
  return attempt === 0 ? base : `${base}${attempt}`;
}

/** The first candidate not among `existing` (compared case-insensitively). */
export function pickUsername(base: string, existing: Iterable<string>): string {
  const taken = new Set(Array.from(existing, (username) => username.toLowerCase()));
  for (let attempt = 0; ; attempt += 1) {
    const candidate = usernameCandidate(base, attempt);
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

/**
 * The first candidate for which `taken` answers false. Bounded so that a broken `taken`
 * cannot loop forever; the unique index on usernames stays the final guard against races.
 */
export async function nextAvailableUsername(
  base: string,
  taken: (candidate: string) => boolean | Promise<boolean>,
  maxAttempts = 10_000,
): Promise<string> {
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const candidate = usernameCandidate(base, attempt);
    if (!(await taken(candidate))) return candidate;
  }
  throw new RangeError('username.exhausted');
}

const MI_USERNAME = /^MI\d{1,20}$/i;
const STANDARD_USERNAME = /^[a-z]+\.[a-z]+\d*$/;

/** A ministry-managed username: `MI` followed by digits, in any case (`MI123456`, `mi123456`). */
export function isMiUsername(username: string): boolean {
  return MI_USERNAME.test(username.trim());
}

/** A standard username as this system builds it: `nome.cognome` with an optional number. */
export function isStandardUsername(username: string): boolean {
  return STANDARD_USERNAME.test(username);
}

/** The stored spelling: MI usernames upper-case, every other username lower-case. */
export function normalizeUsername(username: string): string {
  const trimmed = username.trim();
  return isMiUsername(trimmed) ? trimmed.toUpperCase() : trimmed.toLowerCase();
}

export type LoginUsernameProblem = 'username.required' | 'username.too_long' | 'username.invalid_characters';

export type LoginUsernameCheck =
  | { ok: true; username: string }
  | { ok: false; problem: LoginUsernameProblem };

// Wider than the two forms we issue, so that imported or legacy usernames still reach the
// lookup, where a miss gets the same answer as a wrong password.
const LOGIN_USERNAME_CHARACTERS = /^[a-z0-9._-]+$/i;

/** Rejects what cannot be a username before any lookup; returns the normalised spelling. */
export function checkLoginUsername(input: string): LoginUsernameCheck {
  // Length first: garbage of any size must not reach trim or regular expressions.
  if (input.length > USERNAME_MAX_LENGTH * 4) return { ok: false, problem: 'username.too_long' };
  const username = normalizeUsername(input);
  if (username === '') return { ok: false, problem: 'username.required' };
  if (username.length > USERNAME_MAX_LENGTH) return { ok: false, problem: 'username.too_long' };
  if (!LOGIN_USERNAME_CHARACTERS.test(username)) return { ok: false, problem: 'username.invalid_characters' };
  return { ok: true, username };
}
