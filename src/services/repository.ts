import type { Db } from '../db/index.js';
import type { ServiceOrigin, ServicesTable } from '../db/schema.js';
import type { Selectable } from 'kysely';
import type { ServiceSettings } from './catalogue.js';

/** A service as the catalogue holds it. */
export interface ServiceRecord {
  id: string;
  name: string;
  settings: ServiceSettings;
  origin: ServiceOrigin;
  secretDigest: string | null;
  /** the secret before the last rotation, accepted until validUntil */
  previousSecret: { digest: string; validUntil: Date } | null;
  fileDigest: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewService {
  id: string;
  settings: ServiceSettings;
  origin: ServiceOrigin;
  secretDigest: string | null;
  fileDigest?: string | null;
  /** the initial access token a partner registered it with */
  initialAccessTokenId?: string;
}

function toRecord(row: Selectable<ServicesTable>): ServiceRecord {
  return {
    id: row.id,
    name: row.name,
    // written only after validation (catalogue.ts); read back as stored
    settings: (typeof row.settings === 'string' ? JSON.parse(row.settings) : row.settings) as ServiceSettings,
    origin: row.origin,
    secretDigest: row.secret_digest,
    previousSecret: row.previous_secret_digest && row.previous_secret_valid_until ? { digest: row.previous_secret_digest, validUntil: row.previous_secret_valid_until } : null,
    fileDigest: row.file_digest,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A trigger announces every change to a service on this channel, with its id (migration 0018). */
export const CATALOGUE_CHANNEL = 'iam_catalogue';

/** The services table: the only SQL of the catalogue. */
export function createServiceRepository(db: Db) {
  return {
    async find(id: string, executor: Db = db, options: { lock?: boolean } = {}): Promise<ServiceRecord | undefined> {
      let query = executor.selectFrom('services').selectAll().where('id', '=', id);
      if (options.lock) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row && toRecord(row);
    },

    async list(): Promise<ServiceRecord[]> {
      return (await db.selectFrom('services').selectAll().orderBy('name').orderBy('id').execute()).map(toRecord);
    },

    /** Inserts a new service; false when the id is taken (nothing written). */
    async insert(service: NewService, executor: Db = db): Promise<boolean> {
      const inserted = await executor
        .insertInto('services')
        .values({
          id: service.id,
          name: service.settings.name,
          settings: JSON.stringify(service.settings),
          origin: service.origin,
          secret_digest: service.secretDigest,
          file_digest: service.fileDigest ?? null,
          ...(service.initialAccessTokenId ? { initial_access_token_id: service.initialAccessTokenId } : {}),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async update(
      id: string,
      change: { settings?: ServiceSettings; secretDigest?: string | null; previousSecret?: { digest: string; validUntil: Date } | null; fileDigest?: string | null; disabledAt?: Date | null },
      executor: Db = db,
    ): Promise<boolean> {
      const updated = await executor
        .updateTable('services')
        .set({
          ...(change.settings ? { name: change.settings.name, settings: JSON.stringify(change.settings) } : {}),
          ...(change.secretDigest !== undefined ? { secret_digest: change.secretDigest } : {}),
          ...(change.previousSecret !== undefined
            ? { previous_secret_digest: change.previousSecret?.digest ?? null, previous_secret_valid_until: change.previousSecret?.validUntil ?? null }
            : {}),
          ...(change.fileDigest !== undefined ? { file_digest: change.fileDigest } : {}),
          ...(change.disabledAt !== undefined ? { disabled_at: change.disabledAt } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returning('id')
        .executeTakeFirst();
      return updated !== undefined;
    },

    async remove(id: string, executor: Db = db): Promise<boolean> {
      return (await executor.deleteFrom('services').where('id', '=', id).returning('id').executeTakeFirst()) !== undefined;
    },

    async putLogo(id: string, logo: { contentType: string; bytes: Uint8Array }, executor: Db = db): Promise<void> {
      await executor
        .insertInto('service_logos')
        .values({ service_id: id, content_type: logo.contentType, bytes: logo.bytes })
        .onConflict((oc) => oc.column('service_id').doUpdateSet({ content_type: logo.contentType, bytes: logo.bytes, updated_at: new Date() }))
        .execute();
    },

    async logo(id: string): Promise<{ contentType: string; bytes: Uint8Array; updatedAt: Date } | undefined> {
      const row = await db.selectFrom('service_logos').select(['content_type', 'bytes', 'updated_at']).where('service_id', '=', id).executeTakeFirst();
      return row && { contentType: row.content_type, bytes: row.bytes, updatedAt: row.updated_at };
    },

    /** Every service's name and logo by id (a small table: read whole). */
    async labels(): Promise<Map<string, { name: string; logo?: string; enabled: boolean; description?: string; firstParty: boolean }>> {
      const rows = await db.selectFrom('services').select(['id', 'name', 'settings', 'disabled_at']).orderBy('name').execute();
      return new Map(
        rows.map((r) => {
          const settings = (typeof r.settings === 'string' ? JSON.parse(r.settings) : r.settings) as ServiceSettings;
          return [r.id, { name: r.name, logo: settings.logo, description: settings.description, firstParty: settings.firstParty, enabled: r.disabled_at === null }];
        }),
      );
    },
  };
}

export type ServiceRepository = ReturnType<typeof createServiceRepository>;
