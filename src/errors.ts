import type { MessageKey, Vars } from './i18n/index.js';

/**
 * A failure a person can understand: `code` is a catalogue key, resolved in the
 * user's language where the response is rendered, never in domain code.
 */
export class DomainError extends Error {
  readonly status: number;
  readonly vars: Vars;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: MessageKey,
    options: { status?: number; vars?: Vars; retryAfterSeconds?: number } = {},
  ) {
    super(code);
    this.name = 'DomainError';
    this.status = options.status ?? 400;
    this.vars = options.vars ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
