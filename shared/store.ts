// The broker's port to its secret store (Key Vault in production): read a secret's newest version, write a token
// as a new version. The core depends on this interface only.

export interface StoredSecret {
  readonly value: string;
  /** The secret version id; safe to log. */
  readonly version: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface TokenWrite {
  readonly token: string;
  /** ms since epoch; becomes the secret's `exp` attribute. */
  readonly expiresAt: number;
  /** ms since epoch; becomes the secret's `nbf` attribute. */
  readonly issuedAt: number;
  /** Non-secret facts (client id, kind, scopes, profile). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface SecretStore {
  /** The newest version of a secret, or undefined when it does not exist. */
  read(name: string): Promise<StoredSecret | undefined>;
  /** Stores a token as a new version with contentType application/jwt. */
  writeToken(name: string, write: TokenWrite): Promise<{ readonly version: string }>;
}
