import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

// the key is set up once per secret (a KeyObject), not converted again for every ballot
const keyObjects = new Map<string, KeyObject>();
const keyOf = (secret: string) => {
  let k = keyObjects.get(secret);
  if (!k) keyObjects.set(secret, (k = createSecretKey(Buffer.from(secret, 'utf8'))));
  return k;
};
const keyed = (secret: string, label: string, pollId: number, userId: number) =>
  createHmac('sha256', keyOf(secret)).update(`${label}:${pollId}:${userId}`).digest();

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
