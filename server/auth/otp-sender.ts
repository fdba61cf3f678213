import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

/** Delivers a one-time code to a phone. Throws when delivery failed (the caller discards the code). */
export type OtpSender = { kind: 'log' | 'webhook'; send(phone: string, code: string): Promise<void> };

export const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * The sender chosen by OTP_SENDER:
 * - `log`: writes the code to the server log (development; a warning at start-up in production);
 * - `webhook`: POSTs `{"phone","code"}` as JSON to OTP_WEBHOOK_URL (plug an SMS gateway in here);
 *   any non-2xx answer, network error or a timeout counts as a failure.
 */
export function createOtpSender(
  config: Pick<Config, 'OTP_SENDER' | 'OTP_WEBHOOK_URL' | 'NODE_ENV'>,
  logger: Logger,
  opts: { timeoutMs?: number } = {},
): OtpSender {
  const log = logger.child({ component: 'otp-sender', sender: config.OTP_SENDER });
  if (config.OTP_SENDER === 'webhook') {
    const url = config.OTP_WEBHOOK_URL!;
    const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    return {
      kind: 'webhook',
      async send(phone, code) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone, code }),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        // the reply body is not read; failing to discard it changes nothing about the delivery's outcome
        await res.body?.cancel().catch(() => {});
        if (!res.ok) throw new Error(`OTP webhook answered ${res.status}`);
      },
    };
  }
  if (config.NODE_ENV === 'production') log.warn('OTP_SENDER=log in production: sign-in codes go to the server log, not to phones');
  return {
    kind: 'log',
    async send(phone, code) {
      log.info({ phone, code }, `sign-in code for ${phone}: ${code}`);
    },
  };
}
