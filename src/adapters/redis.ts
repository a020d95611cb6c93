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
import type { RedisClient } from './redis-client.js';

export const DEFAULT_KEY_PREFIX = 'iam:oidc:';

/*
 * Keys carry a hash tag, `{…}`: Redis Cluster places a key by its tag alone. A script may
 * only touch keys of one slot, so every script below works within one tag: an entry's own id,
 * or a grant's id (its Grant entry, member set and revocation mark), or an account's id.
 * What spans tags (an entry and its grant, its lookups, its account) is a sequence of such
 * steps, ordered so that no interleaving with a revocation leaves a live token behind.
 */

// KEYS: 1 the entry, 2 the revocation mark of the entry's own grant when the entry is a Grant,
// or the end mark of a Session (same tag), else the entry again; ARGV: 1 payload, 2 ttl.
// 0: not stored, the grant is revoked or the session ended.
const STORE = `
if KEYS[2] ~= KEYS[1] and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

// An entry joins its grant's member set unless the grant is revoked (0: the caller deletes the
// entry it has just stored). The set's TTL is stretched to outlive its longest member (TTL is
// -1 on a set just created). KEYS: 1 member set, 2 revocation mark; ARGV: 1 entry key, 2 ttl.
const JOIN_GRANT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

// The account's entries: a sorted set scored by expiry, so members that expired or were
// destroyed fall out on the next write instead of piling up for an account that stays active.
// KEYS: 1 the set; ARGV: 1 member `Model:id`, 2 ttl.
const JOIN_ACCOUNT = `
local ttl = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

// Check-and-set in one step: 0 when there is no such entry, 1 when this call consumed it,
// else the payload of an entry consumed before (a replay). HSET alone would recreate an
// expired or destroyed entry without a TTL.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return redis.call('HGET', KEYS[1], 'payload')`;

// Empties a grant's member set and returns the members for the caller to delete (each lives
// under its own tag). KEYS: 1 member set.
const TAKE_GRANT_MEMBERS = `
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`;

// Revokes a grant within its tag: the Grant entry goes and the mark keeps it and any entry of
// it from being stored again; then the caller deletes the members returned. A member left
// behind (the process stopped in between) is refused by the provider anyway: it looks up the
// Grant of every token it is shown (lib/shared/access_token.js, lib/helpers/grant_source.js).
// KEYS: 1 member set, 2 Grant entry, 3 revocation mark; ARGV: 1 the mark's TTL.
const REVOKE_GRANT = `
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])
${TAKE_GRANT_MEMBERS}`;

// Ends a session within its tag: the entry goes and the mark keeps a save under way from
// bringing it back. KEYS: 1 the Session entry, 2 its end mark; ARGV: 1 the mark's TTL.
const END_SESSION = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 1`;

type Script = (...keysThenArgs: Array<string | number>) => Promise<unknown>;
interface Scripts {
  iamStore: Script;
  iamJoinGrant: Script;
  iamJoinAccount: Script;
  iamConsume: Script;
  iamTakeGrantMembers: Script;
  iamRevokeGrant: Script;
  iamEndSession: Script;
}

const SCRIPTED = new WeakSet<RedisClient>();

/**
 * The scripts as commands of the client: ioredis then sends EVALSHA (the script's text only
 * when Redis does not know it yet) instead of the whole text, for Redis to hash, on every call.
 */
function scripts(client: RedisClient): Scripts {
  if (!SCRIPTED.has(client)) {
    client.defineCommand('iamStore', { numberOfKeys: 2, lua: STORE });
    client.defineCommand('iamJoinGrant', { numberOfKeys: 2, lua: JOIN_GRANT });
    client.defineCommand('iamJoinAccount', { numberOfKeys: 1, lua: JOIN_ACCOUNT });
    client.defineCommand('iamConsume', { numberOfKeys: 1, lua: CONSUME });
    client.defineCommand('iamTakeGrantMembers', { numberOfKeys: 1, lua: TAKE_GRANT_MEMBERS });
    client.defineCommand('iamRevokeGrant', { numberOfKeys: 3, lua: REVOKE_GRANT });
    client.defineCommand('iamEndSession', { numberOfKeys: 2, lua: END_SESSION });
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
    private readonly client: RedisClient,
    private readonly prefix: string = DEFAULT_KEY_PREFIX,
  ) {
    if (prefix.includes('{')) throw new Error(`the Redis key prefix must not contain a hash tag: ${prefix}`);
    this.scripts = scripts(client);
  }

  key(id: string): string {
    return this.keyOf(this.model, id);
  }

  private keyOf(model: string, id: string): string {
    return `${this.prefix}${model}:{${id}}`;
  }

  private uidKey(uid: string): string {
    return `${this.prefix}index:uid:${this.model}:{${uid}}`;
  }

  private userCodeKey(userCode: string): string {
    return `${this.prefix}index:user-code:${this.model}:{${userCode}}`;
  }

  private grantKey(grantId: string): string {
    return `${this.prefix}grant-members:{${grantId}}`;
  }

  private revokedGrantKey(grantId: string): string {
    return `${this.prefix}revoked-grant:{${grantId}}`;
  }

  private endedSessionKey(sessionId: string): string {
    return `${this.prefix}ended-session:{${sessionId}}`;
  }

  private accountKey(accountId: string): string {
    return `${this.prefix}account-entries:{${accountId}}`;
  }

  /**
   * The entry, then its place in its grant; its lookups meanwhile. A lookup or an account
   * member whose entry is missing is harmless (both are checked against the entry). An entry
   * of a revoked grant is not kept: that is how a token issued by a request already under way
   * when its grant was revoked never comes to exist. Stored before it joins the set, it is
   * either in the set when the revocation empties it, or it finds the mark and goes.
   */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const ttl = ttlSeconds(expiresIn);
    const { uid, userCode, accountId } = payload;
    const grantId = grantOf(this.model, id, payload);
    const storeAndJoin = async () => {
      const ownMark = this.model === 'Grant' && grantId !== undefined ? this.revokedGrantKey(grantId)
        : this.model === 'Session' ? this.endedSessionKey(id) : key;
      if ((await this.scripts.iamStore(key, ownMark, JSON.stringify(payload), ttl)) === 0) return;
      if (grantId === undefined || !GRANTABLE_MODELS.has(this.model)) return;
      if ((await this.scripts.iamJoinGrant(this.grantKey(grantId), this.revokedGrantKey(grantId), key, ttl)) === 0) {
        await this.client.del(key);
      }
    };
    await Promise.all([
      storeAndJoin(),
      this.model === 'Session' && typeof uid === 'string' && this.client.set(this.uidKey(uid), id, 'EX', ttl),
      typeof userCode === 'string' && this.client.set(this.userCodeKey(userCode), id, 'EX', ttl),
      ACCOUNT_INDEXED_MODELS.has(this.model) && typeof accountId === 'string'
        && this.scripts.iamJoinAccount(this.accountKey(accountId), `${this.model}:${id}`, ttl),
    ]);
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
    await this.deleteEntries(await this.scripts.iamTakeGrantMembers(this.grantKey(grantId)));
  }

  async revokeGrant(grantId: string): Promise<void> {
    const members = await this.scripts.iamRevokeGrant(
      this.grantKey(grantId),
      this.keyOf('Grant', grantId),
      this.revokedGrantKey(grantId),
      MAX_TTL_SECONDS,
    );
    await this.deleteEntries(members);
  }

  async endSession(sessionId: string): Promise<void> {
    await this.scripts.iamEndSession(this.keyOf('Session', sessionId), this.endedSessionKey(sessionId), MAX_TTL_SECONDS);
  }

  /** One DEL per key: in a cluster, the keys of one command must share a slot. */
  private async deleteEntries(keys: unknown): Promise<void> {
    await Promise.all((keys as string[]).map((key) => this.client.del(key)));
  }

  async idsForAccount(accountId: string): Promise<AccountEntries> {
    const members = await this.client.zrangebyscore(this.accountKey(accountId), Math.floor(Date.now() / 1000), '+inf');
    const found: AccountEntries = { sessions: [], grants: [] };
    if (members.length === 0) return found;
    const entries = members.map((member) => {
      const separator = member.indexOf(':');
      return { model: member.slice(0, separator), id: member.slice(separator + 1) };
    });
    // Destroyed entries (a logout, a revoked grant) stay members until their expiry.
    const live = await Promise.all(entries.map(({ model, id }) => this.client.exists(this.keyOf(model, id))));
    entries.forEach(({ model, id }, i) => {
      if (live[i] !== 1) return;
      if (model === 'Session') found.sessions.push(id);
      else if (model === 'Grant') found.grants.push(id);
    });
    return found;
  }
}
