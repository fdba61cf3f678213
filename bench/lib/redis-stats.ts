import type { Redis } from 'ioredis';

export type CommandStats = Record<string, number>;

/** `INFO commandstats` → calls per command (lower-case; `evalsha`, `hincrby`, …). */
export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const out: CommandStats = {};
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Commands issued from inside Lua scripts are counted too by INFO; these are the top-level ones only. */
export function topLevelCalls(stats: CommandStats, scriptInner: Set<string>): { total: number; byCommand: CommandStats } {
  const byCommand: CommandStats = {};
  let total = 0;
  for (const [cmd, n] of Object.entries(stats)) {
    if (cmd === 'config' || cmd === 'info') continue;
    if (scriptInner.has(cmd)) continue;
    byCommand[cmd] = n;
    total += n;
  }
  return { total, byCommand };
}
