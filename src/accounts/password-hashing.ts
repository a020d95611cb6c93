import argon2 from 'argon2';

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
export const OWASP_ARGON2ID: Argon2Parameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `needsRehash` is true when the stored hash used other parameters than the current ones. */
  verify(storedHash: string, password: string): Promise<{ valid: boolean; needsRehash: boolean }>;
  /** Spends the same time as a verification, so an unknown username answers as slowly as a known one. */
  verifyAgainstNothing(password: string): Promise<void>;
}

/** Where each argon2id operation runs: at once, or through an admission queue (http/admission.ts). */
export type ScheduleWork = <T>(operation: () => Promise<T>) => Promise<T>;

const atOnce: ScheduleWork = (operation) => operation();

/**
 * The stored hash of an account that has no password yet (an imported one, until a reset):
 * nothing verifies against it, and trying costs the same time as a wrong password.
 */
export const NO_PASSWORD = '!';

export function createPasswordHasher(parameters: Argon2Parameters = OWASP_ARGON2ID, schedule: ScheduleWork = atOnce): PasswordHasher {
  const options = { type: argon2.argon2id as 2, ...parameters };
  let dummyHash: Promise<string> | undefined;

  return {
    hash: (password) => schedule(() => argon2.hash(password, options)),
    async verify(storedHash, password) {
      if (storedHash === NO_PASSWORD) {
        await this.verifyAgainstNothing(password);
        return { valid: false, needsRehash: false };
      }
      // a malformed stored hash never authenticates
      const valid = await schedule(() => argon2.verify(storedHash, password).catch(() => false));
      return { valid, needsRehash: valid && argon2.needsRehash(storedHash, options) };
    },
    async verifyAgainstNothing(password) {
      dummyHash ??= argon2.hash('not-a-real-password-' + Math.random(), options);
      const hash = await dummyHash;
      await schedule(() => argon2.verify(hash, password).catch(() => false));
    },
  };
}
