import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Db } from './index.js';

/**
 * PostgreSQL's LISTEN: a channel's NOTIFY payloads, and whether they are being heard (a
 * listener that lost its connection has missed some; it says so, and reconnects). Stopping
 * says nothing: whoever stops knows.
 */
export interface Notifications {
  listen(channel: string, onMessage: (payload: string) => void, onHearing: (hearing: boolean) => void): Promise<() => Promise<void>>;
}

const registry = new WeakMap<Db, Notifications>();

export const registerNotifications = (db: Db, notifications: Notifications): void => void registry.set(db, notifications);

/** The notifications of a database made by createDatabase (none for another Kysely). */
export const notificationsOf = (db: Db): Notifications | undefined => registry.get(db);

const CHANNEL = /^[a-z_]+$/;

/** PGlite: one process, one connection; NOTIFY reaches the listeners at commit. */
export function pgliteNotifications(pglite: PGlite): Notifications {
  return {
    async listen(channel, onMessage, onHearing) {
      const unlisten = await pglite.listen(channel, onMessage);
      onHearing(true);
      return async () => {
        await unlisten().catch(() => undefined);
      };
    },
  };
}

/** PostgreSQL: a connection of its own, outside the pool, reconnected with backoff when it drops. */
export function postgresNotifications(connectionString: string): Notifications {
  return {
    async listen(channel, onMessage, onHearing) {
      if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
      let current: pg.Client | undefined;
      let retry: NodeJS.Timeout | undefined;
      let delayMs = 500;
      let stopped = false;

      const lost = (client: pg.Client) => {
        if (current !== client) return;
        current = undefined;
        onHearing(false);
        client.end().catch(() => undefined);
        if (stopped) return;
        retry = setTimeout(() => void connect(), delayMs);
        retry.unref();
        delayMs = Math.min(delayMs * 2, 5_000);
      };

      async function connect(): Promise<void> {
        retry = undefined;
        const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
        current = client;
        client.on('error', () => lost(client));
        client.on('end', () => lost(client));
        client.on('notification', (message) => {
          if (message.channel === channel) onMessage(message.payload ?? '');
        });
        try {
          await client.connect();
          await client.query(`LISTEN ${channel}`);
        } catch {
          return lost(client);
        }
        if (stopped || current !== client) return;
        delayMs = 500;
        onHearing(true);
      }

      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        const client = current;
        current = undefined;
        await client?.end().catch(() => undefined);
      };
    },
  };
}
