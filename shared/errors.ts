// The broker's error types: one base class with a machine-readable `code`, one subclass per kind of failure.
// Messages are fixed text plus safe facts (setting names, statuses, OAuth error codes, trace ids), never secrets.

export type BrokerErrorCode =
  | 'CONFIG_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_EMPTY'
  | 'KEY_NOT_BASE64'
  | 'KEY_UNPARSABLE'
  | 'KEY_PUBLIC_ONLY'
  | 'KEY_NOT_RSA'
  | 'KEY_TOO_SMALL'
  | 'KEY_KID_MISSING'
  | 'KEY_KID_NOT_IN_JWKS'
  | 'KEY_ALG_UNSUPPORTED'
  | 'KEY_USE_NOT_SIG'
  | 'KEY_NOT_USABLE'
  | 'CERTIFICATE_NOT_FOUND'
  | 'CERTIFICATE_UNREADABLE'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_NOT_YET_VALID'
  | 'MASKINPORTEN_REJECTED'
  | 'MASKINPORTEN_UNAVAILABLE'
  | 'MASKINPORTEN_BAD_RESPONSE'
  | 'ALTINN_REJECTED'
  | 'ALTINN_UNAVAILABLE'
  | 'ALTINN_BAD_RESPONSE'
  | 'TOKEN_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'STORE_REJECTED'
  | 'PROFILE_NOT_FOUND'
  | 'NO_VALID_TOKEN'
  | 'CALLER_UNAUTHENTICATED'
  | 'CALLER_FORBIDDEN'
  | 'CALLER_AUTH_UNAVAILABLE';

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export type ConfigProblemCode =
  | 'SETTING_MISSING'
  | 'SETTING_BAD_URL'
  | 'SETTING_INSECURE_URL'
  | 'SETTING_BAD_NUMBER'
  | 'SETTING_BAD_BOOLEAN'
  | 'SETTING_BAD_VALUE'
  | 'SETTING_BAD_SCHEDULE'
  | 'SETTING_BAD_SECRET_NAME'
  | 'SETTING_BAD_ORG_NUMBER'
  | 'SETTING_BAD_PROFILE_NAME'
  | 'SETTING_UNKNOWN'
  | 'SETTING_CONFLICT'
  | 'SETTING_PLACEHOLDER';

export interface ConfigProblem {
  /** The setting (environment variable / app setting) at fault. */
  readonly setting: string;
  readonly code: ConfigProblemCode;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** Every configuration problem found at start-up, reported together. */
export class ConfigError extends BrokerError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      'CONFIG_INVALID',
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.setting} ${p.message} [${p.code}]`).join('\n'),
    );
    this.problems = Object.freeze([...problems]);
  }
}

/** A caller of the HTTP API was refused (401/403) or could not be checked (503): see shared/callers/caller-auth.ts. */
export class CallerAuthError extends BrokerError {
  /** The WWW-Authenticate header value (RFC 6750) for a 401. */
  readonly challenge?: string;
  /** For CALLER_FORBIDDEN: the app roles that would open the resource asked for (and nothing else). */
  readonly requiredRoles?: readonly string[];
  constructor(
    code: 'CALLER_UNAUTHENTICATED' | 'CALLER_FORBIDDEN' | 'CALLER_AUTH_UNAVAILABLE',
    message: string,
    extra: { challenge?: string; requiredRoles?: readonly string[]; cause?: unknown } = {},
  ) {
    super(code, message, extra.cause === undefined ? undefined : { cause: extra.cause });
    if (extra.challenge !== undefined) this.challenge = extra.challenge;
    if (extra.requiredRoles !== undefined) this.requiredRoles = Object.freeze([...extra.requiredRoles]);
  }
}

/** The private key secret could not be read or decoded. */
export class KeyError extends BrokerError {}

export interface UpstreamFacts {
  readonly status?: number;
  /** OAuth `error` code, e.g. invalid_grant. */
  readonly error?: string;
  /** Maskinporten error code from `error_uri`, e.g. MP-110. */
  readonly mpCode?: string;
  /** Maskinporten trace id from `error_description`; safe to log. */
  readonly traceId?: string;
  /** Maskinporten's `error_description`, sanitised (no control characters, at most 300 characters). */
  readonly description?: string;
  /** Seconds to wait, from a Retry-After header. */
  readonly retryAfterSeconds?: number;
}

/** A failed call to Maskinporten or Altinn, with the safe facts of the answer. */
export abstract class UpstreamError extends BrokerError {
  readonly facts: UpstreamFacts;
  constructor(code: BrokerErrorCode, message: string, facts: UpstreamFacts, options?: { cause?: unknown }) {
    super(code, message, options);
    this.facts = facts;
  }
}

/** Maskinporten or Altinn answered with a definite refusal (4xx) or nonsense: retrying will not help. */
export class UpstreamRejectedError extends UpstreamError {}

/** Maskinporten or Altinn could not be reached or failed (network error, timeout, 5xx, 429): worth retrying. */
export class UpstreamUnavailableError extends UpstreamError {}

/** Key Vault could not be read or written. */
export class StoreError extends BrokerError {
  readonly status?: number;
  constructor(code: BrokerErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** With nothing valid left to serve; `cause` says why the refresh failed. */
export class NoValidTokenError extends BrokerError {
  constructor(profile: string, cause: unknown) {
    super('NO_VALID_TOKEN', `No valid token for profile "${profile}": ${cause instanceof Error ? cause.message : 'refresh failed'}`, { cause });
  }
}
