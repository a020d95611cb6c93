import type { Logger } from '../logger.js';
import type { Mailer } from './transport.js';
import type { MailContent, RenderMail } from './templates.js';

export interface OutgoingMailQueue {
  /**
   * Renders and sends after the current request has answered: a page must not take longer,
   * or fail, because a message went out (or did not). Failures are logged without the
   * address or the content, which may hold a link's secret.
   */
  send(to: string, content: MailContent, meta: { template: string; requestId?: string }): void;
  /** Waits for the messages under way (a clean stop, tests). */
  drain(): Promise<void>;
}

export function createOutgoingMailQueue(deps: { mailer: Mailer; render: RenderMail; logger: Logger }): OutgoingMailQueue {
  const pending = new Set<Promise<void>>();
  const log = deps.logger.child({ component: 'mail' });
  return {
    send(to, content, meta) {
      const job = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => deps.render(content))
        .then((rendered) => deps.mailer.send({ to, ...rendered }))
        .then(
          () => log.debug({ template: meta.template, requestId: meta.requestId }, 'mail sent'),
          (error: unknown) => log.error({ template: meta.template, requestId: meta.requestId, error: errorSummary(error) }, 'mail not sent'),
        );
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
    async drain() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

// not the error object: an SMTP error can carry the message it refused
function errorSummary(error: unknown): string {
  const e = error as { code?: string; responseCode?: number; message?: string };
  return [e.code, e.responseCode].filter(Boolean).join(' ') || 'error';
}
