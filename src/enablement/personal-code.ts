import { randomInt } from 'node:crypto';

/** The temporary personal code e-mailed to the person: ten random digits. */
export function newTemporaryCode(): string {
  return Array.from({ length: 10 }, () => randomInt(10)).join('');
}

export type PersonalCodeProblem = 'too_short' | 'not_digits' | 'all_equal' | 'sequence' | 'birth_date';

/**
 * The person's own personal code (DOMAIN.md §7): digits only, at least 8; not one digit
 * repeated, not a run up or down (0123…, 9876…, wrapping 8901… too), not the birth date in
 * any common writing (ddmmyyyy, yyyymmdd, ddmmyy).
 */
export function personalCodeProblems(code: string, birthDate: string): PersonalCodeProblem[] {
  if (!/^\d+$/.test(code)) return ['not_digits'];
  const problems: PersonalCodeProblem[] = [];
  if (code.length < 8) problems.push('too_short');
  if (/^(\d)\1*$/.test(code)) problems.push('all_equal');
  const digits = [...code].map(Number);
  const steps = digits.slice(1).map((d, i) => (d - digits[i]! + 10) % 10);
  if (steps.every((s) => s === 1) || steps.every((s) => s === 9)) problems.push('sequence');
  const [y, m, d] = birthDate.split('-') as [string, string, string];
  if ([`${d}${m}${y}`, `${y}${m}${d}`, `${d}${m}${y.slice(2)}`].some((written) => code.includes(written))) problems.push('birth_date');
  return problems;
}
