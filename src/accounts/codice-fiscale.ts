// The Italian codice fiscale (CF) of natural persons (DM 23/12/1976): structure, check
// character, omocodia, and consistency with the person's names, birth date and sex.

import { asciiFold } from './username.js';

export type Sex = 'M' | 'F';

export interface CodiceFiscalePerson {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: Sex;
}

export type CodiceFiscaleProblem =
  | 'cf.format'
  | 'cf.check_character'
  | 'cf.birth_date_invalid'
  | 'cf.surname_mismatch'
  | 'cf.name_mismatch'
  | 'cf.birth_date_mismatch'
  | 'cf.sex_mismatch';

export interface DecodedCodiceFiscale {
  surnameCode: string;
  nameCode: string;
  /** YYYY-MM-DD, century chosen by `now` */
  birthDate: string;
  sex: Sex;
  /** Belfiore code of the comune (or Z… for a foreign country), e.g. H501 */
  placeCode: string;
  omocodic: boolean;
}

export interface CodiceFiscaleValidation {
  valid: boolean;
  /** trimmed and upper-cased input */
  normalized: string;
  problems: CodiceFiscaleProblem[];
  /** present when the structure and the birth date can be read */
  decoded?: DecodedCodiceFiscale;
}

const MONTH_LETTERS = 'ABCDEHLMPRST';
const OMOCODIA_LETTERS = 'LMNPQRSTUV';
/** 0-based positions of the digits that omocodia may replace, right-most last */
const OMOCODIA_POSITIONS = [6, 7, 9, 10, 12, 13, 14] as const;
const FEMALE_DAY_OFFSET = 40;

const STRUCTURE = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

// Values of a character in an odd (1st, 3rd, …) position, for 0–9 then A–Z.
const ODD_VALUES = [
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
] as const;

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function normalizeCodiceFiscale(cf: string): string {
  return cf.trim().toUpperCase();
}

/** Structure only (omocodia accepted); `cf` must already be normalised. */
export function hasCodiceFiscaleStructure(cf: string): boolean {
  return STRUCTURE.test(cf);
}

function characterValue(character: string, oddPosition: boolean): number {
  const index = ALPHANUMERIC.indexOf(character);
  if (index < 0) throw new RangeError('cf.format');
  if (oddPosition) return ODD_VALUES[index] ?? 0;
  return index < 10 ? index : index - 10;
}

/** The check character of the first 15 characters (upper-case alphanumeric). */
export function checkCharacter(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i += 1) {
    // Positions are counted from 1, so index 0 is odd.
    sum += characterValue(first15.charAt(i), i % 2 === 0);
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** Omocodia letters turned back into digits; the check character is recomputed. */
export function decodeOmocodia(cf: string): string {
  const characters = cf.split('');
  for (const position of OMOCODIA_POSITIONS) {
    const letterIndex = OMOCODIA_LETTERS.indexOf(characters[position] ?? '');
    if (letterIndex >= 0) characters[position] = String(letterIndex);
  }
  const first15 = characters.slice(0, 15).join('');
  return first15 + checkCharacter(first15);
}

/**
 * The omocodic variant with the `substitutions` right-most digits replaced, as the Agenzia
 * delle Entrate assigns them (1 to 7); the check character is recomputed.
 */
export function applyOmocodia(cf: string, substitutions: number): string {
  const characters = decodeOmocodia(cf).split('');
  const positions = OMOCODIA_POSITIONS.slice(OMOCODIA_POSITIONS.length - substitutions);
  for (const position of positions) {
    characters[position] = OMOCODIA_LETTERS.charAt(Number(characters[position]));
  }
  const first15 = characters.slice(0, 15).join('');
  return first15 + checkCharacter(first15);
}

function lettersOf(name: string): { consonants: string; vowels: string } {
  const letters = asciiFold(name).toUpperCase().replace(/[^A-Z]/g, '');
  return {
    consonants: letters.replace(/[AEIOU]/g, ''),
    vowels: letters.replace(/[^AEIOU]/g, ''),
  };
}

function padded(code: string): string {
  return code.padEnd(3, 'X').slice(0, 3); // short names are completed with X
}

/** The three letters for the family name: consonants, then vowels, then X. */
export function surnameCode(familyName: string): string {
  const { consonants, vowels } = lettersOf(familyName);
  return padded(consonants + vowels);
}

/** The three letters for the given names: as the surname, but 1st, 3rd and 4th of 4+ consonants. */
export function nameCode(givenName: string): string {
  const { consonants, vowels } = lettersOf(givenName);
  if (consonants.length >= 4) {
    return consonants.charAt(0) + consonants.charAt(2) + consonants.charAt(3);
  }
  return padded(consonants + vowels);
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${twoDigits(month)}-${twoDigits(day)}`;
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function parseIsoDate(value: string): { year: number; month: number; day: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return isRealDate(year, month, day) ? { year, month, day } : null;
}

// The CF carries only two digits of the year; the calendar day of `now` is taken in UTC so
// that the result does not depend on the server's time zone.
function fullYear(twoDigitYear: number, month: number, day: number, now: Date): number {
  const today = isoDate(now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate());
  const year = Math.floor(now.getUTCFullYear() / 100) * 100 + twoDigitYear;
  return isoDate(year, month, day) > today ? year - 100 : year;
}

/**
 * Reads a CF that has the right structure; null when it does not, or when its birth date
 * does not exist. The check character is not verified here.
 */
export function decodeCodiceFiscale(cf: string, now: Date = new Date()): DecodedCodiceFiscale | null {
  const normalized = normalizeCodiceFiscale(cf);
  if (!hasCodiceFiscaleStructure(normalized)) return null;
  const plain = decodeOmocodia(normalized);
  const twoDigitYear = Number(plain.slice(6, 8));
  const month = MONTH_LETTERS.indexOf(plain.charAt(8)) + 1;
  const encodedDay = Number(plain.slice(9, 11));
  const sex: Sex = encodedDay > FEMALE_DAY_OFFSET ? 'F' : 'M';
  const day = sex === 'F' ? encodedDay - FEMALE_DAY_OFFSET : encodedDay;
  const year = fullYear(twoDigitYear, month, day, now);
  // Checked on the year chosen: 29 February "00" exists in 2000 but not in 1900.
  if (!isRealDate(year, month, day)) return null;
  return {
    surnameCode: plain.slice(0, 3),
    nameCode: plain.slice(3, 6),
    birthDate: isoDate(year, month, day),
    sex,
    placeCode: plain.slice(11, 15),
    omocodic: plain.slice(0, 15) !== normalized.slice(0, 15),
  };
}

function namesProblems(normalized: string, person: CodiceFiscalePerson): CodiceFiscaleProblem[] {
  const problems: CodiceFiscaleProblem[] = [];
  if (normalized.slice(0, 3) !== surnameCode(person.familyName)) problems.push('cf.surname_mismatch');
  if (normalized.slice(3, 6) !== nameCode(person.givenName)) problems.push('cf.name_mismatch');
  return problems;
}

function birthProblems(decoded: DecodedCodiceFiscale, person: CodiceFiscalePerson): CodiceFiscaleProblem[] {
  const problems: CodiceFiscaleProblem[] = [];
  // Only the last two digits of the year are encoded, so the century is not compared.
  if (!parseIsoDate(person.birthDate) || decoded.birthDate.slice(2) !== person.birthDate.slice(2)) {
    problems.push('cf.birth_date_mismatch');
  }
  if (decoded.sex !== person.sex) problems.push('cf.sex_mismatch');
  return problems;
}

/**
 * Every problem of `cf`, alone and against `person` when given. Never throws: a wrong
 * structure yields only 'cf.format', since nothing else can be read from it.
 */
export function validateCodiceFiscale(
  cf: string,
  person?: CodiceFiscalePerson,
  now: Date = new Date(),
): CodiceFiscaleValidation {
  const normalized = typeof cf === 'string' ? normalizeCodiceFiscale(cf) : '';
  if (!hasCodiceFiscaleStructure(normalized)) {
    return { valid: false, normalized, problems: ['cf.format'] };
  }
  const problems: CodiceFiscaleProblem[] = [];
  if (checkCharacter(normalized.slice(0, 15)) !== normalized.charAt(15)) problems.push('cf.check_character');
  const decoded = decodeCodiceFiscale(normalized, now);
  if (!decoded) problems.push('cf.birth_date_invalid');
  if (person) {
    problems.push(...namesProblems(normalized, person));
    if (decoded) problems.push(...birthProblems(decoded, person));
  }
  return { valid: problems.length === 0, normalized, problems, ...(decoded ? { decoded } : {}) };
}

/**
 * The CF of a person born in `placeCode` (Belfiore code), without omocodia. For tests and
 * demo data: bad input is a programming error there, so it throws.
 */
export function computeCodiceFiscale(person: CodiceFiscalePerson & { placeCode: string }): string {
  const date = parseIsoDate(person.birthDate);
  const placeCode = person.placeCode.toUpperCase();
  if (!date) throw new RangeError('cf.birth_date_invalid');
  if (!/^[A-Z]\d{3}$/.test(placeCode)) throw new RangeError('cf.place_code_invalid');
  const day = person.sex === 'F' ? date.day + FEMALE_DAY_OFFSET : date.day;
  const first15 =
    surnameCode(person.familyName) +
    nameCode(person.givenName) +
    twoDigits(date.year % 100) +
    MONTH_LETTERS.charAt(date.month - 1) +
    twoDigits(day) +
    placeCode;
  return first15 + checkCharacter(first15);
}
