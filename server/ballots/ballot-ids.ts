import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

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
 * A ballot's public tag: hex SHA-256 of its receipt. It is the ledger entry's `v` and the published ledger's
 * `tag`, so a voter who holds the receipt finds their own row, and nobody else can link a row to a voter
 * (the receipt is a keyed HMAC: only APP_SECRET maps a user to it).
 */
export const ledgerTag = (receipt: string) => createHash('sha256').update(receipt).digest('hex');

/**
 * The two keyed values a ballot carries: the voter's receipt (returned on 201 and, recomputed, on 409) and
 * the voter hash written to the ledger instead of the user id (the receipt's tag).
 */
export function ballotIds(secret: string, pollId: number, userId: number): { receipt: string; voterHash: string } {
  const receipt = keyed(secret, 'receipt', pollId, userId).toString('base64url').slice(0, 22);
  return { receipt, voterHash: ledgerTag(receipt) };
}

/** The ledger's `v` of ballots cast before it became the receipt's tag (32 hex digits of a keyed HMAC). */
export const legacyVoterHash = (secret: string, pollId: number, userId: number) => keyed(secret, 'voter', pollId, userId).toString('hex').slice(0, 32);
