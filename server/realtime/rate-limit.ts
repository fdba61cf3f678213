/**
 * A token bucket: `ratePerSec` tokens a second, at most `burst` saved up. In process, one per socket
 * (a socket lives on one process, so there is nothing to share).
 */
export function createTokenBucket(opts: { ratePerSec: number; burst: number; now?: () => number }) {
  const now = opts.now ?? (() => performance.now());
  let tokens = opts.burst;
  let at = now();
  return {
    /** Take one token; false when the bucket is empty. */
    take(): boolean {
      const t = now();
      tokens = Math.min(opts.burst, tokens + ((t - at) / 1000) * opts.ratePerSec);
      at = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

export type SocketRateLimit = { ratePerSec: number; burst: number; /** rejected events tolerated before disconnecting */ maxRejected: number };

export const SOCKET_RATE_LIMIT: SocketRateLimit = { ratePerSec: 20, burst: 40, maxRejected: 40 };

/**
 * Per-socket event limiter: `allow()` false means "answer rate_limited"; `shouldDisconnect()` true once a
 * socket has kept flooding (more than `maxRejected` rejected events without a calm second in between).
 */
export function createSocketLimiter(limit: SocketRateLimit = SOCKET_RATE_LIMIT, now: () => number = () => performance.now()) {
  const bucket = createTokenBucket({ ratePerSec: limit.ratePerSec, burst: limit.burst, now });
  let rejected = 0;
  let lastRejectAt = -Infinity;
  return {
    allow(): boolean {
      if (bucket.take()) {
        if (now() - lastRejectAt > 1000) rejected = 0;
        return true;
      }
      rejected++;
      lastRejectAt = now();
      return false;
    },
    rejected: () => rejected,
    shouldDisconnect: () => rejected > limit.maxRejected,
  };
}
