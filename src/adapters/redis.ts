import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';

import { GRANTABLE_MODELS, MAX_TTL_SECONDS } from './memory.js';

export const DEFAULT_KEY_PREFIX = 'iam:oidc:';

// Adds an entry key to its grant's set and stretches the set's TTL to outlive its longest
// member (TTL is -1 on a set just created, so the first member always sets it).
const ADD_TO_GRANT = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end`;

// HSET alone would recreate an expired or destroyed entry without a TTL.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'consumed', ARGV[1])
end`;

// One script, so a token saved while the grant is being revoked cannot slip through.
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])`;

function ttlSeconds(expiresIn: number | undefined): number {
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn)) return MAX_TTL_SECONDS;
  // EX refuses 0 and fractions.
  return Math.max(1, Math.ceil(expiresIn));
}

/**
 * An entry is a hash: `payload` holds the JSON the provider gave, `consumed` the epoch
 * seconds of consume(). Keeping `consumed` apart lets consume() be a single HSET instead of
 * a read-modify-write of the JSON.
 */
export class RedisAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly client: Redis,
    private readonly prefix: string = DEFAULT_KEY_PREFIX,
  ) {}

  key(id: string): string {
    return `${this.prefix}${this.model}:${id}`;
  }

  private uidKey(uid: string): string {
    return `${this.prefix}index:uid:${this.model}:${uid}`;
  }

  private userCodeKey(userCode: string): string {
    return `${this.prefix}index:user-code:${this.model}:${userCode}`;
  }

  private grantKey(grantId: string): string {
    return `${this.prefix}grant-members:${grantId}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const ttl = ttlSeconds(expiresIn);
    // DEL first: a fresh payload must not inherit the `consumed` field of the one it replaces.
    const multi = this.client.multi()
      .del(key)
      .hset(key, 'payload', JSON.stringify(payload))
      .expire(key, ttl);

    const { uid, userCode, grantId } = payload;
    if (this.model === 'Session' && typeof uid === 'string') {
      multi.set(this.uidKey(uid), id, 'EX', ttl);
    }
    if (typeof userCode === 'string') multi.set(this.userCodeKey(userCode), id, 'EX', ttl);
    if (GRANTABLE_MODELS.has(this.model) && typeof grantId === 'string') {
      multi.eval(ADD_TO_GRANT, 1, this.grantKey(grantId), key, ttl);
    }
    await execOrThrow(multi);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [json, consumed] = await this.client.hmget(this.key(id), 'payload', 'consumed');
    if (!json) return undefined;
    const payload = JSON.parse(json) as AdapterPayload;
    if (consumed) payload.consumed = Number(consumed);
    return payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findByIndex(this.uidKey(uid), (payload) => payload.uid === uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findByIndex(this.userCodeKey(userCode), (payload) => payload.userCode === userCode);
  }

  /** Index keys are not cleaned on destroy; checking the payload makes a stale one harmless. */
  private async findByIndex(
    indexKey: string,
    matches: (payload: AdapterPayload) => boolean,
  ): Promise<AdapterPayload | undefined> {
    const id = await this.client.get(indexKey);
    if (!id) return undefined;
    const payload = await this.find(id);
    return payload && matches(payload) ? payload : undefined;
  }

  async consume(id: string): Promise<void> {
    await this.client.eval(CONSUME, 1, this.key(id), Math.floor(Date.now() / 1000));
  }

  async destroy(id: string): Promise<void> {
    await this.client.del(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.client.eval(REVOKE_GRANT, 1, this.grantKey(grantId));
  }
}

/** EXEC reports a failed command in its result list rather than rejecting. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<void> {
  const results = await multi.exec();
  if (results === null) throw new Error('Redis transaction aborted');
  for (const [error] of results) {
    if (error) throw error;
  }
}
