/**
 * The forced-change server (bench/server.ts with BENCH_FORCED_CHANGE=1): a password policy
 * under which every sign-in goes through the password_change gate, and accounts whose
 * password history looks like a long-lived account's, so that a change costs what it costs
 * in steady state rather than what it costs to a brand-new account.
 */
import argon2 from 'argon2';
import type { Account } from '../src/accounts/account.js';
import { OWASP_ARGON2ID } from '../src/accounts/password-hashing.js';
import { brokenRules, SPID_LEVEL_1_POLICY, type PasswordPolicy } from '../src/accounts/password-policy.js';
import type { Server } from '../src/server.js';
import { benchNewPassword } from './new-password.js';
import { benchPerson, type ForcedChangeSetup } from './shared.js';

export const FORCED_CHANGE_FAMILY_NAME = 'Scadenza';

const PASSWORD_LIFE_SECONDS = 3;
const DAY_MS = 24 * 60 * 60 * 1000;
/** attempt numbers whose password is checked against every owner at start (a run makes far fewer per account) */
const CHECKED_ATTEMPTS = 300;

/**
 * SPID level 1, but a password lives PASSWORD_LIFE_SECONDS. Not maxAgeDays 0: the gate reads
 * the account again when the sign-in resumes after the change, and a password born expired
 * sends the browser back to the change page for ever. Three seconds outlive that resume (tens
 * of milliseconds) but not the driver's wait before the account's next sign-in.
 * expirySpreadDays 1 means no shift: a shift is whole days, which would make every new
 * password born expired again. History, length and character rules stay SPID's, so the
 * argon2id work of a change is the production one.
 */
export function forcedChangePolicy(): PasswordPolicy {
  const days = PASSWORD_LIFE_SECONDS / (DAY_MS / 1000);
  return { ...SPID_LEVEL_1_POLICY, maxAgeDays: { standard: days, mi: days }, expirySpreadDays: 1 };
}

/**
 * `count` fresh accounts, their first password already expired, each with historyCount − 1
 * passwords set two years ago besides its first one: a change then checks the historyCount entries the policy keeps (minus the
 * current one, skipped when typed), as for a person who has had the account for years.
 * Every password set during the run falls inside historyMonths, so an account changed more
 * than historyCount times in one run costs more per change: the driver spreads its
 * changes over enough accounts, and the report says if that was not enough.
 */
export async function provisionForcedChangeAccounts(server: Server, count: number, policy: PasswordPolicy): Promise<{ usernames: string[]; setup: ForcedChangeSetup }> {
  const people = Array.from({ length: count }, (_, i) => benchPerson(i, FORCED_CHANGE_FAMILY_NAME));
  // A database that outlives the run (DATABASE_URL) holds the last run's accounts, with
  // passwords this run does not know and a recent history that would make changes dearer:
  // start from nothing. Bench people only (their name and e-mail); history goes by cascade.
  await server.db
    .deleteFrom('accounts')
    .where('family_name', '=', FORCED_CHANGE_FAMILY_NAME)
    .where('personal_email', 'like', `carla.${FORCED_CHANGE_FAMILY_NAME.toLowerCase()}%@example.org`)
    .execute();
  // one at a time: provisioning picks the next free username, and parallel ones would pick the same
  const accounts: Account[] = [];
  for (const person of people) accounts.push(await server.deps.provisioning.provision(person));

  const oldEntries = Math.max(0, policy.historyCount - 1);
  if (oldEntries > 0) {
    // no repository call writes history in the past: the bench writes the rows itself
    const oldHash = await argon2.hash('Vecchia-Password-2019!', { type: argon2.argon2id, ...OWASP_ARGON2ID });
    const longAgo = Date.now() - 2 * 365 * DAY_MS;
    const rows = accounts.flatMap((account) =>
      Array.from({ length: oldEntries }, (_, k) => ({ account_id: account.id, password_hash: oldHash, set_at: new Date(longAgo - k * DAY_MS) })),
    );
    await server.db.insertInto('password_history').values(rows).execute();
  }
  // the first passwords would live PASSWORD_LIFE_SECONDS from provisioning; the first sign-ins come sooner
  await server.db
    .updateTable('accounts')
    .set({ password_expires_at: new Date(Date.now() - DAY_MS) })
    .where('id', 'in', accounts.map((a) => a.id))
    .execute();

  // a refused new password would show up as failed sign-ins: refuse to start instead
  for (const account of accounts) {
    for (let attempt = 0; attempt < CHECKED_ATTEMPTS; attempt++) {
      const broken = brokenRules(policy, benchNewPassword(attempt), { owner: account });
      if (broken.length) throw new Error(`bench password ${benchNewPassword(attempt)} breaks ${broken.map((r) => r.name).join(', ')} for ${account.username}`);
    }
  }

  return {
    usernames: accounts.map((a) => a.username),
    setup: { passwordLifeSeconds: PASSWORD_LIFE_SECONDS, historyCount: policy.historyCount, historyMonths: policy.historyMonths, oldHistoryEntries: oldEntries },
  };
}
