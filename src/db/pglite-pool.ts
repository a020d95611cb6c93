import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Presents one PGlite instance as the pool Kysely's PostgresDialect expects.
 * PGlite is a single connection, so a client is handed out to one caller at a
 * time; without this queue two transactions would interleave on it.
 */
export function pglitePool(pglite: PGlite): PostgresPool {
  let queue: Promise<void> = Promise.resolve();

  async function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    const result = await pglite.query<R>(sql, parameters as unknown[]);
    const command = sql.trimStart().slice(0, 6).toUpperCase() as PostgresQueryResult<R>['command'];
    return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
  }
  // Kysely only streams through cursors, which we never use.
  const client = { query, release() {} } as unknown as PostgresPoolClient;

  return {
    connect() {
      let release!: () => void;
      const turn = new Promise<void>((resolveTurn) => (release = resolveTurn));
      const previous = queue;
      queue = previous.then(() => turn);
      return previous.then(() => ({ ...client, release }));
    },
    async end() {
      await queue;
      await pglite.close();
    },
  };
}
