// Key Vault keys and certificates clients for the signing key sources (keys/) and `keygen --vault-key`. The SDKs and
// @azure/identity are imported on first use (cold start). A loopback http vault URL means the local simulator:
// plain http and a dummy credential, as for the secrets client (keyvault-store.ts).
import type { TokenCredential } from '@azure/identity';
import type { CertificateClient } from '@azure/keyvault-certificates';
import type { CryptographyClient, KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import { StoreError, type BrokerErrorCode } from '../errors.js';

/** For the local simulator only: it checks that a bearer token is sent, not what it is. */
const LOCAL_CREDENTIAL: TokenCredential = {
  getToken: async () => ({ token: 'local-simulator', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export interface VaultTarget {
  readonly vaultUrl: string;
  /** true only for a loopback http simulator. */
  readonly local: boolean;
  /** Overrides the credential (tests); otherwise DefaultAzureCredential, or a dummy one for a local vault. */
  readonly credential?: TokenCredential;
}

let defaultCredential: Promise<TokenCredential> | undefined;

async function credentialFor(t: VaultTarget): Promise<TokenCredential> {
  if (t.credential) return t.credential;
  if (t.local) return LOCAL_CREDENTIAL;
  defaultCredential ??= import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
  return defaultCredential;
}

function options(t: VaultTarget) {
  return {
    ...(t.local && { allowInsecureConnection: true, disableChallengeResourceVerification: true }),
    retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 4_000 },
  };
}

export async function createKeyClient(t: VaultTarget): Promise<KeyClient> {
  const { KeyClient } = await import('@azure/keyvault-keys');
  return new KeyClient(t.vaultUrl, await credentialFor(t), options(t));
}

/** A client bound to one fetched key version: signing is then one call, with no read of the key first. */
export async function createCryptographyClient(t: VaultTarget, key: KeyVaultKey): Promise<CryptographyClient> {
  const { CryptographyClient } = await import('@azure/keyvault-keys');
  return new CryptographyClient(key, await credentialFor(t), options(t));
}

export async function createCertificateClient(t: VaultTarget): Promise<CertificateClient> {
  const { CertificateClient } = await import('@azure/keyvault-certificates');
  return new CertificateClient(t.vaultUrl, await credentialFor(t), options(t));
}

export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Maps an SDK error to a StoreError with the status and service error code only (no SDK message, no body).
 *  `op` is a verb phrase that reads before `what` ("sign with", "list the versions of"), `what` names the object
 *  and its setting, `role` the role that allows the operation. */
export function vaultError(err: unknown, op: string, what: string, role: string, notFound: BrokerErrorCode = 'STORE_REJECTED'): StoreError {
  const status = statusOf(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  const service = typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code) ? ` ${code}` : '';
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return new StoreError('STORE_REJECTED', `Could not sign in to Key Vault to ${op} ${what} (${String(name)}): check the managed identity and AZURE_CLIENT_ID.`);
  }
  if (status === 404) return new StoreError(notFound, `${what} does not exist in the vault (404${service}): check the name and KEY_VAULT_URL.`, status);
  if (status === 401 || status === 403) {
    return new StoreError('STORE_REJECTED', `Key Vault denied the request to ${op} ${what} (${status}${service}): give the app's managed identity the "${role}" role on the vault (KEY_VAULT_URL), and check AZURE_CLIENT_ID.`, status);
  }
  if (status === 400) return new StoreError('STORE_REJECTED', `Key Vault refused to ${op} ${what} (400${service}).`, status);
  return new StoreError('STORE_UNAVAILABLE', `The Key Vault request to ${op} ${what} failed (${status ?? 'no answer'}${service}): check KEY_VAULT_URL and network access to the vault.`, status);
}
