import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** One Redis server (with or without replicas behind a proxy), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** redis:// or rediss:// URLs: one server, or seed nodes of a cluster */
  urls: readonly string[];
  cluster: boolean;
}

// While Redis is away a command fails within about a second (the request gets 503); the
// client keeps reconnecting, every 200 ms to 1 s, and carries on once it is back.
const FAIL_FAST: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 1000,
};
const reconnectDelay = (times: number) => Math.min(times * 200, 1000);

/**
 * A client not yet connected. For a cluster, the seeds' credentials and TLS apply to every
 * node the cluster names; the slot map is refreshed when a node answers MOVED, so a
 * resharding or a failover needs no restart.
 */
export function createRedisClient(target: RedisTarget): RedisClient {
  if (!target.cluster) {
    return new Redis(target.urls[0]!, { ...FAIL_FAST, lazyConnect: true, retryStrategy: reconnectDelay });
  }
  const seeds = target.urls.map((url) => new URL(url));
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      lazyConnect: true,
      clusterRetryStrategy: reconnectDelay,
      // a command sent while the slot map is being refreshed waits for it, not forever
      maxRedirections: 4,
      retryDelayOnFailover: 100,
      slotsRefreshTimeout: 1000,
      redisOptions: {
        ...FAIL_FAST,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}
