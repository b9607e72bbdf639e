// Turns broker errors into RFC 9457 application/problem+json answers: one table maps error codes to statuses.
// Only the error's own message (fixed text plus safe facts) and code go out, never a stack or an upstream body.
// The document is a plain object: RFC 9457 is five members, and the npm library we tried first validates `type`
// with Node's deprecated url.parse (a runtime warning today, an error in future Node versions).
// Area http/: what the function handlers share (problem answers, the token body, the invocation logger). Uses the
// broker's types and errors; nothing below imports it.
import { BrokerError, CallerAuthError, ConfigError, NoValidTokenError, UpstreamError, type BrokerErrorCode } from '../errors.js';

export interface ProblemResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const STATUS: Partial<Record<BrokerErrorCode, number>> = {
  CONFIG_INVALID: 500,
  PROFILE_NOT_FOUND: 404,
  NO_VALID_TOKEN: 503,
  CALLER_UNAUTHENTICATED: 401,
  CALLER_FORBIDDEN: 403,
  CALLER_AUTH_UNAVAILABLE: 503,
};

const TITLES: Partial<Record<BrokerErrorCode, string>> = {
  CONFIG_INVALID: 'The token broker is misconfigured',
  PROFILE_NOT_FOUND: 'Unknown token profile',
  KEY_NOT_FOUND: 'The Maskinporten key secret was not found',
  KEY_EMPTY: 'The Maskinporten key secret is empty',
  KEY_NOT_BASE64: 'The Maskinporten key secret is not base64',
  KEY_UNPARSABLE: 'The Maskinporten key could not be read',
  KEY_PUBLIC_ONLY: 'The Maskinporten key secret holds a public key',
  KEY_NOT_RSA: 'The Maskinporten key is not an RSA key',
  KEY_TOO_SMALL: 'The Maskinporten key is too small',
  KEY_KID_MISSING: 'The Maskinporten key id (kid) is missing',
  KEY_KID_NOT_IN_JWKS: 'The configured key id is not in the key set',
  KEY_ALG_UNSUPPORTED: 'The Maskinporten key algorithm is not supported',
  KEY_NOT_USABLE: 'The Key Vault key has no version that can sign now',
  CERTIFICATE_NOT_FOUND: 'The business certificate was not found in Key Vault',
  CERTIFICATE_UNREADABLE: 'The business certificate could not be read',
  CERTIFICATE_EXPIRED: 'The business certificate has expired',
  CERTIFICATE_NOT_YET_VALID: 'The business certificate is not valid yet',
  MASKINPORTEN_REJECTED: 'Maskinporten rejected the token request',
  MASKINPORTEN_UNAVAILABLE: 'Maskinporten is unavailable',
  MASKINPORTEN_BAD_RESPONSE: 'Maskinporten answered with something that is not a token',
  ALTINN_REJECTED: 'Altinn rejected the token exchange',
  ALTINN_UNAVAILABLE: 'Altinn is unavailable',
  ALTINN_BAD_RESPONSE: 'Altinn answered with something that is not a token',
  TOKEN_INVALID: 'The received token is not valid',
  STORE_UNAVAILABLE: 'Key Vault is unavailable',
  STORE_REJECTED: 'Key Vault denied access',
  CALLER_UNAUTHENTICATED: 'A valid Entra ID access token is required',
  CALLER_FORBIDDEN: 'The caller lacks the app role for this resource',
  CALLER_AUTH_UNAVAILABLE: 'The caller token could not be checked',
};

/** Seconds a caller should wait before asking again when no token can be served. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

/** The code a problem answer for `err` carries: a NoValidTokenError's cause, else the error's own, else INTERNAL. */
export function problemCode(err: unknown): BrokerErrorCode | 'INTERNAL' {
  return codeOf(err) ?? 'INTERNAL';
}

function codeOf(err: unknown): BrokerErrorCode | undefined {
  const cause = err instanceof NoValidTokenError && err.cause instanceof BrokerError ? err.cause : undefined;
  return cause?.code ?? (err instanceof BrokerError ? err.code : undefined);
}

export function problemFor(err: unknown, instance?: string): ProblemResponse {
  const broker = err instanceof BrokerError ? err : undefined;
  const cause = err instanceof NoValidTokenError && err.cause instanceof BrokerError ? err.cause : undefined;
  const code = codeOf(err);
  const status = (broker && STATUS[broker.code]) ?? 500;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (err instanceof CallerAuthError && err.challenge !== undefined) headers['www-authenticate'] = err.challenge;
  if (status === 503) {
    const upstream = cause instanceof UpstreamError ? cause.facts.retryAfterSeconds : undefined;
    headers['retry-after'] = String(upstream ?? DEFAULT_RETRY_AFTER_SECONDS);
  }
  const doc = {
    type: `urn:maskinporten-broker:problem:${(code ?? 'internal').toLowerCase().replace(/_/g, '-')}`,
    title: (code && TITLES[code]) ?? (broker ? 'No valid token is available' : 'Internal error'),
    status,
    detail: broker ? broker.message : 'An unexpected error occurred; see the function logs.',
    ...(instance !== undefined && { instance }),
    code: code ?? 'INTERNAL',
    ...(err instanceof ConfigError && { problems: err.problems.map((p) => ({ ...p })) }),
    ...(err instanceof CallerAuthError && err.requiredRoles && { requiredRoles: [...err.requiredRoles] }),
    ...(cause instanceof UpstreamError && cause.facts.traceId && { traceId: cause.facts.traceId }),
  };
  return { status, headers, body: JSON.stringify(doc) };
}
