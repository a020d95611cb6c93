/**
 * The new passwords the forced-change driver sets: `Rinnovo-<syllables>-7!`, where the
 * syllables spell the account's attempt number in base 70 (one consonant + one vowel each).
 *
 * Why this shape: the policy refuses a trivial variant of the current password (same letters,
 * other digits or trailing symbols), so the counter has to change letters, not digits;
 * alternating consonant and vowel never repeats a character three times; and a string of
 * consonant-vowel pairs cannot spell "Carla" or "Scadenza" (both hold two consonants in a
 * row), nor a codice fiscale or a birth date. bench/forced-change-accounts.ts checks the
 * first candidates against the real rules and the real owners at start anyway.
 */
const CONSONANTS = 'bcdfglmnprstvz';
const VOWELS = 'aeiou';
const BASE = CONSONANTS.length * VOWELS.length;

/** A different password for every attempt number (0, 1, 2 …) of one account. */
export function benchNewPassword(attempt: number): string {
  let rest = Math.floor(attempt);
  let syllables = '';
  do {
    const digit = rest % BASE;
    syllables = CONSONANTS[Math.floor(digit / VOWELS.length)]! + VOWELS[digit % VOWELS.length]! + syllables;
    rest = Math.floor(rest / BASE);
  } while (rest > 0);
  return `Rinnovo-${syllables}-7!`;
}
