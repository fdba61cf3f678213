/**
 * The ballot receipt, kept in this browser only (localStorage) after a ballot is accepted, so the integrity
 * page can find the voter's row in the published ledger. Its own module: the voting form ships it alone.
 */
const receiptKey = (pollId: number) => `ac:receipt:${pollId}`;

/** Kept in this browser only, after a ballot is accepted (or a retry returned the same receipt). */
export function rememberReceipt(pollId: number, receipt: unknown): void {
  if (typeof receipt !== 'string' || !receipt) return;
  try {
    localStorage.setItem(receiptKey(pollId), receipt);
  } catch {
    /* storage off (private mode): the voter can still type the receipt in */
  }
}
export function storedReceipt(pollId: number): string {
  try {
    return localStorage.getItem(receiptKey(pollId)) ?? '';
  } catch {
    return '';
  }
}
