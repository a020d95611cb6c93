import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * Models whose entries belong to a grant and go when it is revoked: the list oidc-provider's
 * own adapter uses (lib/adapters/memory_adapter.js) and lib/helpers/revoke.js walks.
 * ClientCredentials tokens carry no grantId.
 */
export const GRANTABLE_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * Lifetime of an entry stored without expiresIn. The library omits it only for Client
 * metadata (dynamic registration, which we keep off); every other model passes its ttl, the
 * longest by default being 14 days (Session, Grant, RefreshToken). 30 days never cuts a live
 * artifact short, yet nothing stays forever if a model or ttl function forgets to say.
 */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;

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
  sweeper?: NodeJS.Timeout;
}

export function createMemoryStore(options: { now?: () => number } = {}): MemoryStore {
  return {
    now: options.now ?? Date.now,
    entries: new Map(),
    uids: new Map(),
    userCodes: new Map(),
    grants: new Map(),
  };
}

/** The process-wide store every MemoryAdapter uses unless given another. */
export const defaultMemoryStore = createMemoryStore();

export function clearMemoryStore(store: MemoryStore = defaultMemoryStore): void {
  store.entries.clear();
  store.uids.clear();
  store.userCodes.clear();
  store.grants.clear();
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
}

function ensureSweeper(store: MemoryStore): void {
  if (store.sweeper) return;
  // Lazy reads already hide expired entries; the timer only reclaims memory of entries
  // nobody asks for again. unref() so it never keeps the process (or a test run) alive.
  store.sweeper = setInterval(() => sweepMemoryStore(store), SWEEP_INTERVAL_MS);
  store.sweeper.unref();
}

function removeEntry(store: MemoryStore, key: string, entry: Entry): void {
  store.entries.delete(key);
  const { uid, userCode, grantId } = entry.payload;
  if (typeof uid === 'string') deleteIfPointsTo(store.uids, `${entry.model}:${uid}`, key);
  if (typeof userCode === 'string') {
    deleteIfPointsTo(store.userCodes, `${entry.model}:${userCode}`, key);
  }
  if (typeof grantId === 'string') {
    const members = store.grants.get(grantId);
    members?.delete(key);
    if (members?.size === 0) store.grants.delete(grantId);
  }
}

function deleteIfPointsTo(index: Map<string, string>, indexKey: string, key: string): void {
  if (index.get(indexKey) === key) index.delete(indexKey);
}

function ttlSeconds(expiresIn: number | undefined): number {
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : MAX_TTL_SECONDS;
}

export class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore = defaultMemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  /** The live entry under `key`, dropping it on the way if it has expired. */
  private live(key: string | undefined): Entry | undefined {
    if (key === undefined) return undefined;
    const entry = this.store.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.store.now()) {
      removeEntry(this.store, key, entry);
      return undefined;
    }
    return entry;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const previous = this.store.entries.get(key);
    if (previous) removeEntry(this.store, key, previous);

    // A copy, so neither the caller nor a reader can change what is stored (as with Redis).
    const entry: Entry = {
      payload: structuredClone(payload),
      expiresAt: this.store.now() + ttlSeconds(expiresIn) * 1000,
      model: this.model,
    };
    this.store.entries.set(key, entry);

    const { uid, userCode, grantId } = payload;
    if (this.model === 'Session' && typeof uid === 'string') {
      this.store.uids.set(`${this.model}:${uid}`, key);
    }
    if (typeof userCode === 'string') this.store.userCodes.set(`${this.model}:${userCode}`, key);
    if (GRANTABLE_MODELS.has(this.model) && typeof grantId === 'string') {
      const members = this.store.grants.get(grantId) ?? new Set<string>();
      members.add(key);
      this.store.grants.set(grantId, members);
    }
    ensureSweeper(this.store);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.live(this.key(id));
    return entry && structuredClone(entry.payload);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const entry = this.live(this.store.uids.get(`${this.model}:${uid}`));
    return entry && structuredClone(entry.payload);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const entry = this.live(this.store.userCodes.get(`${this.model}:${userCode}`));
    return entry && structuredClone(entry.payload);
  }

  async consume(id: string): Promise<void> {
    const entry = this.live(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(this.store.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    const key = this.key(id);
    const entry = this.store.entries.get(key);
    if (entry) removeEntry(this.store, key, entry);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = this.store.grants.get(grantId);
    if (!members) return;
    for (const key of [...members]) {
      const entry = this.store.entries.get(key);
      if (entry) removeEntry(this.store, key, entry);
    }
    this.store.grants.delete(grantId);
  }
}
