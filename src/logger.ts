import { pino, stdSerializers, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Fields that never reach a log line in clear, at the top level or one level down. (Not
 * `code`: errors carry theirs, ECONNREFUSED and the like; no log call passes a one-time code.)
 */
const SECRET_FIELDS = [
  'password', 'newPassword', 'currentPassword', 'token', 'otp', 'secret',
  'client_secret', 'access_token', 'refresh_token', 'id_token', 'cookie', 'authorization',
  'fiscalCode', 'fiscal_code', 'codiceFiscale', 'cf',
];

/** A codice fiscale as PostgreSQL may quote it in an error's detail ("Key (fiscal_code)=(…)"). */
const FISCAL_CODE = /\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b/gi;

const maskFiscalCodes = (text: unknown) => (typeof text === 'string' ? text.replace(FISCAL_CODE, '[cf]') : text);

/** Errors as pino serializes them, with any codice fiscale in their text masked. */
function errorWithoutFiscalCodes(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = stdSerializers.err(error);
  for (const field of ['message', 'detail', 'stack'] as const) {
    if (field in serialized) (serialized as Record<string, unknown>)[field] = maskFiscalCodes((serialized as Record<string, unknown>)[field]);
  }
  return serialized;
}

/** Structured logs; credentials, tokens, codes and codici fiscali are kept out of them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'iam-istruzione' },
      serializers: { err: errorWithoutFiscalCodes },
      redact: {
        paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`), 'req.headers.authorization', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
