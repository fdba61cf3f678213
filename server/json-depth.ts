import type { RequestHandler } from 'express';
import { AppError } from './errors.ts';

/**
 * A nesting limit for every JSON value that comes from outside: HTTP bodies (server/app.ts, the ballot route
 * outside Express, Open311) and Socket.IO event payloads (server/realtime/socket-events.ts).
 *
 * JSON.parse reads any depth without recursing, but much of what walks the parsed value afterwards does
 * recurse, and a request can nest tens of thousands of levels within the 64 KB body limit. zod's
 * `.max()`/`.min()` checks, for one, run on any value with a `length` property and compare it with `<=`:
 * `{"district":{"length":[[[…]]]}}` makes V8 turn the array into a string level by level
 * (Array.prototype.toString → join) until the stack overflows — a 500 from a request. Refusing deep values
 * before any schema sees them bounds every such walk, present and future.
 *
 * 32 levels: the API's deepest valid body (a poll definition: body → questions → question → options →
 * option) nests 5.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Does `value` nest arrays/objects more than `max` levels deep (a top-level object or array is level 1)?
 * Iterative, level by level, and it stops at level `max + 1`: its cost is bounded by the value's size, its
 * stack by nothing. Binary attachments (Buffers of a Socket.IO packet) are leaves.
 */
export function jsonDepthExceeds(value: unknown, max = MAX_JSON_DEPTH): boolean {
  let level: unknown[] = [value];
  for (let depth = 1; level.length; depth++) {
    const next: unknown[] = [];
    for (const v of level) {
      if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
      if (depth > max) return true;
      for (const x of Array.isArray(v) ? v : Object.values(v)) next.push(x);
    }
    level = next;
  }
  return false;
}

export const tooDeepMessage = (what: string) => `${what} nests deeper than ${MAX_JSON_DEPTH} levels`;

/** The HTTP refusal: the body is JSON, but not one any route reads. */
export const tooDeepBody = () => new AppError('invalid_body', tooDeepMessage('Request body'));

/** After a JSON body parser: refuses a parsed body that nests too deep. */
export const rejectDeepJson = (): RequestHandler => (req, _res, next) => {
  next(req.body !== undefined && jsonDepthExceeds(req.body) ? tooDeepBody() : undefined);
};
