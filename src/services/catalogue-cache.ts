import type { Notifications } from '../db/notifications.js';
import { CATALOGUE_CHANNEL, type ServiceRecord } from './repository.js';

/** More services than any catalogue holds: beyond it the cache starts again (ids of the registered only). */
const MAX_ENTRIES = 10_000;

export interface CatalogueCache {
  /** The service, from memory while every change is being heard, else from `read`. */
  find(id: string, read: (id: string) => Promise<ServiceRecord | undefined>): Promise<ServiceRecord | undefined>;
  stop(): Promise<void>;
}

/**
 * Each instance keeps the enabled services it has read, and drops one the moment PostgreSQL
 * announces a change to it (every write of the repository does, at commit): the token
 * endpoint no longer reads a row per request, and a change is still seen by every instance at
 * its next request. While the announcements cannot be heard (the listening connection lost,
 * reconnecting) nothing is kept and every lookup reads the table.
 */
export async function createCatalogueCache(notifications: Notifications | undefined, onHearing: (hearing: boolean) => void = () => undefined): Promise<CatalogueCache> {
  const entries = new Map<string, ServiceRecord>();
  let hearing = false;
  // bumped by every announcement: a read that overlapped one is not kept (it may predate it)
  let generation = 0;
  const forget = (id?: string) => {
    generation += 1;
    if (id === undefined) entries.clear();
    else entries.delete(id);
  };
  const stop = notifications
    ? await notifications.listen(CATALOGUE_CHANNEL, (id) => forget(id), (now) => {
      forget();
      if (now !== hearing) onHearing(now);
      hearing = now;
    })
    : async () => undefined;

  return {
    async find(id, read) {
      const kept = hearing ? entries.get(id) : undefined;
      if (kept) return kept;
      const before = generation;
      const service = await read(id);
      if (hearing && generation === before && service && !service.disabledAt) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(id, service);
      }
      return service;
    },
    stop,
  };
}
