import { describe, it, expect } from 'vitest';
import { createSocketLimiter, createTokenBucket } from '../../server/realtime/rate-limit.ts';

describe('socket event rate limit (token bucket)', () => {
  it('when a socket sends its burst at once, then exactly the burst passes and the next event is refused', () => {
    let t = 0;
    const b = createTokenBucket({ ratePerSec: 20, burst: 40, now: () => t });
    let ok = 0;
    for (let i = 0; i < 100; i++) if (b.take()) ok++;
    expect(ok).toBe(40);
    t += 50; // 50 ms at 20/s = one token
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });

  it('when a socket sends steadily at 20 events/s, then none is refused; at 25/s, then refusals start once the burst is spent', () => {
    for (const [rate, expectRefused] of [[20, false], [25, true]] as const) {
      let t = 0;
      const l = createSocketLimiter({ ratePerSec: 20, burst: 40, maxRejected: 40 }, () => t);
      let refused = 0;
      for (let i = 0; i < rate * 20; i++) {
        t += 1000 / rate;
        if (!l.allow()) refused++;
      }
      expect(refused > 0, `rate ${rate}/s refused ${refused}`).toBe(expectRefused);
    }
  });

  it('when refusals pile up past maxRejected without a calm second, then shouldDisconnect; a calm second resets the count', () => {
    let t = 0;
    const l = createSocketLimiter({ ratePerSec: 20, burst: 40, maxRejected: 5 }, () => t);
    for (let i = 0; i < 40; i++) l.allow();
    for (let i = 0; i < 5; i++) expect(l.allow()).toBe(false);
    expect(l.shouldDisconnect()).toBe(false);
    t += 2000; // calm
    expect(l.allow()).toBe(true);
    expect(l.rejected()).toBe(0);
    for (let i = 0; i < 100; i++) l.allow();
    expect(l.shouldDisconnect()).toBe(true);
  });
});
