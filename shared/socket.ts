import { z } from 'zod';
import type { Ack } from './errors.ts';
import type { PollResults, PollStatus } from './polls.ts';
import type { User } from './users.ts';
import type { CityQueueFrame, CityQueueWatchAck, CityReportFrame, CityWatchPayload } from './city.ts';

/**
 * The typed Socket.IO contract. Server: `Server<ClientToServerEvents, ServerToClientEvents, {}, SocketData>`,
 * web: `Socket<ServerToClientEvents, ClientToServerEvents>`. Every client payload is validated with the
 * zod schemas below on the server; acks are `{ok:true,data} | {ok:false,error}`.
 */

export const pollWatchPayload = z.object({ pollId: z.number().int().positive() }).strict();
export type PollWatchPayload = z.infer<typeof pollWatchPayload>;

export type TallyFrame = { pollId: number; results: PollResults; participants: number };
export type PollStatusFrame = { pollId: number; status: PollStatus; at: string; decisionStatus?: string };
export type NotificationFrame = { id: string; kind: string; title: string; body: string; pollId?: number; pollTitle?: string; reportId?: number; createdAt: string; unread: number };
export type PointsFrame = { balance: number; delta: number; reason: string; level: string };

/** Live participant count (ballots cast so far) for watchers who may not see results yet. */
export type ParticipantsFrame = { pollId: number; participants: number };

/**
 * What `poll:watch` acks with: the first snapshot (null when you may not see results yet) and the
 * participant count (always). Re-send `poll:watch` after your own vote is accepted and after a
 * `poll:status` of closed/finalised: the server re-checks visibility and, if allowed now, starts tallies.
 * After a reconnect with `socket.recovered === false`, re-send `poll:watch` for every watched poll.
 */
export type WatchAckData = {
  pollId: number;
  status: PollStatus;
  canSeeResults: boolean;
  snapshot: TallyFrame | null;
  participants: number;
  /**
   * Set when the results would be visible but too few ballots are in: re-send `poll:watch` once
   * `poll:participants` reaches `minGroup`.
   */
  withheld: { minGroup: number } | null;
  /** Staff only (null for anyone else): registered residents who may vote in the poll, the base of its turnout. */
  eligibleResidents: number | null;
};

export interface ServerToClientEvents {
  /** Sent once on connect: who the server thinks you are (null = anonymous watcher). */
  'session': (data: { userId: number | null; roles: string[] }) => void;
  /** Coalesced live tallies, at most one frame per tick per poll. */
  'poll:tally': (frame: TallyFrame) => void;
  'poll:status': (frame: PollStatusFrame) => void;
  /** Coalesced participant count for watchers who may not see results yet, at most one per tick. */
  'poll:participants': (frame: ParticipantsFrame) => void;
  'notification': (frame: NotificationFrame) => void;
  'points': (frame: PointsFrame) => void;
  /** Our City: a watched report moved (see shared/city.ts). */
  'city:report': (frame: CityReportFrame) => void;
  /** Our City: the moderation queue / an organisation's inbox changed. */
  'city:queue': (frame: CityQueueFrame) => void;
}

export interface ClientToServerEvents {
  'ping:server': (ack: (res: Ack<{ at: number }>) => void) => void;
  'poll:watch': (payload: PollWatchPayload, ack: (res: Ack<WatchAckData>) => void) => void;
  'poll:unwatch': (payload: PollWatchPayload, ack: (res: Ack<{ pollId: number }>) => void) => void;
  /** Our City: follow one report's steps (public). */
  'city:watch': (payload: CityWatchPayload, ack: (res: Ack<{ reportId: number }>) => void) => void;
  'city:unwatch': (payload: CityWatchPayload, ack: (res: Ack<{ reportId: number }>) => void) => void;
  /** Our City staff: join the moderation queue (moderators) and your organisations' inboxes (responders). */
  'city:queue:watch': (ack: (res: Ack<CityQueueWatchAck>) => void) => void;
}

export interface SocketData {
  /** The signed-in user, resolved at the handshake and again whenever that user's sessions change (roles, profile, sign-out). */
  user: User | null;
  /** Server only: the session the socket signed in with (re-resolved on such a change). */
  sid?: string;
}
