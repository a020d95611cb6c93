/**
 * Whether an error means a store (PostgreSQL, Redis) cannot be reached right now, rather
 * than a fault of the request or of the code: such a request gets 503 and a Retry-After,
 * and works again as soon as the store is back (pg's pool and ioredis reconnect by
 * themselves). Looks through `cause` and AggregateError's list (a refused connection to
 * a name with two addresses).
 */
export function isOutage(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const { code, name, message, cause, errors } = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08'))) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message === 'string' && OUTAGE_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isOutage(e, depth + 1))) return true;
  return isOutage(cause, depth + 1);
}

/** Seconds a client is asked to wait before trying again during an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 10;

// socket errors; PostgreSQL: 08xxx connection exceptions, 57P01-03 shutting down or starting, 53300 too many connections
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

// pg: a pool that cannot connect or lost its connection; ioredis: offline, closed or timed out
const OUTAGE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Connection is closed|Command timed out|Stream isn't writeable|Client has encountered a connection error|Connection ended)/;
