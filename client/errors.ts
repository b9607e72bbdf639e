// The consumer-side error: a `code` (the broker's problem code, or one of the client's own), the HTTP status and
// the broker's `detail`. Messages are fixed text plus those safe facts, never a token or credential.

/** The client's own codes; any other `code` is the broker's problem code (e.g. CALLER_FORBIDDEN, KEY_NOT_FOUND). */
export type ClientErrorCode =
  | 'CLIENT_BAD_OPTION'
  | 'CREDENTIAL_FAILED'
  | 'BROKER_UNREACHABLE'
  | 'BROKER_REJECTED'
  | 'BROKER_UNAVAILABLE'
  | 'BROKER_BAD_RESPONSE'
  | 'VAULT_SECRET_NOT_FOUND'
  | 'VAULT_DENIED'
  | 'VAULT_UNAVAILABLE'
  | 'VAULT_BAD_SECRET'
  | 'VAULT_TOKEN_EXPIRED';

export interface BrokerClientErrorFacts {
  /** HTTP status of the broker's (or the vault's) answer, when there was one. */
  readonly status?: number;
  /** The problem document's `detail`: what to fix, written by the broker (never secret material). */
  readonly detail?: string;
  /** Maskinporten's trace id, when the broker passed one on. */
  readonly traceId?: string;
  /** Seconds the broker asked callers to wait (`Retry-After`), when it did. */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

export class BrokerClientError extends Error {
  /** A broker problem `code` (see the README's HTTP API) or a {@link ClientErrorCode}. */
  readonly code: ClientErrorCode | (string & {});
  readonly status?: number;
  readonly detail?: string;
  readonly traceId?: string;
  readonly retryAfterSeconds?: number;

  constructor(code: ClientErrorCode | (string & {}), message: string, facts: BrokerClientErrorFacts = {}) {
    super(message, facts.cause === undefined ? undefined : { cause: facts.cause });
    this.name = new.target.name;
    this.code = code;
    if (facts.status !== undefined) this.status = facts.status;
    if (facts.detail !== undefined) this.detail = facts.detail;
    if (facts.traceId !== undefined) this.traceId = facts.traceId;
    if (facts.retryAfterSeconds !== undefined) this.retryAfterSeconds = facts.retryAfterSeconds;
  }
}

export function badOption(option: string, what: string): BrokerClientError {
  return new BrokerClientError('CLIENT_BAD_OPTION', `Option "${option}" ${what}`);
}
