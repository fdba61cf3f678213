import { createHmac } from 'node:crypto';

const keyed = (secret: string, label: string, pollId: number, userId: number) =>
  createHmac('sha256', secret).update(`${label}:${pollId}:${userId}`).digest();

/**
 * The two keyed values a ballot carries: the voter's receipt (returned on 201 and, recomputed, on 409) and
 * the voter hash written to the ledger instead of the user id. Both are HMACs under APP_SECRET, so nobody
 * without it can map a ledger entry back to a user.
 */
export function ballotIds(secret: string, pollId: number, userId: number): { receipt: string; voterHash: string } {
  return {
    receipt: keyed(secret, 'receipt', pollId, userId).toString('base64url').slice(0, 22),
    voterHash: keyed(secret, 'voter', pollId, userId).toString('hex').slice(0, 32),
  };
}
