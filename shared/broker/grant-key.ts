// Mechanics: the key one profile signs its grants with. A key secret is read and decoded again only when its version
// changes (rotation without restart); a Key Vault key or certificate signs inside the vault (keys/key-source.ts).
// Remembers the last failed key check for health. Knows nothing of tokens or of when to refresh.
import { BrokerError } from '../errors.js';
import type { SigningKey } from '../keys/decode.js';
import { keyHealth, type KeyHealth } from '../keys/key-health.js';
import { vaultSigningSource, type VaultSigningSource } from '../keys/key-source.js';
import { decodeProfileKey, readKeySecret } from '../keys/profile-key.js';
import type { GrantKey } from '../keys/signer.js';
import type { Profile } from '../config/config.js';
import type { Logger } from '../logging.js';
import type { SecretStore } from '../vault/store.js';
import type { KeyCheck } from './types.js';

export interface GrantKeyDeps {
  readonly profile: Profile;
  /** Where the key secret is read (KEY_VAULT_URL). */
  readonly keyStore: SecretStore;
  readonly now: () => number;
  /** Bound on each vault call of a vault key source. */
  readonly timeoutMs: number;
}

export class ProfileGrantKey {
  private secretKey?: { version: string; key: SigningKey };
  /** MASKINPORTEN_VAULT_KEY / MASKINPORTEN_CERTIFICATE: the key stays in the vault. */
  private readonly vaultSource?: VaultSigningSource;
  private problem?: KeyCheck;

  constructor(private readonly deps: GrantKeyDeps) {
    this.vaultSource = vaultSigningSource(deps.profile, { now: deps.now, timeoutMs: deps.timeoutMs });
  }

  /** Look for a new vault key version on the next load (once per timer run). */
  recheck(): void {
    this.vaultSource?.recheck();
  }

  /** The key for the next grant; a key that loads clears a failed check. */
  async load(log: Logger): Promise<GrantKey> {
    const key = await this.read(log);
    this.problem = undefined;
    return key;
  }

  /** Loads the key (or finds it unchanged); logs and remembers what is wrong instead of throwing. */
  async check(log: Logger): Promise<boolean> {
    try {
      await this.load(log);
      return true;
    } catch (err) {
      const code = err instanceof BrokerError ? err.code : 'unexpected';
      this.problem = {
        at: new Date(this.deps.now()).toISOString(),
        outcome: 'failed',
        ...(err instanceof BrokerError && { errorCode: err.code, error: err.message }),
      };
      log.error(`[${this.deps.profile.name}] Key check failed (${code}): ${err instanceof Error ? err.message : 'unknown error'}`);
      return false;
    }
  }

  /** For health: the key in use and the last failed check; never key material. */
  status(): { keyVersion?: string; key?: KeyHealth; keyCheck?: KeyCheck } {
    const { profile, now } = this.deps;
    const inUse = this.vaultSource
      ? this.vaultSource.inUse()
      : this.secretKey && { source: 'secret' as const, name: profile.keySecret ?? '', version: this.secretKey.version, kid: this.secretKey.key.kid };
    return {
      ...(this.secretKey && { keyVersion: this.secretKey.version }),
      ...(this.problem && { keyCheck: this.problem }),
      ...(inUse && { keyVersion: inUse.version, key: keyHealth(inUse, now()) }),
    };
  }

  private async read(log: Logger): Promise<GrantKey> {
    if (this.vaultSource) return this.vaultSource.signer(log);
    const { profile, keyStore } = this.deps;
    const secret = await readKeySecret(keyStore, profile);
    if (this.secretKey?.version === secret.version) return this.secretKey.key;
    const key = await decodeProfileKey(secret, profile, log);
    this.secretKey = { version: secret.version, key };
    return key;
  }
}
