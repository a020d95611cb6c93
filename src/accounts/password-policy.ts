import type { AccountType } from './account.js';

/**
 * The password rules (DOMAIN.md §4), as one object: the login, change, reset and registration
 * pages render them from it and the checks below enforce them, so every screen says the same.
 * Defaults: SPID level 1 (AgID Regolamento, art. 15).
 */
export interface PasswordPolicy {
  readonly minLength: number;
  /** SPID asks to allow at least 128 */
  readonly maxLength: number;
  readonly requireUpper: boolean;
  readonly requireLower: boolean;
  readonly requireDigit: boolean;
  readonly requireSpecial: boolean;
  /** the longest run of one character allowed (2: "aa" passes, "aaa" does not) */
  readonly maxRepeated: number;
  /** no username, given or family name, codice fiscale or birth date inside */
  readonly forbidPersonalData: boolean;
  /** no reuse of any of the last `historyCount` passwords… */
  readonly historyCount: number;
  /** …nor of any set in the last `historyMonths` months */
  readonly historyMonths: number;
  /**
   * The most stored passwords one change compares against (each is an argon2id
   * verification): the bound on a change's cost for an account changed very often.
   */
  readonly historyCheckLimit: number;
  readonly maxAgeDays: Readonly<Record<AccountType, number>>;
  /** expiries are brought forward by up to this many days, a fixed shift per account (password-expiry.ts) */
  readonly expirySpreadDays: number;
}

export const SPID_LEVEL_1_POLICY: PasswordPolicy = Object.freeze({
  minLength: 8,
  maxLength: 128,
  requireUpper: true,
  requireLower: true,
  requireDigit: true,
  requireSpecial: true,
  maxRepeated: 2,
  forbidPersonalData: true,
  historyCount: 5,
  historyMonths: 15,
  historyCheckLimit: 12,
  maxAgeDays: Object.freeze({ standard: 180, mi: 180 }),
  expirySpreadDays: 60,
});

/** One rule, as the catalogue words it: `password.rule.<name>` with these variables. */
export interface PasswordRule {
  name: 'length' | 'upper' | 'lower' | 'digit' | 'special' | 'repeated' | 'personal_data' | 'not_current' | 'history';
  vars: Record<string, number>;
}

/** Every rule of the policy, in the order the pages list them. */
export function policyRules(policy: PasswordPolicy): PasswordRule[] {
  const rules: PasswordRule[] = [{ name: 'length', vars: { min: policy.minLength, max: policy.maxLength } }];
  if (policy.requireUpper) rules.push({ name: 'upper', vars: {} });
  if (policy.requireLower) rules.push({ name: 'lower', vars: {} });
  if (policy.requireDigit) rules.push({ name: 'digit', vars: {} });
  if (policy.requireSpecial) rules.push({ name: 'special', vars: {} });
  if (policy.maxRepeated > 0) rules.push({ name: 'repeated', vars: { max: policy.maxRepeated } });
  if (policy.forbidPersonalData) rules.push({ name: 'personal_data', vars: {} });
  rules.push({ name: 'not_current', vars: {} });
  if (policy.historyCount > 0 || policy.historyMonths > 0) {
    rules.push({ name: 'history', vars: { count: policy.historyCount, months: policy.historyMonths } });
  }
  return rules;
}

/** Who the password belongs to: what it must not contain. */
export interface PasswordOwner {
  username: string;
  givenName: string;
  familyName: string;
  fiscalCode: string;
  /** 'YYYY-MM-DD' */
  birthDate: string;
}

/**
 * The rules a candidate password breaks, among those that need no stored hash (history is
 * checked against the hashes by the caller; `historyToCheck` says which). `current` is the
 * password being replaced, as typed on the change form.
 */
export function brokenRules(
  policy: PasswordPolicy,
  candidate: string,
  context: { owner?: PasswordOwner; current?: string } = {},
): PasswordRule[] {
  const all = policyRules(policy);
  const broken = new Set<PasswordRule['name']>();
  const length = [...candidate].length;
  if (length < policy.minLength || length > policy.maxLength) broken.add('length');
  if (policy.requireUpper && !/\p{Lu}/u.test(candidate)) broken.add('upper');
  if (policy.requireLower && !/\p{Ll}/u.test(candidate)) broken.add('lower');
  if (policy.requireDigit && !/\p{Nd}/u.test(candidate)) broken.add('digit');
  if (policy.requireSpecial && !/[^\p{L}\p{N}\s]/u.test(candidate)) broken.add('special');
  if (policy.maxRepeated > 0 && longestRun(candidate) > policy.maxRepeated) broken.add('repeated');
  if (policy.forbidPersonalData && context.owner && containsPersonalData(candidate, context.owner)) broken.add('personal_data');
  if (context.current !== undefined && isTrivialVariant(candidate, context.current)) broken.add('not_current');
  return all.filter((rule) => broken.has(rule.name));
}

function longestRun(text: string): number {
  let longest = 0;
  let run = 0;
  let previous: string | undefined;
  for (const char of text) {
    run = char === previous ? run + 1 : 1;
    previous = char;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** Lower case, accents removed: "Nicolò" and "NICOLO" are the same word here. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Names shorter than this are not looked for: "Li" inside a password is no disclosure. */
const SHORTEST_NAME = 3;

function containsPersonalData(candidate: string, owner: PasswordOwner): boolean {
  const password = fold(candidate);
  const compact = password.replace(/[\s'’.-]/g, '');
  const words = [owner.username, ...owner.username.split(/[.\d]+/), owner.givenName, owner.familyName, ...`${owner.givenName} ${owner.familyName}`.split(/[\s'’-]+/)]
    .map((w) => fold(w).replace(/[\s'’-]/g, ''))
    .filter((w) => w.length >= SHORTEST_NAME);
  const codes = [fold(owner.fiscalCode), ...birthDateForms(owner.birthDate)];
  return words.some((w) => password.includes(w) || compact.includes(w)) || codes.some((c) => c && password.includes(c));
}

/** A birth date written the ways people write it: 20051980, 1980-05-20, 200580, 20/05/1980… */
export function birthDateForms(birthDate: string): string[] {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!match) return [];
  const [, yyyy, mm, dd] = match as unknown as [string, string, string, string];
  const yy = yyyy.slice(2);
  const forms = new Set<string>();
  for (const separator of ['', '/', '-', '.', ' ']) {
    forms.add([dd, mm, yyyy].join(separator));
    forms.add([dd, mm, yy].join(separator));
    forms.add([yyyy, mm, dd].join(separator));
    forms.add([mm, dd, yyyy].join(separator));
  }
  return [...forms];
}

/**
 * True when the candidate is the current password with trivial changes: letter case, digits
 * changed, symbols or digits added or changed at the end ("Scuola-2026!" → "scuola-2027?").
 */
export function isTrivialVariant(candidate: string, current: string): boolean {
  const skeleton = (text: string) => fold(text).replace(/[^\p{L}]+$/u, '').replace(/\p{Nd}/gu, '0');
  return skeleton(candidate) === skeleton(current);
}

/**
 * Which of the stored passwords a new one must not match: the last `historyCount`, and any set
 * within `historyMonths` of `now`, newest first, at most `historyCheckLimit` of them (entries
 * newest first). So a change costs at most that many argon2id verifications: an account
 * changed more often than that in the window is compared with its latest ones only, which
 * still keeps it from cycling back to an old password sooner.
 */
export function historyToCheck<T extends { setAt: Date }>(policy: PasswordPolicy, history: readonly T[], now: Date): T[] {
  const since = new Date(now);
  since.setMonth(since.getMonth() - policy.historyMonths);
  return history
    .filter((entry, index) => index < policy.historyCount || entry.setAt.getTime() >= since.getTime())
    .slice(0, Math.max(policy.historyCount, policy.historyCheckLimit));
}
