import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Queues } from '../jobs/queues.ts';
import type { UserStore } from '../users/user.store.ts';
import type { ResidentCellsStore } from '../representativeness/resident-cells.store.ts';
import { createUserService } from '../users/user.service.ts';
import { createRateLimiter } from '../redis/rate-limiter.ts';
import type { SessionStore } from './session.store.ts';
import { createOtpStore } from './otp.store.ts';
import { createOtpSender, type OtpSender } from './otp-sender.ts';
import { createAuthService } from './auth.service.ts';

/** Wires the identity domain from config: OTP store, sender, rate limits, the auth and user services. */
export function createIdentity(deps: {
  config: Config;
  logger: Logger;
  redis: Redis;
  keys: Keys;
  users: UserStore;
  sessions: SessionStore;
  queues: Pick<Queues, 'points'>;
  residents?: Pick<ResidentCellsStore, 'track'>;
  sender?: OtpSender;
}) {
  const { config, logger, redis, keys, users, sessions } = deps;
  const otp = createOtpStore(redis, keys, {
    secret: config.APP_SECRET,
    ttlSeconds: config.OTP_TTL_SECONDS,
    maxAttempts: config.OTP_MAX_ATTEMPTS,
  });
  const auth = createAuthService({
    logger,
    users,
    sessions,
    otp,
    sender: deps.sender ?? createOtpSender(config, logger),
    limits: {
      perPhone: createRateLimiter(redis, keys, { name: 'otp-phone', limit: config.OTP_PER_PHONE_PER_HOUR, windowSeconds: 3600 }),
      perIp: createRateLimiter(redis, keys, { name: 'otp-ip', limit: config.OTP_PER_IP_PER_HOUR, windowSeconds: 3600 }),
    },
    adminPhones: config.ADMIN_PHONES,
  });
  const accounts = createUserService({ users, queues: deps.queues, logger, residents: deps.residents });
  return { auth, accounts, otp };
}
