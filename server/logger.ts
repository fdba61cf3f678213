import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** The one root logger; everything else takes `logger.child({...})`. */
export function createLogger(opts: { level: string; name: string; pretty?: boolean }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'], censor: '[redacted]' },
    ...(opts.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } } : {}),
  });
}

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
    id?: string;
  }
}
