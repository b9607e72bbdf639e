// Reads the facts the broker needs from a token (expiry, issue time, scope) without verifying it, and formats
// times safely; verification against the issuer's keys is in token-verify.ts.
import { BrokerError } from './errors.js';

export interface TokenFacts {
  /** Expiry, ms since epoch. */
  readonly expiresAt: number;
  /** Issue time, ms since epoch (falls back to now when the token has no iat). */
  readonly issuedAt: number;
  readonly scope?: string;
}

/** The claims of a compact JWS, unverified (the broker only reads facts from tokens it fetched over TLS itself). */
export function decodeClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) throw new TypeError('not a compact JWS');
  const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new TypeError('claims are not an object');
  return claims as Record<string, unknown>;
}

export function inspectToken(token: string, nowMs: number, what: string): TokenFacts {
  let claims: Record<string, unknown>;
  try {
    claims = decodeClaims(token);
  } catch {
    throw new BrokerError('TOKEN_INVALID', `The ${what} is not a JWT; it was not stored or served.`);
  }
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
    throw new BrokerError('TOKEN_INVALID', `The ${what} has no numeric exp claim; it was not stored or served.`);
  }
  const expiresAt = claims.exp * 1000;
  if (!(Math.abs(expiresAt) <= MAX_DATE_MS)) {
    throw new BrokerError('TOKEN_INVALID', `The ${what} has an exp claim outside any date; it was not stored or served.`);
  }
  if (expiresAt <= nowMs) {
    throw new BrokerError('TOKEN_INVALID', `The ${what} has already expired; it was not stored or served.`);
  }
  const issuedAt = typeof claims.iat === 'number' && Math.abs(claims.iat * 1000) <= MAX_DATE_MS ? claims.iat * 1000 : nowMs;
  const scope = typeof claims.scope === 'string' ? claims.scope : undefined;
  return { expiresAt, issuedAt, ...(scope !== undefined && { scope }) };
}

/** The largest time a Date can hold, in ms since epoch. */
const MAX_DATE_MS = 8.64e15;

/** An ISO time for a log line or status that never throws, whatever the number (a token's exp may be absurd). */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : 'an invalid time';
}
