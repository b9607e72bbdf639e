// Reads the facts the broker needs from a token it received (expiry, issue time, scope) and refuses tokens that
// do not parse or have expired: only a valid token is ever stored or served.
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
  if (expiresAt <= nowMs) {
    throw new BrokerError('TOKEN_INVALID', `The ${what} has already expired; it was not stored or served.`);
  }
  const issuedAt = typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? claims.iat * 1000 : nowMs;
  const scope = typeof claims.scope === 'string' ? claims.scope : undefined;
  return { expiresAt, issuedAt, ...(scope !== undefined && { scope }) };
}
