/**
 * Does this error mean "the database cannot be reached right now" (so the API answers 503 `unavailable`,
 * never 500)? Connection refused/reset/timeouts of the pool, and the server's own shutdown and
 * connection-class SQLSTATEs (08xxx, 57P01..57P03).
 */
export function isDbUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery)/i.test(msg);
}

/** Unique violation (23505): a concurrent insert of the same key won. */
export const isUniqueViolation = (err: unknown) => (err as { code?: unknown })?.code === '23505';
/** Serialization failure / deadlock: the transaction lost a race and may be retried. */
export const isSerializationFailure = (err: unknown) => ['40001', '40P01'].includes(String((err as { code?: unknown })?.code));
