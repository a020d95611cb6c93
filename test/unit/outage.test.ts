import { isOutage } from '../../src/http/outage.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('outage errors', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a refused connection to both addresses of a name', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { code: 'ECONNREFUSED' })],
    ['the same, code only inside', new AggregateError([withCode('ECONNREFUSED')])],
    ['PostgreSQL shutting down', withCode('57P01', 'terminating connection due to administrator command')],
    ['a PostgreSQL connection exception', withCode('08006')],
    ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['ioredis after its retries', Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' })],
    ['ioredis closed', new Error('Connection is closed.')],
    ['ioredis timed out', new Error('Command timed out')],
    ['wrapped', new Error('adapter failed', { cause: withCode('ECONNRESET') })],
  ])('%s is an outage', (_label, error) => {
    expect(isOutage(error)).toBe(true);
  });

  it.each([
    ['a constraint violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', withCode('42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('%s is not', (_label, error) => {
    expect(isOutage(error)).toBe(false);
  });
});
