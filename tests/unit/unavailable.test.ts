import { describe, it, expect } from 'vitest';
import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { toAppError, ackError, AppError } from '../../server/errors.ts';

// The errors ioredis raises while Redis is away, as it raises them (the live versions are produced by the
// fault tests: tests/faults/fail-fast.test.ts, supervisor.test.ts, sentinel.test.ts).
const outages: [string, Error][] = [
  ['a request flushed when the connection dropped', new MaxRetriesPerRequestError(0)],
  ['a command refused while disconnected', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
  ['a command with no answer in time', new Error('Command timed out')],
  ['a connection closed under a command', new Error('Connection is closed.')],
  ['a write to an old master after failover', new ReplyError("READONLY You can't write against a read only replica.")],
  ['a Redis still loading its AOF', new ReplyError('LOADING Redis is loading the dataset in memory')],
  ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
];

// PostgreSQL's, as pg raises them (live: tests/faults/city-postgres-kill.test.ts, supervisor.test.ts)
const dbOutages: [string, Error][] = [
  ['the database terminated the connection (admin shutdown, 57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['the database is starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
  ['the pool cannot connect in time', new Error('timeout exceeded when trying to connect')],
  ['a connection ended under a query', new Error('Connection terminated unexpectedly')],
];

describe('Redis and PostgreSQL outages as API errors', () => {
  it.each([...outages, ...dbOutages])('when %s, then the answer is 503 unavailable with Retry-After: 1, over HTTP and in a socket ack', (_what, err) => {
    const e = toAppError(err);
    expect(e.status).toBe(503);
    expect(e.code).toBe('unavailable');
    expect(e.headers['retry-after']).toBe('1');
    expect(ackError(err)).toEqual({ ok: false, error: { code: 'unavailable', message: e.message, details: null } });
  });

  it('when the error is a bug (a script error, a type error), then it stays 500 internal', () => {
    expect(toAppError(new ReplyError('ERR Error running script (call to f_x): user_script:1: oops')).code).toBe('internal');
    expect(toAppError(new TypeError("Cannot read properties of undefined (reading 'x')")).code).toBe('internal');
    expect(toAppError(new AppError('not_found', 'No such poll')).code).toBe('not_found');
    expect(toAppError(Object.assign(new Error('syntax error at or near "x"'), { code: '42601' })).code).toBe('internal');
  });
});
