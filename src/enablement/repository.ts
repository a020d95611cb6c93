import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { IdentityDocument } from './document.js';
import type { EnablementState } from './states.js';

export interface Enablement {
  id: string;
  /** the request number printed on the modulo di adesione: "IOL-2026-000042" */
  number: string;
  accountId: string;
  serviceId: string;
  state: EnablementState;
  document: IdentityDocument;
  temporaryCodeHash: string | null;
  temporaryCodeExpiresAt: Date | null;
  temporaryCodeTries: number;
  identifiedAt: Date | null;
  identifiedWhere: string | null;
  personalCodeHash: string | null;
  createdAt: Date;
}

type Row = Awaited<ReturnType<ReturnType<typeof selectAll>['executeTakeFirstOrThrow']>>;
const selectAll = (db: Db) => db.selectFrom('enablements').selectAll();

function fromRow(row: Row): Enablement {
  return {
    id: row.id,
    number: row.number,
    accountId: row.account_id,
    serviceId: row.service_id,
    state: row.state,
    document: (typeof row.document === 'string' ? JSON.parse(row.document) : row.document) as IdentityDocument,
    temporaryCodeHash: row.temporary_code_hash,
    temporaryCodeExpiresAt: row.temporary_code_expires_at,
    temporaryCodeTries: row.temporary_code_tries,
    identifiedAt: row.identified_at,
    identifiedWhere: row.identified_where,
    personalCodeHash: row.personal_code_hash,
    createdAt: row.created_at,
  };
}

export function createEnablementRepository(db: Db) {
  return {
    /** The live request (not revoked) of an account for a service. */
    async live(accountId: string, serviceId: string): Promise<Enablement | undefined> {
      const row = await selectAll(db).where('account_id', '=', accountId).where('service_id', '=', serviceId).where('state', '<>', 'revoked').executeTakeFirst();
      return row && fromRow(row);
    },

    /**
     * A new request in state code_sent, numbered from a sequence ("<prefix>-<year>-000042").
     * undefined when a live one exists already (two forms sent at once: one wins).
     */
    async create(input: { accountId: string; serviceId: string; prefix: string; document: IdentityDocument; codeHash: string; codeExpiresAt: Date; at: Date }): Promise<Enablement | undefined> {
      const { rows } = await sql<{ n: string }>`select nextval('enablement_numbers') as n`.execute(db);
      const number = `${input.prefix}-${input.at.getUTCFullYear()}-${String(rows[0]!.n).padStart(6, '0')}`;
      const row = await db.insertInto('enablements').values({
        number,
        account_id: input.accountId,
        service_id: input.serviceId,
        state: 'code_sent',
        document: JSON.stringify(input.document),
        temporary_code_hash: input.codeHash,
        temporary_code_expires_at: input.codeExpiresAt,
        created_at: input.at,
        updated_at: input.at,
      }).onConflict((oc) => oc.columns(['account_id', 'service_id']).where('state', '<>', 'revoked').doNothing()).returningAll().executeTakeFirst();
      return row && fromRow(row);
    },

    /** One wrong try counted, unless already at the bound; the tries now. */
    async countWrongCode(id: string, state: EnablementState): Promise<number> {
      const row = await db.updateTable('enablements').set((eb) => ({ temporary_code_tries: eb('temporary_code_tries', '+', 1) }))
        .where('id', '=', id).where('state', '=', state).returning(['temporary_code_tries']).executeTakeFirst();
      return row?.temporary_code_tries ?? Number.MAX_SAFE_INTEGER;
    },

    /** A new temporary code (tries from zero), in the state given. */
    async replaceTemporaryCode(id: string, from: EnablementState, code: { hash: string; expiresAt: Date }, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({ temporary_code_hash: code.hash, temporary_code_expires_at: code.expiresAt, temporary_code_tries: 0, updated_at: at })
        .where('id', '=', id).where('state', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** The requests waiting for identification of the person with this codice fiscale. */
    async awaitingIdentification(fiscalCode: string): Promise<Array<Enablement & { person: { givenName: string; familyName: string; birthDate: string } }>> {
      const rows = await db.selectFrom('enablements').innerJoin('accounts', 'accounts.id', 'enablements.account_id')
        .selectAll('enablements').select(['accounts.given_name', 'accounts.family_name', 'accounts.birth_date'])
        .where('accounts.fiscal_code', '=', fiscalCode).where('enablements.state', '=', 'awaiting_identification')
        .orderBy('enablements.created_at').execute();
      return rows.map((row) => ({ ...fromRow(row), person: { givenName: row.given_name, familyName: row.family_name, birthDate: row.birth_date } }));
    },

    async findByNumber(number: string): Promise<Enablement | undefined> {
      const row = await selectAll(db).where('number', '=', number).executeTakeFirst();
      return row && fromRow(row);
    },

    /** Every request of the person with this codice fiscale, revoked ones included, newest first. */
    async ofFiscalCode(fiscalCode: string): Promise<Enablement[]> {
      const rows = await db.selectFrom('enablements').innerJoin('accounts', 'accounts.id', 'enablements.account_id')
        .selectAll('enablements').where('accounts.fiscal_code', '=', fiscalCode).orderBy('enablements.created_at', 'desc').execute();
      return rows.map(fromRow);
    },

    async findById(id: string): Promise<Enablement | undefined> {
      const row = await selectAll(db).where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    /** awaiting_identification → identified, with who and where; false when no longer awaiting (a second confirmation). */
    async identify(id: string, by: { officerId: string; where: string }, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({ state: 'identified', identified_at: at, identified_by: by.officerId, identified_where: by.where, updated_at: at })
        .where('id', '=', id).where('state', '=', 'awaiting_identification').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** enabled → recovering with a new temporary code (tries from zero); false when not enabled. */
    async startRecovery(id: string, code: { hash: string; expiresAt: Date }, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({ state: 'recovering', temporary_code_hash: code.hash, temporary_code_expires_at: code.expiresAt, temporary_code_tries: 0, updated_at: at })
        .where('id', '=', id).where('state', '=', 'enabled').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** recovering → enabled with a new personal code, the temporary one spent; false when no longer recovering. */
    async recover(id: string, personalCodeHash: string, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({ state: 'enabled', personal_code_hash: personalCodeHash, personal_code_set_at: at, temporary_code_hash: null, temporary_code_expires_at: null, temporary_code_tries: 0, updated_at: at })
        .where('id', '=', id).where('state', '=', 'recovering').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Any live state → revoked; false when there was nothing live to revoke. */
    async revoke(id: string, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements').set({ state: 'revoked', updated_at: at })
        .where('id', '=', id).where('state', '<>', 'revoked').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Every live request of an account (the Area riservata's list). */
    async liveOf(accountId: string): Promise<Enablement[]> {
      const rows = await selectAll(db).where('account_id', '=', accountId).where('state', '<>', 'revoked').orderBy('created_at').execute();
      return rows.map(fromRow);
    },

    /** identified → enabled with the person's own code (argon2id); false when no longer identified. */
    async enable(id: string, personalCodeHash: string, at: Date): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({ state: 'enabled', personal_code_hash: personalCodeHash, personal_code_set_at: at, updated_at: at })
        .where('id', '=', id).where('state', '=', 'identified').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** from → to, only if the request is still in `from` (the guard of every arrow). */
    async move(id: string, from: EnablementState, to: EnablementState, at: Date, set: { clearTemporaryCode?: boolean } = {}): Promise<boolean> {
      const result = await db.updateTable('enablements')
        .set({
          state: to,
          updated_at: at,
          ...(set.clearTemporaryCode ? { temporary_code_hash: null, temporary_code_expires_at: null, temporary_code_tries: 0 } : {}),
        })
        .where('id', '=', id).where('state', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type EnablementRepository = ReturnType<typeof createEnablementRepository>;
