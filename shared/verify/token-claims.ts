// The facts the broker keeps about a verified token (expiry, issue time, scope), and a time formatter that never
// throws (a token's exp may be any number); verification itself is in token-verify.ts.

export interface TokenFacts {
  /** Expiry, ms since epoch. */
  readonly expiresAt: number;
  /** Issue time, ms since epoch. */
  readonly issuedAt: number;
  readonly scope?: string;
}

/** The largest time a Date can hold, in ms since epoch. */
const MAX_DATE_MS = 8.64e15;

/** An ISO time for a log line or status that never throws, whatever the number. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : 'an invalid time';
}
