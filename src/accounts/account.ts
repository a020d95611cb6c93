import type { AccountRow, AccountStatus } from '../db/schema.js';

export type { AccountStatus } from '../db/schema.js';

export type AccountType = 'standard' | 'mi';
export type MailboxState = 'ATTIVA' | 'SOSPESA' | 'CESSATA';

export interface PostalAddress {
  street: string | null;
  postalCode: string | null;
  municipality: string | null;
  province: string | null;
  country: string | null;
}

/** Who the person is (DOMAIN.md §3); the codice fiscale must agree with the rest. */
export interface Identity {
  givenName: string;
  familyName: string;
  fiscalCode: string;
  /** 'YYYY-MM-DD' */
  birthDate: string;
  birthPlace: string;
  sex: 'M' | 'F';
}

/** The domain view of an account; no password hash ever leaves the repository through it. */
export interface Account extends Identity {
  id: string;
  username: string;
  type: AccountType;
  personalEmail: string | null;
  personalEmailVerified: boolean;
  institutionalEmail: string | null;
  mailboxState: MailboxState | null;
  mobilePhone: string | null;
  homePhone: string | null;
  address: PostalAddress;
  status: AccountStatus;
  lockedUntil: Date | null;
  passwordChangedAt: Date;
  passwordExpiresAt: Date | null;
  passwordTemporary: boolean;
  /** sessions signed in before this moment were ended (suspension, and later resets) */
  accessRevokedAt: Date | null;
  /** the password typed at the last sign-in did not meet the current policy */
  passwordNoncompliant: boolean;
  temporaryPasswordUsedAt: Date | null;
  /** the last sign-in, or the new password that brought the account back */
  lastActiveAt: Date;
  /** the day it becomes dormant, once the first inactivity notice has gone out */
  inactivityDeadline: Date | null;
  /** an e-mail at every sign-in */
  signInNotice: boolean;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    type: row.account_type,
    givenName: row.given_name,
    familyName: row.family_name,
    fiscalCode: row.fiscal_code,
    birthDate: row.birth_date,
    birthPlace: row.birth_place,
    sex: row.sex,
    personalEmail: row.personal_email,
    personalEmailVerified: row.personal_email_verified,
    institutionalEmail: row.institutional_email,
    mailboxState: row.mailbox_state,
    mobilePhone: row.mobile_phone,
    homePhone: row.home_phone,
    address: {
      street: row.street_address,
      postalCode: row.postal_code,
      municipality: row.municipality,
      province: row.province,
      country: row.country,
    },
    status: row.status,
    lockedUntil: row.locked_until,
    passwordChangedAt: row.password_changed_at,
    passwordExpiresAt: row.password_expires_at,
    passwordTemporary: row.password_temporary,
    accessRevokedAt: row.access_revoked_at,
    passwordNoncompliant: row.password_noncompliant,
    temporaryPasswordUsedAt: row.temporary_password_used_at,
    lastActiveAt: row.last_active_at,
    inactivityDeadline: row.inactivity_deadline,
    signInNotice: row.sign_in_notice,
  };
}

/** Variazione dati di recapito as stored: phones in E.164, country ISO 3166-1 alpha-2, province by sigla. */
export interface ContactData {
  mobilePhone: string | null;
  homePhone: string | null;
  street: string | null;
  postalCode: string | null;
  country: string | null;
  province: string | null;
  municipality: string | null;
}

export function contactDataOf(account: Account): ContactData {
  const a = account.address;
  return { mobilePhone: account.mobilePhone, homePhone: account.homePhone, street: a.street, postalCode: a.postalCode, country: a.country, province: a.province, municipality: a.municipality };
}

/** DOMAIN.md §3: the institutional mailbox when there is one, else the personal address. */
export function referenceEmail(account: Account): { address: string; verified: boolean } | null {
  if (account.institutionalEmail) return { address: account.institutionalEmail, verified: true };
  if (account.personalEmail) return { address: account.personalEmail, verified: account.personalEmailVerified };
  return null;
}

export type BlockingState = 'suspended' | 'dormant' | 'locked';

/** Why the account may not sign in right now, if it may not. Suspension outranks dormancy, which outranks a lock. */
export function blockingState(account: Account, now: Date): BlockingState | null {
  if (account.status !== 'active') return account.status;
  if (account.lockedUntil && account.lockedUntil.getTime() > now.getTime()) return 'locked';
  return null;
}
