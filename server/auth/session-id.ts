import { randomBytes } from 'node:crypto';

/**
 * Session ids: 32 bytes, base64url (43 characters). The first 6 bytes are the user id (big-endian), the
 * other 26 (208 bits) are random. The user id only says where the session lives — it is stored in the
 * user's Redis slot `{u:<id>}`, so one single-slot Lua step reads the session and the user together — and
 * is never trusted as identity: a session counts only if that exact id exists there and names that user.
 */
const USER_BYTES = 6;

export function mintSessionId(userId: number): string {
  const b = Buffer.allocUnsafe(32);
  b.writeUIntBE(userId, 0, USER_BYTES);
  randomBytes(32 - USER_BYTES).copy(b, USER_BYTES);
  return b.toString('base64url');
}

/** The user id a session id was minted for; 0 for anything that is not a well-formed id. */
export function sessionUserId(sid: string): number {
  if (!/^[A-Za-z0-9_-]{43}$/.test(sid)) return 0;
  return Buffer.from(sid.slice(0, 8), 'base64url').readUIntBE(0, USER_BYTES);
}
