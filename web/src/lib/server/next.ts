/** A `next` return path from a query or form: same-site paths only (`/x`, never `//host` or `/\\host`). */
export const safeReturn = (v: FormDataEntryValue | string | null | undefined): string | null =>
  typeof v === 'string' && /^\/(?![/\\])/.test(v) ? v : null;
