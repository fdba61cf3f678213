import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { ERROR_CODES, type Ack, type ErrorCode } from '../shared/errors.ts';
import type { Logger } from './logger.ts';
import { isRedisUnavailable, RETRY_AFTER_SECONDS } from './redis/unavailable.ts';
import { isDbUnavailable, isSerializationFailure } from './db/db-errors.ts';

/** The one way to fail: a code from shared/errors.ts, its HTTP status, a message and optional details. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = details;
    this.headers = headers;
  }
}

/** zod issues as client-facing details: path and message only, never the received value. */
export function zodDetails(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Parse with a schema or throw a 400 AppError with the given code. */
export function parseOr<T extends z.ZodType>(schema: T, value: unknown, code: ErrorCode, message: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError(code, message, zodDetails(r.error));
  return r.data;
}

/** Maps anything thrown to an AppError; unknown errors become `internal` (logged, never shown). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isSerializationFailure(err)) return new AppError('conflict', 'Another change happened at the same time; try again');
  if (err instanceof z.ZodError) return new AppError('bad_request', 'Invalid input', zodDetails(err));
  // an outage of either store (down, restarting, failing over) is a 503 the client may retry, never a 500
  if (isRedisUnavailable(err) || isDbUnavailable(err)) return unavailable();
  const e = err as { type?: string; status?: number; statusCode?: number };
  // body-parser errors carry `type` and a 4xx status
  if (e && typeof e === 'object' && typeof e.type === 'string') {
    if (e.type === 'entity.too.large') return new AppError('payload_too_large', 'Request body is too large');
    if (e.type === 'entity.parse.failed') return new AppError('invalid_json', 'Request body is not valid JSON');
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new AppError('unsupported_media_type', 'Unsupported body encoding');
  }
  // Errors Express raises before any handler carry a 4xx status, not always a `type`: the router's URIError
  // for a path param with broken percent-encoding (`/api/polls/%E0%A4%A`), body-parser's zlib error for a
  // body that is not what its Content-Encoding says (`content-encoding: gzip` + plain bytes).
  const status = e && typeof e === 'object' ? (e.status ?? e.statusCode) : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (err instanceof URIError) return new AppError('invalid_params', 'Malformed percent-encoding in the URL');
    return new AppError('bad_request', 'Malformed request');
  }
  return new AppError('internal', 'Internal error');
}

/** 503 `unavailable` with Retry-After: a dependency is down or failing over; nothing was changed that a retry cannot settle. */
export function unavailable(message = 'The service is briefly unavailable; try again in a moment'): AppError {
  return new AppError('unavailable', message, null, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

/** A 5xx worth a stack in the log: `unavailable` is an outage (logged once per connection), not a bug. */
export const isBug = (e: AppError) => e.status >= 500 && e.code !== 'unavailable';

export function errorBody(err: AppError) {
  return { error: { code: err.code, message: err.message, details: err.details ?? null } };
}

/**
 * The one Express error middleware. `body` is the error's JSON: the platform's shape by default; Open311
 * mounts it with the GeoReport v2 shape (open311.routes.ts) — same mapping, status, headers and logging.
 */
export function errorMiddleware(logger: Logger, body: (err: AppError) => unknown = errorBody): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appErr = toAppError(err);
    if (isBug(appErr)) (req.log ?? logger).error({ err }, 'request failed');
    if (res.headersSent) return;
    res.status(appErr.status).set(appErr.headers).json(body(appErr));
  };
}

export const apiNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route ${req.method} ${req.baseUrl}${req.path}`));
};

/** The one socket ack mapper. `logger` may be a getter: a socket's child logger is made only when a bug is logged. */
export function ackError(err: unknown, logger?: Logger | (() => Logger)): Ack<never> {
  const e = toAppError(err);
  if (isBug(e)) (typeof logger === 'function' ? logger() : logger)?.error({ err }, 'socket handler failed');
  return { ok: false, error: { code: e.code, message: e.message, details: e.details ?? null } };
}
