/**
 * The only place Redis key names are built. Everything of one poll shares one hash tag
 * (`{p:<id>}` or, for a sharded poll, `{p:<id>.s<k>}`) so each Lua step stays on one Cluster slot.
 * Domain stores add their keys here, in their own section.
 */
export function createKeys(prefix: string) {
  const p = prefix;
  return {
    prefix: p,
    // ---- identity (users, sessions, otp) ----
    userSeq: () => `${p}user:seq`,
    user: (id: number) => `${p}user:{u:${id}}`,
    userByPhone: () => `${p}user:by-phone`,
    userRoles: (id: number) => `${p}user:{u:${id}}:roles`,
    session: (sid: string) => `${p}sess:{${sid}}`,
    userSessions: (id: number) => `${p}user:{u:${id}}:sessions`,
    otp: (phone: string) => `${p}otp:{${phone}}`,
    rate: (bucket: string, id: string) => `${p}rate:${bucket}:{${id}}`,
    // ---- system ----
    /** ZSET worker id -> last heartbeat (ms); /readyz counts the fresh ones. */
    workers: () => `${p}sys:workers`,
  };
}

export type Keys = ReturnType<typeof createKeys>;

/** BullMQ's own prefix: hash-tagged so every queue's keys live on one Cluster slot. */
export function queuePrefix(prefix: string): string {
  return `{${prefix}bull}`;
}
