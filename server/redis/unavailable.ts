/**
 * Whether an error means "Redis cannot serve this now" (down, restarting, failing over, loading its AOF,
 * too slow, or a ballot not yet on enough replicas) rather than a bug. Such errors become
 * 503 `unavailable` with Retry-After: the client may simply try again.
 * Matched by name and message: ioredis and redis-errors raise plain Error subclasses.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)$/.test(code)) return true;
  return (
    /^(Command timed out|Connection is closed|Stream isn't writeable|All sentinels are unreachable|Reached the max retries per request limit)/.test(err.message) ||
    // reply errors: a replica or an old master after failover, an AOF being loaded, no quorum of replicas
    /^(READONLY|LOADING|MASTERDOWN|NOREPLICAS|TRYAGAIN|CLUSTERDOWN) /.test(err.message)
  );
}

/** Seconds a client should wait before retrying a request refused with 503 `unavailable`. */
export const RETRY_AFTER_SECONDS = 1;
