// Chooses where a profile's grants are signed when it names a key inside Key Vault (MASKINPORTEN_VAULT_KEY or
// MASKINPORTEN_CERTIFICATE); the key secret (MASKINPORTEN_KEY_SECRET) stays in profile-key.ts beside this. Importing this
// module loads no Azure SDK: the clients are created on first use.
import { DEFAULT_PROFILE, type Profile } from '../config/config.js';
import type { GrantSigner } from './signer.js';
import type { Logger } from '../logging.js';
import { CertificateSource } from './certificate.js';
import { VaultKeySource, type KeyInUse } from './vault-key.js';

export type { KeyInUse } from './vault-key.js';

/** A key that signs inside the vault. */
export interface VaultSigningSource {
  /** The signer for the next grant; reads the vault at first use and after recheck(). */
  signer(log: Logger): Promise<GrantSigner>;
  /** Look for a new version on the next signer() call (once per timer run). */
  recheck(): void;
  inUse(): KeyInUse | undefined;
}

export interface SourceDeps {
  readonly now: () => number;
  /** Bound on each vault call. */
  readonly timeoutMs: number;
}

/** The setting that names a profile's key source, for messages. */
export function sourceSetting(profile: Profile, setting: 'MASKINPORTEN_VAULT_KEY' | 'MASKINPORTEN_CERTIFICATE'): string {
  return profile.name === DEFAULT_PROFILE ? setting : `PROFILE__${profile.name}__${setting}`;
}

/** undefined when the profile signs with its key secret. */
export function vaultSigningSource(profile: Profile, deps: SourceDeps): VaultSigningSource | undefined {
  const s = profile.keySource;
  if (!s) return undefined;
  const common = { vaultUrl: s.vaultUrl, local: s.local, profile: profile.name, now: deps.now, timeoutMs: deps.timeoutMs };
  if (s.kind === 'vault-key') {
    return new VaultKeySource({ ...common, keyName: s.name, setting: sourceSetting(profile, 'MASKINPORTEN_VAULT_KEY'), ...(profile.kid !== undefined && { kid: profile.kid }) });
  }
  return new CertificateSource({ ...common, certificateName: s.name, chain: s.chain, setting: sourceSetting(profile, 'MASKINPORTEN_CERTIFICATE') });
}
