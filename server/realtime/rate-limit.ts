const clock = () => performance.now();

/**
 * A token bucket: `ratePerSec` tokens a second, at most `burst` saved up. In process, one per socket
 * (a socket lives on one process, so there is nothing to share). A class: with tens of thousands of
 * sockets, methods on the prototype cost nothing per socket where closures would.
 */
class TokenBucket {
  private readonly ratePerSec: number;
  private readonly burst: number;
  protected readonly now: () => number;
  private tokens: number;
  private at: number;
  constructor(ratePerSec: number, burst: number, now: () => number) {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.at = now();
  }

  /** Take one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.ratePerSec);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export function createTokenBucket(opts: { ratePerSec: number; burst: number; now?: () => number }): TokenBucket {
  return new TokenBucket(opts.ratePerSec, opts.burst, opts.now ?? clock);
}

export type SocketRateLimit = { ratePerSec: number; burst: number; /** rejected events tolerated before disconnecting */ maxRejected: number };

export const SOCKET_RATE_LIMIT: SocketRateLimit = { ratePerSec: 20, burst: 40, maxRejected: 40 };

/**
 * Per-socket event limiter: `allow()` false means "answer rate_limited"; `shouldDisconnect()` true once a
 * socket has kept flooding (more than `maxRejected` rejected events without a calm second in between).
 */
export class SocketLimiter extends TokenBucket {
  private readonly maxRejected: number;
  private rejectedCount = 0;
  private lastRejectAt = -Infinity;
  constructor(limit: SocketRateLimit, now: () => number) {
    super(limit.ratePerSec, limit.burst, now);
    this.maxRejected = limit.maxRejected;
  }

  allow(): boolean {
    if (this.take()) {
      if (this.now() - this.lastRejectAt > 1000) this.rejectedCount = 0;
      return true;
    }
    this.rejectedCount++;
    this.lastRejectAt = this.now();
    return false;
  }

  rejected(): number {
    return this.rejectedCount;
  }

  shouldDisconnect(): boolean {
    return this.rejectedCount > this.maxRejected;
  }
}

export function createSocketLimiter(limit: SocketRateLimit = SOCKET_RATE_LIMIT, now: () => number = clock): SocketLimiter {
  return new SocketLimiter(limit, now);
}
