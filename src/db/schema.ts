import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type AccountStatus = 'active' | 'suspended' | 'dormant';

export interface AccountsTable {
  id: Generated<string>;
  username: string;
  account_type: 'standard' | 'mi';
  given_name: string;
  family_name: string;
  fiscal_code: string;
  /** 'YYYY-MM-DD' */
  birth_date: string;
  birth_place: string;
  sex: 'M' | 'F';
  personal_email: string | null;
  personal_email_verified: Generated<boolean>;
  institutional_email: string | null;
  mailbox_state: 'ATTIVA' | 'SOSPESA' | 'CESSATA' | null;
  mobile_phone: string | null;
  home_phone: string | null;
  street_address: string | null;
  postal_code: string | null;
  municipality: string | null;
  province: string | null;
  country: string | null;
  status: Generated<AccountStatus>;
  locked_until: Date | null;
  password_hash: string;
  password_changed_at: Timestamp;
  password_expires_at: Date | null;
  password_temporary: Generated<boolean>;
  /** SSO sessions signed in before this are no longer valid */
  access_revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** the password typed at the last sign-in failed the current policy */
  password_noncompliant: Generated<boolean>;
  temporary_password_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** the last sign-in, or the new password that brought the account back */
  last_active_at: Generated<Date>;
  /** set with the first inactivity notice, cleared by a sign-in: the day the account becomes dormant */
  inactivity_deadline: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** when it last became dormant (kept after it comes back) */
  dormant_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** an e-mail at every sign-in (AgID Regolamento, art. 18) */
  sign_in_notice: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type EnablementStateName = 'code_sent' | 'awaiting_identification' | 'identified' | 'enabled' | 'recovering' | 'revoked';

/** A service enablement (abilitazione) request and its state. */
export interface EnablementsTable {
  id: Generated<string>;
  number: string;
  account_id: string;
  service_id: string;
  state: EnablementStateName;
  /** the identity document declared: { type, number, issuer, expiry } */
  document: ColumnType<unknown, string, string>;
  temporary_code_hash: string | null;
  temporary_code_expires_at: Date | null;
  temporary_code_tries: Generated<number>;
  identified_at: Date | null;
  identified_by: string | null;
  identified_where: string | null;
  personal_code_hash: string | null;
  personal_code_set_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type ServiceOrigin = 'file' | 'console' | 'cli' | 'api' | 'registration';

/** A client service of the catalogue (src/services/). */
export interface ServicesTable {
  id: string;
  name: string;
  /** the validated metadata: src/services/catalogue.ts ServiceSettings */
  settings: ColumnType<unknown, string, string>;
  origin: ServiceOrigin;
  secret_digest: string | null;
  previous_secret_digest: string | null;
  previous_secret_valid_until: Date | null;
  file_digest: string | null;
  disabled_at: Date | null;
  /** the initial access token a partner registered it with (RFC 7591) */
  initial_access_token_id: Generated<string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** An initial access token for dynamic registration: its digest, never its value. */
export interface InitialAccessTokensTable {
  id: string;
  token_digest: string;
  label: string;
  max_uses: number;
  uses: Generated<number>;
  expires_at: Date;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: CreatedAt;
}

/** A registration access token (RFC 7592): the provider's payload, kept under its digest. */
export interface RegistrationAccessTokensTable {
  token_digest: string;
  service_id: string;
  payload: ColumnType<unknown, string, string>;
  created_at: CreatedAt;
}

export interface ServiceLogosTable {
  service_id: string;
  content_type: string;
  bytes: Uint8Array;
  updated_at: Timestamp;
}

/** A personal e-mail change waiting for the code sent to the new address. */
export interface EmailChangesTable {
  account_id: string;
  new_email: string;
  code_hash: string;
  tries: Generated<number>;
  sent_at: Date;
  expires_at: Date;
}

export interface PasswordHistoryTable {
  id: Generated<string>;
  account_id: string;
  password_hash: string;
  set_at: Timestamp;
}

export type SchoolRole = 'ds' | 'dsga' | 'assistente_amministrativo' | 'docente' | 'ata';

export interface SchoolAssignmentsTable {
  account_id: string;
  school_code: string;
  role: SchoolRole;
  security_officer: Generated<boolean>;
  created_at: CreatedAt;
}

/** 'service': a registered service managing itself (RFC 7592) or an admin API client */
export type AuditActorKind = 'user' | 'officer' | 'admin' | 'system' | 'anonymous' | 'service';
export type AuditOutcome = 'success' | 'failure' | 'refused';

export interface AuditLogTable {
  id: Generated<string>;
  occurred_at: CreatedAt;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  subject_id: string | null;
  action: string;
  outcome: AuditOutcome;
  ip: string | null;
  user_agent: string | null;
  client_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  /** src/audit/chain.ts */
  chain: number;
  seq: ColumnType<string, number, never>;
  prev_hash: string;
  hash: string;
}

/** Where each chain's remaining entries start once older months were retired. */
export interface AuditChainStartsTable {
  chain: number;
  seq: ColumnType<string, number, number>;
  hash: string;
}

export interface AuditChainsTable {
  chain: number;
  seq: ColumnType<string, number, number>;
  head: string;
}

export interface ProviderKeysTable {
  kid: string;
  use: 'signing' | 'cookie' | 'csrf';
  alg: string | null;
  /** Encrypted (src/provider/key-encryption.ts); written as JSON text, rewritten only to encrypt a clear row. */
  secret: ColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  retired_at: Date | null;
}

export interface AccountNoticesTable {
  account_id: string;
  kind: 'password_expiry' | 'inactivity';
  due_at: Date;
  days_before: number;
  sent_at: CreatedAt;
}

/** Single-use recovery links (Password dimenticata?): only the SHA-256 of the token is stored. */
export interface RecoveryTokensTable {
  id: Generated<string>;
  account_id: string;
  purpose: 'password_reset' | 'unlock';
  /** hex SHA-256 of the token in the link */
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** spent without being used: the password changed by another way, or another link completed */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** Self-registration attempts in progress (src/registration/): keyed by the SHA-256 of the cookie's id. */
export interface RegistrationsTable {
  id: string;
  step: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  return_uid: string | null;
  code_hash: string | null;
  code_expires_at: Date | null;
  code_sent_at: Date | null;
  code_tries: ColumnType<number, number | undefined, number>;
  account_id: string | null;
  created_at: CreatedAt;
  expires_at: Date;
}

/** An account's TOTP secret (sealed: src/provider/key-encryption.ts); confirmed_at null while enrolling. */
export interface SecondFactorsTable {
  account_id: string;
  secret: ColumnType<Record<string, unknown>, string, string>;
  confirmed_at: Date | null;
  /** the time step of the last code accepted */
  last_step: ColumnType<string | null, number | null | undefined, number | null>;
  /** when the enrolment under way began (renewed with a new secret) */
  created_at: Timestamp;
}

/** Single-use recovery codes of the second factor: only the SHA-256 is kept. */
export interface RecoveryCodesTable {
  account_id: string;
  code_hash: string;
  used_at: Date | null;
}

/** Accounts with the administrator role (src/admin/). */
export interface AdministratorsTable {
  account_id: string;
  granted_at: CreatedAt;
  granted_by: string | null;
}

export interface Database {
  administrators: AdministratorsTable;
  accounts: AccountsTable;
  second_factors: SecondFactorsTable;
  recovery_codes: RecoveryCodesTable;
  password_history: PasswordHistoryTable;
  school_assignments: SchoolAssignmentsTable;
  audit_log: AuditLogTable;
  audit_chains: AuditChainsTable;
  audit_chain_starts: AuditChainStartsTable;
  provider_keys: ProviderKeysTable;
  recovery_tokens: RecoveryTokensTable;
  account_notices: AccountNoticesTable;
  registrations: RegistrationsTable;
  email_changes: EmailChangesTable;
  enablements: EnablementsTable;
  services: ServicesTable;
  service_logos: ServiceLogosTable;
  initial_access_tokens: InitialAccessTokensTable;
  registration_access_tokens: RegistrationAccessTokensTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type AccountUpdate = Updateable<AccountsTable>;
