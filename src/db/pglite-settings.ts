import { PGlite } from '@electric-sql/pglite';

/**
 * How the embedded PostgreSQL (PGlite) is started: its own defaults, with the memory
 * settings of one small deployment. PGlite runs PostgreSQL inside this process's
 * WebAssembly memory, which only grows: its default 128 MB of shared buffers cost about
 * 140 MB of resident memory more than these (docs/benchmarks.md). Given as start
 * parameters, so postgresql.conf in the data directory is never edited.
 */
export function pgliteStartParams(): string[] {
  const defaults = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;
  const settings = ['shared_buffers=16MB', 'temp_buffers=1MB', 'work_mem=2MB', 'maintenance_work_mem=16MB', 'wal_buffers=256kB'];
  return [...defaults, ...settings.flatMap((setting) => ['-c', setting])];
}
