// What the broker area hands out and reports: a cached token, a refresh's outcome, a profile's status, the policy's
// thresholds. Types only.
import type { BrokerErrorCode } from '../errors.js';
import type { KeyHealth } from '../keys/key-health.js';

export interface CachedToken {
  readonly token: string;
  readonly kind: 'altinn' | 'maskinporten';
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly scope: string;
  /** Where this instance got it: minted now, or read from the vault. */
  readonly source: 'minted' | 'vault';
}

export type RefreshOutcome = 'fresh' | 'adopted' | 'refreshed' | 'failed';

/** A failed key check (start-up or refresh), until a key loads again. */
export interface KeyCheck {
  readonly at: string;
  readonly outcome: 'failed';
  readonly errorCode?: BrokerErrorCode;
  readonly error?: string;
}

export interface ProfileStatus {
  readonly profile: string;
  readonly tokenSecret: string;
  readonly lastRefresh?: { readonly at: string; readonly outcome: RefreshOutcome; readonly errorCode?: BrokerErrorCode; readonly error?: string };
  readonly tokenExpiresAt?: string;
  readonly tokenSource?: CachedToken['source'];
  /** A minted token that could not be written to the vault yet (retried on the next run). */
  readonly storePending: boolean;
  readonly keyVersion?: string;
  /** The last key check (start-up or refresh) failed and no key has loaded since. */
  readonly keyCheck?: KeyCheck;
  /** The key in use (source, name, version, kid or certificate subject, age, expiry, warning); never key material. */
  readonly key?: KeyHealth;
}

export interface BrokerPolicy {
  readonly refreshBeforeExpirySeconds: number;
  readonly minTokenTtlSeconds: number;
  /** MIN_MINT_INTERVAL_SECONDS: no second mint within this while a valid token is left. */
  readonly minMintIntervalSeconds: number;
  /** MAX_TOKEN_LIFETIME_SECONDS: a token claiming to live longer is refused. */
  readonly maxTokenLifetimeSeconds: number;
}
