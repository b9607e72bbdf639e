// What a parsed configuration is: the Config and Profile shapes every area reads, and the constants they name.
// Types and constants only; parsing lives in config.ts and its helpers.


export type Environment = 'test' | 'prod';

export interface SystemUser {
  /** The system user's org number, always with the `0192:` prefix. */
  readonly orgId: string;
  readonly externalRef?: string;
}

/** One token the broker keeps fresh: a client, its scopes and grant options, and where its token is stored. */
export interface Profile {
  readonly name: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** MASKINPORTEN_KEY_SECRET: the secret holding the private key. Absent when keySource names another source. */
  readonly keySecret?: string;
  /** MASKINPORTEN_VAULT_KEY or MASKINPORTEN_CERTIFICATE: the grant is signed inside Key Vault (see keys/key-source.ts). */
  readonly keySource?: KeySource;
  readonly kid?: string;
  readonly tokenSecret: string;
  /** false: the Maskinporten token itself is stored and served. */
  readonly altinnExchange: boolean;
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemUser?: SystemUser;
  /** App roles that open this profile's token (PROFILE__<name>__AUTH_ROLES / AUTH_ROLES) instead of the default
   *  `Tokens.Read.All` or `Tokens.Read.<name>`; only used when caller authorization is on. */
  readonly authRoles?: readonly string[];
}

/** Caller authorization with Entra ID access tokens (on when AUTH_TENANT_ID is set). */
export interface CallerAuthConfig {
  readonly tenantId: string;
  /** Accepted `aud` values: the broker's app ID URI and/or client id. */
  readonly audiences: readonly string[];
  /** Without trailing slash, e.g. https://login.microsoftonline.com (or a loopback simulator). */
  readonly authority: string;
}

/** A key that signs inside Key Vault (KEY_VAULT_URL): the broker may use it but never read it. */
export type KeySource =
  | { readonly kind: 'vault-key'; readonly name: string; readonly vaultUrl: string; readonly local: boolean }
  | {
      readonly kind: 'certificate';
      readonly name: string;
      /** MASKINPORTEN_CERTIFICATE_CHAIN: intermediate certificates (base64 DER) sent after the leaf in x5c. */
      readonly chain: readonly string[];
      readonly vaultUrl: string;
      readonly local: boolean;
    };

export interface Config {
  readonly keyVaultUrl: string;
  /** true when KEY_VAULT_URL points at a loopback simulator (plain http allowed, dummy credential). */
  readonly localVault: boolean;
  /** Where token secrets are written (TOKEN_VAULT_URL); the key vault (KEY_VAULT_URL) when not set. */
  readonly tokenVaultUrl: string;
  readonly localTokenVault: boolean;
  /** Caller authorization; undefined when off (AUTH_TENANT_ID not set): then the function key guards the token. */
  readonly auth?: CallerAuthConfig;
  readonly environment: Environment;
  /** Maskinporten issuer, with trailing slash; the grant's `aud`. */
  readonly issuer: string;
  readonly tokenUrl: string;
  /** Altinn platform base URL, without trailing slash. */
  readonly altinnUrl: string;
  readonly refreshSchedule: string;
  /** The timer refreshes a token that has less than this many seconds left. */
  readonly refreshBeforeExpirySeconds: number;
  /** GET /api/token refreshes first when the token has less than this many seconds left. */
  readonly minTokenTtlSeconds: number;
  /** A profile mints at most once per this many seconds while it has a valid token to serve. */
  readonly minMintIntervalSeconds: number;
  /** A token whose exp is further ahead than this is refused (stored or minted). */
  readonly maxTokenLifetimeSeconds: number;
  /** Timeout of every outbound HTTP call. */
  readonly httpTimeoutMs: number;
  /** Attempts per upstream call on transient failures (1 = no retry). */
  readonly retryMaxAttempts: number;
  /** The `default` profile first, then any named profiles. */
  readonly profiles: readonly Profile[];
}

export const ENVIRONMENTS: Readonly<Record<Environment, { issuer: string; altinnUrl: string }>> = Object.freeze({
  test: { issuer: 'https://test.maskinporten.no/', altinnUrl: 'https://platform.tt02.altinn.no' },
  prod: { issuer: 'https://maskinporten.no/', altinnUrl: 'https://platform.altinn.no' },
});

export const DEFAULT_TOKEN_SECRET = 'altinn-token';
export const DEFAULT_PROFILE = 'default';
