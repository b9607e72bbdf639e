// Reading and decoding a profile's key secret, shared by the broker (which caches by version) and the CLI.
import { DEFAULT_PROFILE, type Profile } from '../config/config.js';
import { StoreError } from '../errors.js';
import { decodeKey, type SigningKey } from './decode.js';
import type { Logger } from '../logging.js';
import type { SecretStore, StoredSecret } from '../vault/store.js';

/** The setting that names a profile's key secret, for messages. */
export function keySetting(profile: Profile): string {
  return profile.name === DEFAULT_PROFILE ? 'MASKINPORTEN_KEY_SECRET' : `PROFILE__${profile.name}__MASKINPORTEN_KEY_SECRET`;
}

export async function readKeySecret(store: SecretStore, profile: Profile): Promise<StoredSecret> {
  if (profile.keySecret === undefined) {
    throw new StoreError('KEY_NOT_FOUND', `Profile "${profile.name}" signs inside Key Vault (${profile.keySource?.kind ?? 'no key source'}), not with a key secret.`);
  }
  const secret = await store.read(profile.keySecret);
  if (!secret) {
    throw new StoreError(
      'KEY_NOT_FOUND',
      `The key secret "${profile.keySecret}" (${keySetting(profile)}) does not exist in the vault: store the base64-encoded private key under that name.`,
      404,
    );
  }
  return secret;
}

export async function decodeProfileKey(secret: StoredSecret, profile: Profile, log: Logger): Promise<SigningKey> {
  const key = await decodeKey(secret.value, {
    secretName: profile.keySecret ?? '',
    setting: keySetting(profile),
    ...(profile.kid !== undefined && { kid: profile.kid }),
  });
  key.warnings.forEach((w) => log.warn(`[${profile.name}] ${w}`));
  log.info(`[${profile.name}] Loaded key ${key.kid} (${key.alg}, RSA ${key.bits}) from secret "${profile.keySecret}" version ${secret.version}.`);
  return key;
}
