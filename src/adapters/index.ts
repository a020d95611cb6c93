import type { RedisClient } from './redis-client.js';

import type { AccountAccessIndex, StoreAdapter } from './common.js';
import { MemoryAdapter, defaultMemoryStore, type MemoryStore } from './memory.js';
import { DEFAULT_KEY_PREFIX, RedisAdapter } from './redis.js';

export interface AdapterFactoryOptions {
  /** Given: entries live in Redis. Absent: in this process's memory store. */
  redis?: RedisClient;
  /** Redis key prefix, default 'iam:oidc:'. */
  keyPrefix?: string;
  /** Memory store to use instead of the process-wide one (tests). */
  memoryStore?: MemoryStore;
}

/**
 * The value for oidc-provider's `adapter` setting. A plain (non-async) function, which v9
 * calls once per model name (lib/helpers/initialize_adapter.js, lib/models/base_model.js).
 */
export function createAdapterFactory(options: AdapterFactoryOptions = {}): (modelName: string) => StoreAdapter {
  const { redis, keyPrefix = DEFAULT_KEY_PREFIX, memoryStore = defaultMemoryStore } = options;
  if (redis) return (modelName) => new RedisAdapter(modelName, redis, keyPrefix);
  return (modelName) => new MemoryAdapter(modelName, memoryStore);
}

/**
 * The account index and grant revocation over the same store (same options) as the
 * provider's adapters: the index is shared by every model, so any adapter serves.
 */
export function createAccountAccessIndex(options: AdapterFactoryOptions = {}): AccountAccessIndex {
  return createAdapterFactory(options)('Grant');
}

export type { AccountAccessIndex, AccountEntries, StoreAdapter } from './common.js';

export { MemoryAdapter, clearMemoryStore, createMemoryStore, defaultMemoryStore } from './memory.js';
export type { MemoryStore } from './memory.js';
export { RedisAdapter, DEFAULT_KEY_PREFIX } from './redis.js';
