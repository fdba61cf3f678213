import { z } from 'zod';
import { AppError } from '../errors.ts';
import { rooms } from '../realtime/emitter.ts';
import { cityWatchPayload, type CityQueueWatchAck } from '../../shared/city.ts';
import type { CityDomain } from './city.module.ts';
import type { User } from '../../shared/users.ts';
import { cityPolicy } from './city.policy.ts';

const MAX_WATCHED_REPORTS = 50;

type Handle = <S extends z.ZodType, R>(event: 'city:watch' | 'city:unwatch' | 'city:queue:watch', schema: S, fn: (payload: z.infer<S>) => Promise<R>) => void;
type SocketLike = { data: { user: User | null }; rooms: Set<string>; join(room: string | string[]): unknown; leave(room: string): unknown };

/**
 * Our City's socket events: anyone may follow one report's steps; staff join the moderation queue
 * (moderators, officials, admins) and their organisations' inboxes (responders). Roles are the socket's
 * current ones: realtime/session-sync.ts takes a socket out of these rooms when a role is withdrawn.
 */
export function registerCitySocket(socket: SocketLike, city: CityDomain | null, handle: Handle) {
  const available = () => {
    if (!city || !city.isReady()) throw new AppError('unavailable', 'Our City is unavailable');
    return city;
  };
  handle('city:watch', cityWatchPayload, async ({ reportId }) => {
    available();
    const watched = [...socket.rooms].filter((r) => r.startsWith('city:r:')).length;
    if (!socket.rooms.has(rooms.cityReport(reportId)) && watched >= MAX_WATCHED_REPORTS) throw new AppError('rate_limited', `Watch at most ${MAX_WATCHED_REPORTS} reports at once`);
    void socket.join(rooms.cityReport(reportId));
    return { reportId };
  });
  handle('city:unwatch', cityWatchPayload, async ({ reportId }) => {
    void socket.leave(rooms.cityReport(reportId));
    return { reportId };
  });
  handle('city:queue:watch', z.undefined(), async (): Promise<CityQueueWatchAck> => {
    const c = available();
    const { user } = socket.data;
    if (!user) throw new AppError('unauthenticated', 'Sign in first');
    const moderation = cityPolicy.canModerate(user) || cityPolicy.canSupervise(user);
    const organisationIds = user.roles.includes('responder') ? await c.catalogue.responderOrgs(user.id) : [];
    if (!moderation && !organisationIds.length) throw new AppError('forbidden', 'Staff only');
    void socket.join([...(moderation ? [rooms.cityModeration()] : []), ...organisationIds.map((o) => rooms.cityOrg(o))]);
    return { moderation, organisationIds };
  });
}
