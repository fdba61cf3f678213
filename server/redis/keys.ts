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
    /** SET of user ids holding a staff role (moderator, official, admin, responder): who escalations reach. */
    roleMembers: (role: string) => `${p}role:{staff}:${role}`,
    /** HASH userId, createdAt, absoluteExpiresAt: in the user's slot (auth/session-id.ts reads the user id out of the sid). */
    session: (userId: number, sid: string) => `${p}user:{u:${userId}}:sess:${sid}`,
    userSessions: (id: number) => `${p}user:{u:${id}}:sessions`,
    /** pub/sub channel: `s:<sid>` or `u:<userId>` whose cached session -> user entries are stale. */
    sessionsChanged: () => `${p}user:sessions-changed`,
    otp: (phone: string) => `${p}otp:{${phone}}`,
    rate: (bucket: string, id: string) => `${p}rate:${bucket}:{${id}}`,
    // ---- polls and ballots ----
    // Poll level, tag {p:<id>}: the definition + state hash, the final snapshot.
    // Shard level, tag {p:<id>.s<k>} for k in 0..S-1 (S=1 still uses shard 0's tag): everything the cast
    // script touches, so it never spans two slots. A user belongs to shard userId mod S, bit floor(userId/S).
    pollSeq: () => `${p}poll:seq`,
    /** ZSET poll id -> createdAt (ms): every poll, drafts included (the feed filters by effective status). */
    pollIndex: () => `${p}poll:index`,
    /** pub/sub channel: a poll id whose definition or state changed (in-process caches drop it). */
    pollChanged: () => `${p}poll:changed`,
    poll: (id: number) => `${p}poll:{p:${id}}`,
    pollFinal: (id: number) => `${p}poll:{p:${id}}:final`,
    /** HASH state, opensAt, closesAt (ms): the copy of the window the cast script checks. */
    pollShardState: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:state`,
    /** BITMAP bit floor(userId/S) = voted. */
    pollVoters: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:voters`,
    /** HASH userId -> receipt: no longer written (its order matched the ledger's); read for older ballots. */
    pollReceipts: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:receipts`,
    /** HASH of ballot counts; field layout in ballots/tally-fields.ts. */
    pollTally: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:tally`,
    /** HASH group -> ballots (district and age band; field layout in ballots/tally-fields.ts). */
    pollBreakdown: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:breakdown`,
    /** STREAM of ballots {v: keyed voter hash, a: answers JSON, t: ms} — never a user id. */
    pollLedger: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:ledger`,
    /**
     * BITMAP bit floor(userId/S) = this voter's points award is known made (set after the award succeeds;
     * the finalise sweep only calls the award script for voters without it). A bit is never set before
     * its award, so a missing bit costs at most an idempotent no-op award.
     */
    pollAwarded: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:awarded`,
    /**
     * SET of user ids whose vote points wait for the shard's next award batch (the cast script adds the
     * voter; award-take pops). A set, not a list: it keeps no voting order.
     */
    pollAwardPending: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:award:pending`,
    /** ZSET user id -> time taken (ms): voters of a batch under way; award-done removes them after the award. */
    pollAwardTaken: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:award:taken`,
    /**
     * HASH of the open count, per shard: refusals counted by the cast script (`r:duplicate`, `r:late`,
     * `r:early`) and by the server (`r:invalid`, flushed from process memory), ballots per minute
     * (`m:<epoch minute>`), and per respondent cell `<okrug>|<ageBand>|<gender>` the ballots (`n:<cell>`)
     * and tally fields (`c:<cell>|<tally field>`) the weighted result is raked from. Counts only.
     */
    pollCounts: (id: number, k: number) => `${p}poll:{p:${id}.s${k}}:counts`,
    /** STRING (JSON, SET NX): the published ledger export's record — hashes, rows, file names. Written once. */
    pollLedgerExport: (id: number) => `${p}poll:{p:${id}}:ledger-export`,
    /** HASH `<district>|<birthYear>|<gender>` -> registered residents with a complete profile (the eligible base). */
    residentCells: () => `${p}stats:{residents}:cells`,
    /** STRING: set once the resident cells were rebuilt from every user (the worker does it at start if missing). */
    residentCellsBuilt: () => `${p}stats:{residents}:built`,
    // ---- points and rewards ----
    // A user's points live in the user's slot {u:<id>} (award and debit are single-slot Lua steps);
    // a reward's stock and claim decisions in the reward's slot {r:<id>}.
    /** HASH balance, earned (lifetime). */
    pointsAccount: (userId: number) => `${p}user:{u:${userId}}:points`,
    /** HASH <reason>:<ref> -> points: the idempotency marker, one field per award ever made. */
    pointsAwards: (userId: number) => `${p}user:{u:${userId}}:points:awards`,
    /** LIST of JSON ledger entries, newest first, capped. */
    pointsLedger: (userId: number) => `${p}user:{u:${userId}}:points:ledger`,
    /** HASH redemption id -> JSON (pending | done | refunded). */
    userRedemptions: (userId: number) => `${p}user:{u:${userId}}:redemptions`,
    rewardSeq: () => `${p}reward:seq`,
    /** ZSET reward id -> createdAt (ms). */
    rewardIndex: () => `${p}reward:index`,
    /** HASH name, description, price, stock, sold, active, createdAt, updatedAt. */
    reward: (id: number) => `${p}reward:{r:${id}}`,
    /** HASH redemption id -> sold | cancelled: the decision of the stock step, final once written. */
    rewardClaims: (id: number) => `${p}reward:{r:${id}}:claims`,
    /** ZSET <rewardId>:<userId>:<redemptionId> -> started (ms): redemptions not yet settled. */
    rewardPending: () => `${p}reward:pending`,
    /** HASH poll id -> finalisation integrity alarms (the server's /metrics reads it). */
    integrityAlarms: () => `${p}sys:integrity-alarms`,
    // ---- decisions, notifications, archive ----
    /** SET of finalised poll ids whose archive row is not yet in PostgreSQL (the worker's archive sweep drains it). */
    archivePending: () => `${p}archive:pending`,
    /** HASH status, summary, body, reason, createdAt, updatedAt, answeredAt: city hall's decision on a poll. */
    decision: (pollId: number) => `${p}poll:{p:${pollId}}:decision`,
    /** LIST of timeline entries (JSON {seq, status, at, note}); seq = position + 1. */
    decisionTimeline: (pollId: number) => `${p}poll:{p:${pollId}}:decision:timeline`,
    /** HASH chunk (next chunk index), written, done: the resumable cursor of one notification fan-out. */
    fanoutCursor: (pollId: number, seq: number) => `${p}poll:{p:${pollId}}:fanout:${seq}`,
    /** LIST of a user's notifications (JSON), newest first, capped. */
    inbox: (userId: number) => `${p}user:{u:${userId}}:inbox`,
    /** SET of every notification id ever delivered to the user: the "never twice" marker. */
    inboxSeen: (userId: number) => `${p}user:{u:${userId}}:inbox:seen`,
    /** SET of the user's unread notification ids (SCARD = unread count). */
    inboxUnread: (userId: number) => `${p}user:{u:${userId}}:inbox:unread`,
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
