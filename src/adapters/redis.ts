import type { Redis } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';

import {
  ACCOUNT_INDEXED_MODELS,
  GRANTABLE_MODELS,
  MAX_TTL_SECONDS,
  alreadyConsumed,
  grantOf,
  notFound,
  type AccountEntries,
  type StoreAdapter,
} from './common.js';

export const DEFAULT_KEY_PREFIX = 'iam:oidc:';

// Stores an entry with its lookups in one step. KEYS: 1 the entry, 2 the revocation mark of
// its grant, 3 the uid lookup, 4 the user-code lookup, 5 the grant's member set, 6 the
// account's entries; ARGV: 1 payload, 2 ttl, 3 the entry's id, 4 its `Model:id`, 5 which of
// KEYS[2..6] apply ('1'/'0' each; unused ones repeat KEYS[1]). An entry of a revoked grant
// is not stored: that is how a token issued by a request already under way when its grant was
// revoked never comes to exist. The sets' TTLs are stretched to outlive their longest member
// (TTL is -1 on a set just created, so the first member always sets it). The account's
// entries are a sorted set scored by expiry, so members that expired or were destroyed fall
// out on the next write instead of piling up for an account that stays active.
const UPSERT = `
local function uses(key) return string.sub(ARGV[5], key - 1, key - 1) == '1' end
if uses(2) and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
if uses(3) then redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl) end
if uses(4) then redis.call('SET', KEYS[4], ARGV[3], 'EX', ttl) end
if uses(5) then
  redis.call('SADD', KEYS[5], KEYS[1])
  if redis.call('TTL', KEYS[5]) < ttl then redis.call('EXPIRE', KEYS[5], ttl) end
end
if uses(6) then
  local now = tonumber(redis.call('TIME')[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  redis.call('ZADD', KEYS[6], now + ttl, ARGV[4])
  if redis.call('TTL', KEYS[6]) < ttl then redis.call('EXPIRE', KEYS[6], ttl) end
end
return 1`;

// Check-and-set in one step: 0 when there is no such entry, 1 when this call consumed it,
// else the payload of an entry consumed before (a replay). HSET alone would recreate an
// expired or destroyed entry without a TTL.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return redis.call('HGET', KEYS[1], 'payload')`;

// One script, so a token saved while the grant is being revoked cannot slip through.
const REVOKE_GRANT_MEMBERS = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])`;

// The members, the Grant entry and the mark that keeps both from being saved again.
// KEYS: 1 member set, 2 Grant entry, 3 revocation mark; ARGV: 1 the mark's TTL.
const REVOKE_GRANT = `${REVOKE_GRANT_MEMBERS}
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])`;

type Script = (...keysThenArgs: Array<string | number>) => Promise<unknown>;
interface Scripts {
  iamUpsert: Script;
  iamConsume: Script;
  iamRevokeGrantMembers: Script;
  iamRevokeGrant: Script;
}

const SCRIPTED = new WeakSet<Redis>();

/**
 * The scripts as commands of the client: ioredis then sends EVALSHA (the script's text only
 * when Redis does not know it yet) instead of the whole text, for Redis to hash, on every call.
 */
function scripts(client: Redis): Scripts {
  if (!SCRIPTED.has(client)) {
    client.defineCommand('iamUpsert', { numberOfKeys: 6, lua: UPSERT });
    client.defineCommand('iamConsume', { numberOfKeys: 1, lua: CONSUME });
    client.defineCommand('iamRevokeGrantMembers', { numberOfKeys: 1, lua: REVOKE_GRANT_MEMBERS });
    client.defineCommand('iamRevokeGrant', { numberOfKeys: 3, lua: REVOKE_GRANT });
    SCRIPTED.add(client);
  }
  return client as unknown as Scripts;
}

function ttlSeconds(expiresIn: number | undefined): number {
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn)) return MAX_TTL_SECONDS;
  // EX refuses 0 and fractions.
  return Math.max(1, Math.ceil(expiresIn));
}

/**
 * An entry is a hash: `payload` holds the JSON the provider gave, `consumed` the epoch
 * seconds of consume(). Keeping `consumed` apart lets consume() be a single HSETNX instead
 * of a read-modify-write of the JSON.
 */
export class RedisAdapter implements StoreAdapter {
  private readonly scripts: Scripts;

  constructor(
    private readonly model: string,
    private readonly client: Redis,
    private readonly prefix: string = DEFAULT_KEY_PREFIX,
  ) {
    this.scripts = scripts(client);
  }

  key(id: string): string {
    return this.keyOf(this.model, id);
  }

  private keyOf(model: string, id: string): string {
    return `${this.prefix}${model}:${id}`;
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

  private revokedGrantKey(grantId: string): string {
    return `${this.prefix}revoked-grant:${grantId}`;
  }

  private accountKey(accountId: string): string {
    return `${this.prefix}account-entries:${accountId}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const { uid, userCode, accountId } = payload;
    const grantId = grantOf(this.model, id, payload);
    // [applies, key] for KEYS[2..6] of UPSERT
    const slots: Array<[boolean, string | undefined]> = [
      [grantId !== undefined, grantId && this.revokedGrantKey(grantId)],
      [this.model === 'Session' && typeof uid === 'string', typeof uid === 'string' ? this.uidKey(uid) : undefined],
      [typeof userCode === 'string', typeof userCode === 'string' ? this.userCodeKey(userCode) : undefined],
      [GRANTABLE_MODELS.has(this.model) && grantId !== undefined, grantId && this.grantKey(grantId)],
      [ACCOUNT_INDEXED_MODELS.has(this.model) && typeof accountId === 'string', typeof accountId === 'string' ? this.accountKey(accountId) : undefined],
    ];
    await this.scripts.iamUpsert(
      key,
      ...slots.map(([applies, slotKey]) => (applies && slotKey) || key),
      JSON.stringify(payload),
      ttlSeconds(expiresIn),
      id,
      `${this.model}:${id}`,
      slots.map(([applies, slotKey]) => (applies && slotKey ? '1' : '0')).join(''),
    );
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

  /**
   * The first call marks the entry consumed; any later one is a replay, which revokes the
   * whole grant (as lib/helpers/grant_source.js does) and fails with invalid_grant.
   */
  async consume(id: string): Promise<void> {
    const outcome = await this.scripts.iamConsume(this.key(id), Math.floor(Date.now() / 1000));
    if (outcome === 1) return;
    if (outcome === 0) throw notFound(this.model);
    const { grantId } = JSON.parse(String(outcome)) as AdapterPayload;
    if (typeof grantId === 'string') await this.revokeGrant(grantId);
    throw alreadyConsumed(this.model);
  }

  async destroy(id: string): Promise<void> {
    await this.client.del(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.scripts.iamRevokeGrantMembers(this.grantKey(grantId));
  }

  async revokeGrant(grantId: string): Promise<void> {
    await this.scripts.iamRevokeGrant(
      this.grantKey(grantId),
      this.keyOf('Grant', grantId),
      this.revokedGrantKey(grantId),
      MAX_TTL_SECONDS,
    );
  }

  async idsForAccount(accountId: string): Promise<AccountEntries> {
    const members = await this.client.zrangebyscore(this.accountKey(accountId), Math.floor(Date.now() / 1000), '+inf');
    const found: AccountEntries = { sessions: [], grants: [] };
    if (members.length === 0) return found;
    // Destroyed entries (a logout, a revoked grant) stay members until their expiry.
    const pipeline = this.client.pipeline();
    for (const member of members) pipeline.exists(`${this.prefix}${member}`);
    const results = (await pipeline.exec()) ?? [];
    members.forEach((member, i) => {
      const [error, exists] = results[i] ?? [];
      if (error) throw error;
      if (exists !== 1) return;
      const separator = member.indexOf(':');
      const model = member.slice(0, separator);
      const id = member.slice(separator + 1);
      if (model === 'Session') found.sessions.push(id);
      else if (model === 'Grant') found.grants.push(id);
    });
    return found;
  }
}
