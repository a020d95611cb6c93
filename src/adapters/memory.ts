import type { AdapterPayload } from 'oidc-provider';

import {
  ACCOUNT_INDEXED_MODELS,
  GRANTABLE_MODELS,
  MAX_TTL_SECONDS,
  alreadyConsumed,
  grantOf,
  StoreFullError,
  notFound,
  type AccountEntries,
  type StoreAdapter,
} from './common.js';

export { GRANTABLE_MODELS, MAX_TTL_SECONDS } from './common.js';

const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
  model: string;
}

export interface MemoryStore {
  readonly now: () => number;
  readonly entries: Map<string, Entry>;
  /** `${model}:${uid}` → entry key */
  readonly uids: Map<string, string>;
  /** `${model}:${userCode}` → entry key */
  readonly userCodes: Map<string, string>;
  /** grantId → entry keys of every grantable model */
  readonly grants: Map<string, Set<string>>;
  /** accountId → entry keys of its Session and Grant entries */
  readonly accounts: Map<string, Set<string>>;
  /** grantId of a revoked grant → when the mark lapses (epoch ms) */
  readonly revokedGrants: Map<string, number>;
  /** id of an ended Session → when the mark lapses (epoch ms) */
  readonly endedSessions: Map<string, number>;
  /** entries per model, for the cap */
  readonly counts: Map<string, number>;
  /** most Interaction entries held at once (what anonymous requests create); undefined: no cap */
  readonly maxInteractions?: number;
  sweeper?: NodeJS.Timeout;
  /** when the store was last swept because it was full (epoch ms) */
  lastFullSweep?: number;
}

export function createMemoryStore(options: { now?: () => number; maxInteractions?: number } = {}): MemoryStore {
  return {
    now: options.now ?? Date.now,
    counts: new Map(),
    maxInteractions: options.maxInteractions,
    entries: new Map(),
    uids: new Map(),
    userCodes: new Map(),
    grants: new Map(),
    accounts: new Map(),
    revokedGrants: new Map(),
    endedSessions: new Map(),
  };
}

/** The process-wide store every MemoryAdapter uses unless given another. */
export const defaultMemoryStore = createMemoryStore();

export function clearMemoryStore(store: MemoryStore = defaultMemoryStore): void {
  store.entries.clear();
  store.uids.clear();
  store.userCodes.clear();
  store.grants.clear();
  store.accounts.clear();
  store.revokedGrants.clear();
  store.endedSessions.clear();
  store.counts.clear();
  if (store.sweeper) {
    clearInterval(store.sweeper);
    delete store.sweeper;
  }
}

export function sweepMemoryStore(store: MemoryStore): void {
  const now = store.now();
  for (const [key, entry] of store.entries) {
    if (entry.expiresAt <= now) removeEntry(store, key, entry);
  }
  for (const marks of [store.revokedGrants, store.endedSessions]) {
    for (const [id, until] of marks) {
      if (until <= now) marks.delete(id);
    }
  }
}

function ensureSweeper(store: MemoryStore): void {
  if (store.sweeper) return;
  // Lazy reads already hide expired entries; the timer only reclaims memory of entries
  // nobody asks for again. unref() so it never keeps the process (or a test run) alive.
  store.sweeper = setInterval(() => sweepMemoryStore(store), SWEEP_INTERVAL_MS);
  store.sweeper.unref();
}

function addToIndex(index: Map<string, Set<string>>, indexKey: string, key: string): void {
  const members = index.get(indexKey) ?? new Set<string>();
  members.add(key);
  index.set(indexKey, members);
}

function removeFromIndex(index: Map<string, Set<string>>, indexKey: string, key: string): void {
  const members = index.get(indexKey);
  members?.delete(key);
  if (members?.size === 0) index.delete(indexKey);
}

function count(store: MemoryStore, model: string, change: number): void {
  store.counts.set(model, (store.counts.get(model) ?? 0) + change);
}

/** Whether one more Interaction fits; a full store is swept first (at most once a second). */
function roomForInteraction(store: MemoryStore): boolean {
  if (store.maxInteractions === undefined || (store.counts.get('Interaction') ?? 0) < store.maxInteractions) return true;
  const now = store.now();
  if ((store.lastFullSweep ?? 0) + 1000 <= now) {
    store.lastFullSweep = now;
    sweepMemoryStore(store);
  }
  return (store.counts.get('Interaction') ?? 0) < store.maxInteractions;
}

function removeEntry(store: MemoryStore, key: string, entry: Entry): void {
  store.entries.delete(key);
  count(store, entry.model, -1);
  const { uid, userCode, grantId, accountId } = entry.payload;
  if (typeof uid === 'string') deleteIfPointsTo(store.uids, `${entry.model}:${uid}`, key);
  if (typeof userCode === 'string') {
    deleteIfPointsTo(store.userCodes, `${entry.model}:${userCode}`, key);
  }
  if (typeof grantId === 'string') removeFromIndex(store.grants, grantId, key);
  if (typeof accountId === 'string') removeFromIndex(store.accounts, accountId, key);
}

function deleteIfPointsTo(index: Map<string, string>, indexKey: string, key: string): void {
  if (index.get(indexKey) === key) index.delete(indexKey);
}

/** The live entry under `key`, dropping it on the way if it has expired. */
function liveEntry(store: MemoryStore, key: string | undefined): Entry | undefined {
  if (key === undefined) return undefined;
  const entry = store.entries.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= store.now()) {
    removeEntry(store, key, entry);
    return undefined;
  }
  return entry;
}

function isMarked(store: MemoryStore, marks: Map<string, number>, id: string): boolean {
  const until = marks.get(id);
  if (until === undefined) return false;
  if (until > store.now()) return true;
  marks.delete(id);
  return false;
}

function removeGrantMembers(store: MemoryStore, grantId: string): void {
  for (const key of [...(store.grants.get(grantId) ?? [])]) {
    const entry = store.entries.get(key);
    if (entry) removeEntry(store, key, entry);
  }
  store.grants.delete(grantId);
}

function revokeGrant(store: MemoryStore, grantId: string): void {
  removeGrantMembers(store, grantId);
  const grantKey = `Grant:${grantId}`;
  const grant = store.entries.get(grantKey);
  if (grant) removeEntry(store, grantKey, grant);
  store.revokedGrants.set(grantId, store.now() + MAX_TTL_SECONDS * 1000);
  ensureSweeper(store);
}

function ttlSeconds(expiresIn: number | undefined): number {
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : MAX_TTL_SECONDS;
}

/**
 * Entries in this process's memory. Every method runs to completion without awaiting, so
 * each one is atomic with respect to the others, as the Redis scripts are.
 */
export class MemoryAdapter implements StoreAdapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore = defaultMemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const grantId = grantOf(this.model, id, payload);
    // A token issued by a request that was under way when its grant was revoked.
    if (grantId !== undefined && isMarked(this.store, this.store.revokedGrants, grantId)) return;
    // A session saved by a request that was under way when it was ended.
    if (this.model === 'Session' && isMarked(this.store, this.store.endedSessions, id)) return;

    const key = this.key(id);
    const previous = this.store.entries.get(key);
    if (!previous && this.model === 'Interaction' && !roomForInteraction(this.store)) throw new StoreFullError(this.model);
    if (previous) removeEntry(this.store, key, previous);

    // A copy, so neither the caller nor a reader can change what is stored (as with Redis).
    const entry: Entry = {
      payload: structuredClone(payload),
      expiresAt: this.store.now() + ttlSeconds(expiresIn) * 1000,
      model: this.model,
    };
    this.store.entries.set(key, entry);
    count(this.store, this.model, 1);

    const { uid, userCode, accountId } = payload;
    if (this.model === 'Session' && typeof uid === 'string') {
      this.store.uids.set(`${this.model}:${uid}`, key);
    }
    if (typeof userCode === 'string') this.store.userCodes.set(`${this.model}:${userCode}`, key);
    if (GRANTABLE_MODELS.has(this.model) && grantId !== undefined) addToIndex(this.store.grants, grantId, key);
    if (ACCOUNT_INDEXED_MODELS.has(this.model) && typeof accountId === 'string') {
      addToIndex(this.store.accounts, accountId, key);
    }
    ensureSweeper(this.store);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = liveEntry(this.store, this.key(id));
    return entry && structuredClone(entry.payload);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const entry = liveEntry(this.store, this.store.uids.get(`${this.model}:${uid}`));
    return entry && structuredClone(entry.payload);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const entry = liveEntry(this.store, this.store.userCodes.get(`${this.model}:${userCode}`));
    return entry && structuredClone(entry.payload);
  }

  /**
   * Check-and-set: the first call marks the entry consumed; any later one is a replay, which
   * revokes the whole grant (as lib/helpers/grant_source.js does) and fails with invalid_grant.
   */
  async consume(id: string): Promise<void> {
    const entry = liveEntry(this.store, this.key(id));
    if (!entry) throw notFound(this.model);
    if (entry.payload.consumed !== undefined) {
      const { grantId } = entry.payload;
      if (typeof grantId === 'string') revokeGrant(this.store, grantId);
      throw alreadyConsumed(this.model);
    }
    entry.payload.consumed = Math.floor(this.store.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    const key = this.key(id);
    const entry = this.store.entries.get(key);
    if (entry) removeEntry(this.store, key, entry);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    removeGrantMembers(this.store, grantId);
  }

  async revokeGrant(grantId: string): Promise<void> {
    revokeGrant(this.store, grantId);
  }

  async endSession(sessionId: string): Promise<void> {
    const key = `Session:${sessionId}`;
    const entry = this.store.entries.get(key);
    if (entry) removeEntry(this.store, key, entry);
    this.store.endedSessions.set(sessionId, this.store.now() + MAX_TTL_SECONDS * 1000);
    ensureSweeper(this.store);
  }

  async idsForAccount(accountId: string): Promise<AccountEntries> {
    const found: AccountEntries = { sessions: [], grants: [] };
    for (const key of [...(this.store.accounts.get(accountId) ?? [])]) {
      const entry = liveEntry(this.store, key);
      if (!entry) continue;
      const id = key.slice(entry.model.length + 1);
      if (entry.model === 'Session') found.sessions.push(id);
      else if (entry.model === 'Grant') found.grants.push(id);
    }
    return found;
  }
}
