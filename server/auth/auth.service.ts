import type { Logger } from '../logger.ts';
import type { Role, User } from '../../shared/users.ts';
import { normalisePhone, OTP_LENGTH, type OtpRequestResponse } from '../../shared/auth.ts';
import { AppError } from '../errors.ts';
import { consume, type Limiter } from '../redis/rate-limiter.ts';
import type { UserStore } from '../users/user.store.ts';
import type { Session, SessionStore } from './session.store.ts';
import type { OtpStore } from './otp.store.ts';
import type { OtpSender } from './otp-sender.ts';

/**
 * Sign-in by phone + one-time code. Knows nothing of HTTP: routes pass normalised, validated input.
 *
 * Delivery failure policy: if the sender fails, the code just issued is discarded (never left usable —
 * nobody received it, so it could only be guessed) and the caller gets 503 `unavailable`; the request
 * still counts against the rate limits, so a failing gateway cannot be hammered through us.
 */
export function createAuthService(deps: {
  logger: Logger;
  users: UserStore;
  sessions: SessionStore;
  otp: OtpStore;
  sender: OtpSender;
  limits: { perPhone: Limiter; perIp: Limiter };
  adminPhones: readonly string[];
}) {
  const log = deps.logger.child({ component: 'auth' });
  const adminPhones = new Set<string>();
  for (const raw of deps.adminPhones) {
    const p = normalisePhone(raw);
    if (p) adminPhones.add(p);
    else log.warn({ entry: raw }, 'ADMIN_PHONES: not a phone number, ignored');
  }

  return {
    isAdminPhone: (phone: string) => adminPhones.has(phone),

    /** Issue and deliver a code. Rate limits: per client IP, then per phone (each 429 with Retry-After). */
    async requestCode(phone: string, ip: string): Promise<OtpRequestResponse> {
      await consume(deps.limits.perIp, ip);
      await consume(deps.limits.perPhone, phone);
      const { code, expiresInSeconds } = await deps.otp.issue(phone);
      try {
        await deps.sender.send(phone, code);
      } catch (err) {
        // a failed discard leaves a code nobody received: it expires by itself and can only be guessed,
        // within the attempt limit; the delivery error is the one worth reporting
        await deps.otp.discard(phone, code).catch((e) => log.warn({ err: e }, 'could not discard an undelivered code'));
        log.error({ err, sender: deps.sender.kind }, 'sign-in code delivery failed; code discarded');
        throw new AppError('unavailable', 'Could not send the code right now; try again in a minute');
      }
      return { phone, expiresInSeconds, codeLength: OTP_LENGTH };
    },

    /**
     * Check the code; on success get or create the user (first sign-in: a dense integer id), make
     * ADMIN_PHONES admins, end the previous session of this browser and open a new one (new id always).
     */
    async verify(phone: string, code: string, previousSessionId: string | null): Promise<{ user: User; session: Session; created: boolean }> {
      const r = await deps.otp.check(phone, code);
      if (!r.ok) {
        if (r.reason === 'expired') throw new AppError('code_expired', 'The code has expired or was already used; request a new one');
        if (r.reason === 'locked') {
          throw new AppError('too_many_attempts', 'Too many wrong codes; request a new code', { retryAfterSeconds: r.retryAfterSeconds }, {
            'retry-after': String(r.retryAfterSeconds),
          });
        }
        throw new AppError('invalid_code', 'Wrong code', { attemptsLeft: r.attemptsLeft });
      }
      const admin = adminPhones.has(phone);
      let { user, created } = await deps.users.getOrCreateByPhone(phone, admin ? ['admin'] : []);
      if (admin && !user.roles.includes('admin')) {
        user = (await deps.users.setRoles(user.id, [...user.roles, 'admin' as Role]))!;
        log.info({ userId: user.id }, 'ADMIN_PHONES: admin role granted at sign-in');
      }
      if (previousSessionId) await deps.sessions.destroy(previousSessionId);
      const session = await deps.sessions.create(user.id);
      log.info({ userId: user.id, created }, created ? 'new resident signed up' : 'resident signed in');
      return { user, session, created };
    },

    async logout(sessionId: string | null | undefined): Promise<void> {
      if (sessionId) await deps.sessions.destroy(sessionId);
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
