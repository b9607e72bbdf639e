// The broker's port to its secret store (Key Vault in production): read a secret's newest version, write a token
// as a new version. The core depends on this interface only.
// Area vault/: this port and the Key Vault adapters (secrets store; keys and certificates clients). Uses errors,
// logging and telemetry/ only; never keys/, the broker or configuration parsing.

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

/** What an operator's drop (POST /api/manage/drop) writes: a tombstone version with these non-secret tags. */
export interface TokenDrop {
  /** ms since epoch: versions whose token expires after this are disabled. */
  readonly at: number;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DropResult {
  /** The tombstone version now on top of the secret. */
  readonly version: string;
  /** Versions that held a token still valid at `at` and are now disabled (reads of them answer 403). */
  readonly disabledVersions: number;
}

/** A store that can drop a token secret's value everywhere it is readable (Key Vault; optional for others). */
export interface DroppableStore extends SecretStore {
  dropToken(name: string, drop: TokenDrop): Promise<DropResult>;
}

/** Marks a token secret that holds no token (a deployment placeholder or a drop): readers must not use the value. */
export const PLACEHOLDER_CONTENT_TYPE = 'application/vnd.maskinporten-broker.placeholder';
