import { z } from 'zod';

/**
 * Every error the API or a socket ack can return. One list, shared by server and web,
 * so the web can translate codes and the server cannot invent ad-hoc ones.
 */
export const ERROR_CODES = {
  bad_request: 400,
  invalid_body: 400,
  invalid_query: 400,
  invalid_params: 400,
  invalid_ballot: 400,
  /** a poll definition that cannot be published (missing or inconsistent dates, …) */
  invalid_poll: 400,
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthenticated: 401,
  invalid_code: 401,
  forbidden: 403,
  csrf_rejected: 403,
  not_eligible: 403,
  not_found: 404,
  conflict: 409,
  /** an open report with the same category, district and address exists: support it instead (details.reportId) */
  duplicate: 409,
  already_voted: 409,
  poll_closed: 409,
  poll_not_open: 409,
  invalid_state: 409,
  insufficient_points: 409,
  out_of_stock: 409,
  code_expired: 410,
  too_many_attempts: 429,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** Field-level problems (e.g. zod issues: path + message), or null when there are none. */
    details: z.unknown(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Socket.IO acknowledgement: the one shape every ack takes. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };
