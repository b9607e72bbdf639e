// Key source 2: an RSA key inside Key Vault (MASKINPORTEN_VAULT_KEY). The broker signs each grant through the
// vault (one sign call per grant, RS256 over the SHA-256 digest) and never holds the private key. Rotation uses key
// versions: the newest version that is enabled, past its notBefore and not expired is used; the version list is
// read at first use and again after recheck() (once per timer run), so a new version takes over without a restart.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { CryptographyClient, KeyClient, KeyProperties, KeyVaultKey } from '@azure/keyvault-keys';
import { KeyError } from '../errors.js';
import type { GrantSigner } from './signer.js';
import type { Logger } from '../logging.js';
import { keyVaultCall } from '../telemetry/instruments.js';
import { createCryptographyClient, createKeyClient, vaultError, type VaultTarget } from '../vault/clients.js';

/** The tag on a key version that holds the kid registered for it in the Maskinporten portal. */
export const KID_TAG = 'maskinporten-kid';
export const MIN_VAULT_KEY_BITS = 2048;
const CRYPTO_USER = 'Key Vault Crypto User';

/** What signs a profile's grants right now, for health and logs: never key material. */
export interface KeyInUse {
  readonly source: 'secret' | 'vault-key' | 'certificate';
  /** The secret, key or certificate name. */
  readonly name: string;
  readonly version: string;
  readonly kid?: string;
  /** Certificates: the subject, e.g. "CN=ORG AS, serialNumber=999888777". */
  readonly subject?: string;
  /** ISO times, where known. */
  readonly createdAt?: string;
  readonly notBefore?: string;
  readonly expiresAt?: string;
}

export interface VaultKeyOptions extends VaultTarget {
  readonly keyName: string;
  /** MASKINPORTEN_KID: wins over the version's maskinporten-kid tag. */
  readonly kid?: string;
  /** The setting that names the key, for messages (MASKINPORTEN_VAULT_KEY or PROFILE__<name>__...). */
  readonly setting: string;
  readonly profile: string;
  readonly now: () => number;
  /** Bound on each vault call, the SDK's retries included. */
  readonly timeoutMs: number;
}

export interface VersionFacts {
  readonly version: string;
  readonly enabled: boolean;
  readonly notBefore?: Date;
  readonly expiresOn?: Date;
  readonly createdOn?: Date;
  readonly tags?: Readonly<Record<string, string>>;
}

/** The newest version (by creation time) that is enabled, past its notBefore and not expired at `nowMs`. */
export function newestUsable(versions: readonly VersionFacts[], nowMs: number): VersionFacts | undefined {
  let best: VersionFacts | undefined;
  for (const v of versions) {
    if (!v.enabled || (v.notBefore && v.notBefore.getTime() > nowMs) || (v.expiresOn && v.expiresOn.getTime() <= nowMs)) continue;
    if (!best || (v.createdOn?.getTime() ?? 0) >= (best.createdOn?.getTime() ?? 0)) best = v;
  }
  return best;
}

/** RSA public key and size from a Key Vault key's public members. */
export function publicKeyOf(key: KeyVaultKey, what: string): { publicKey: KeyObject; bits: number } {
  const jwk = key.key;
  if (!jwk || (jwk.kty !== 'RSA' && jwk.kty !== 'RSA-HSM') || !jwk.n || !jwk.e) {
    throw new KeyError('KEY_NOT_RSA', `${what} is ${JSON.stringify(String(jwk?.kty ?? 'unknown'))}, not RSA; Maskinporten needs an RSA key (RS256): create an RSA 2048+ key.`);
  }
  const publicKey = createPublicKey({
    key: { kty: 'RSA', n: Buffer.from(jwk.n).toString('base64url'), e: Buffer.from(jwk.e).toString('base64url') },
    format: 'jwk',
  });
  return { publicKey, bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0 };
}

/** A GrantSigner over a fetched key version: one vault call per grant; the signature is checked with the public
 *  key before it is used, so a wrong key or algorithm fails here and not as MP-124 at Maskinporten. */
export function vaultSigner(crypto: CryptographyClient, publicKey: KeyObject, header: { kid?: string; x5c?: readonly string[] }, what: string, timeoutMs: number, vaultUrl = crypto.vaultUrl): GrantSigner {
  return {
    alg: 'RS256',
    ...(header.kid !== undefined && { kid: header.kid }),
    ...(header.x5c !== undefined && { x5c: header.x5c }),
    async sign(input) {
      const digest = createHash('sha256').update(input).digest();
      let signature: Buffer;
      try {
        const result = await keyVaultCall(vaultUrl, 'POST', 'sign', () => crypto.sign('RS256', digest, { abortSignal: AbortSignal.timeout(timeoutMs) }));
        signature = Buffer.from(result.result);
      } catch (err) {
        throw vaultError(err, 'sign with', what, CRYPTO_USER);
      }
      if (!verify('sha256', input, publicKey, signature)) {
        throw new KeyError('KEY_NOT_USABLE', `Key Vault returned a signature from ${what} that its public key does not verify: check that the key is an RSA signing key.`);
      }
      return signature;
    },
  };
}

export class VaultKeySource {
  #client?: Promise<KeyClient>;
  #versions?: readonly VersionFacts[];
  #stale = true;
  #current?: { version: string; kid: string; signer: GrantSigner; inUse: KeyInUse };

  constructor(private readonly o: VaultKeyOptions) {}

  /** The next signer() reads the version list again (call once per timer run). */
  recheck(): void {
    this.#stale = true;
  }

  inUse(): KeyInUse | undefined {
    return this.#current?.inUse;
  }

  async signer(log: Logger): Promise<GrantSigner> {
    const o = this.o;
    const what = `Key Vault key "${o.keyName}" (${o.setting})`;
    if (this.#stale || !this.#versions) {
      try {
        this.#versions = await this.#listVersions(what);
        this.#stale = false;
      } catch (err) {
        // A failed look for new versions does not stop signing with the version in use; the next call looks again.
        if (!this.#current || !this.#versions) throw err;
        log.warn(`[${o.profile}] Could not list the versions of ${what} (${(err as Error).message}); still signing with version ${this.#current.version}.`);
      }
    }
    const pick = newestUsable(this.#versions, o.now());
    if (!pick) {
      throw new KeyError(
        'KEY_NOT_USABLE',
        `${what} has no version that is enabled, past its notBefore and not expired (${this.#versions.length} version(s)): enable a version or create a new one (keygen --vault-key ... --rotate).`,
      );
    }
    if (this.#current?.version === pick.version) return this.#current.signer;

    const kid = o.kid ?? pick.tags?.[KID_TAG];
    if (kid === undefined) {
      throw new KeyError('KEY_KID_MISSING', `${what} version ${pick.version} has no "${KID_TAG}" tag: tag it with the kid shown in the Maskinporten self-service portal, or set MASKINPORTEN_KID.`);
    }
    if (o.kid !== undefined && pick.tags?.[KID_TAG] !== undefined && pick.tags[KID_TAG] !== o.kid) {
      log.warn(`[${o.profile}] MASKINPORTEN_KID "${o.kid}" differs from the "${KID_TAG}" tag "${pick.tags[KID_TAG]}" of ${what} version ${pick.version}; the setting wins (unset it to follow rotations).`);
    }
    const client = await this.#keyClient();
    let key: KeyVaultKey;
    try {
      key = await keyVaultCall(o.vaultUrl, 'GET', 'getKey', () => client.getKey(o.keyName, { version: pick.version, abortSignal: AbortSignal.timeout(o.timeoutMs) }));
    } catch (err) {
      throw vaultError(err, 'read', what, CRYPTO_USER, 'KEY_NOT_FOUND');
    }
    const { publicKey, bits } = publicKeyOf(key, what);
    if (bits < MIN_VAULT_KEY_BITS) {
      throw new KeyError('KEY_TOO_SMALL', `${what} is RSA ${bits} bits: create an RSA ${MIN_VAULT_KEY_BITS} (or larger) key version.`);
    }
    if (key.keyOperations && !key.keyOperations.includes('sign')) {
      throw new KeyError('KEY_NOT_USABLE', `${what} does not permit "sign" in its key operations: create a key version that may sign.`);
    }
    const crypto = await createCryptographyClient(o, key);
    const signer = vaultSigner(crypto, publicKey, { kid }, what, o.timeoutMs);
    const inUse: KeyInUse = {
      source: 'vault-key',
      name: o.keyName,
      version: pick.version,
      kid,
      ...(pick.createdOn && { createdAt: pick.createdOn.toISOString() }),
      ...(pick.notBefore && { notBefore: pick.notBefore.toISOString() }),
      ...(pick.expiresOn && { expiresAt: pick.expiresOn.toISOString() }),
    };
    const previous = this.#current;
    this.#current = { version: pick.version, kid, signer, inUse };
    log.info(
      `[${o.profile}] ${previous ? `Switched from version ${previous.version} to` : 'Signing with'} ${what} version ${pick.version} (kid ${kid}, RSA ${bits}); the key stays in Key Vault.`,
    );
    return signer;
  }

  #keyClient(): Promise<KeyClient> {
    this.#client ??= createKeyClient(this.o);
    return this.#client;
  }

  async #listVersions(what: string): Promise<VersionFacts[]> {
    const client = await this.#keyClient();
    const versions: VersionFacts[] = [];
    try {
      await keyVaultCall(this.o.vaultUrl, 'GET', 'listKeyVersions', async () => {
        for await (const p of client.listPropertiesOfKeyVersions(this.o.keyName, { abortSignal: AbortSignal.timeout(this.o.timeoutMs) })) {
          versions.push(facts(p));
        }
      });
    } catch (err) {
      throw vaultError(err, 'list the versions of', what, CRYPTO_USER, 'KEY_NOT_FOUND');
    }
    if (versions.length === 0) throw new KeyError('KEY_NOT_FOUND', `${what} has no versions: create it with "keygen <name> --vault <url> --vault-key ${this.o.keyName}".`);
    return versions;
  }
}

function facts(p: KeyProperties): VersionFacts {
  return {
    version: p.version ?? '',
    enabled: p.enabled !== false,
    ...(p.notBefore && { notBefore: p.notBefore }),
    ...(p.expiresOn && { expiresOn: p.expiresOn }),
    ...(p.createdOn && { createdOn: p.createdOn }),
    ...(p.tags && { tags: p.tags }),
  };
}
