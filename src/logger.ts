import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Structured logs; credentials and tokens are redacted wherever they might be attached. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'iam-istruzione' },
    redact: {
      paths: ['password', '*.password', 'req.headers.authorization', 'req.headers.cookie', 'client_secret', '*.client_secret'],
      censor: '[redacted]',
    },
  });
}
