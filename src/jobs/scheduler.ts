import { Cron } from 'croner';
import type { Logger } from '../logger.js';

export interface Job {
  name: string;
  run(): Promise<unknown>;
}

/** Runs every job once, one after the other, logging one line each; a failing job does not stop the others. */
export async function runJobsOnce(jobs: readonly Job[], logger: Logger): Promise<boolean> {
  let ok = true;
  for (const job of jobs) {
    try {
      logger.info({ job: job.name, result: await job.run() }, 'job done');
    } catch (error) {
      ok = false;
      logger.error({ err: error, job: job.name }, 'job failed');
    }
  }
  return ok;
}

/**
 * The jobs on a cron schedule (Europe/Rome) inside the provider process. Every instance may
 * run them: each job makes its own work happen once (notices are claimed in the database).
 * `protect` skips a tick while the previous run is still going.
 */
export function scheduleJobs(jobs: readonly Job[], schedule: string, logger: Logger): { stop(): void } {
  const cron = new Cron(schedule, { timezone: 'Europe/Rome', protect: true }, async () => {
    await runJobsOnce(jobs, logger);
  });
  return { stop: () => cron.stop() };
}
