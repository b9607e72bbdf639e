// Key Vault adapter of the SecretStore port, through @azure/keyvault-secrets. The SDK and @azure/identity are
// loaded lazily (cold start). A loopback http vault URL means the local simulator: plain http, dummy credential.
import type { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { StoreError } from '../errors.js';
import { PLACEHOLDER_CONTENT_TYPE, type DroppableStore, type DropResult, type StoredSecret, type TokenDrop, type TokenWrite } from './store.js';
import { registerSecret } from '../logging.js';
import { keyVaultCall } from '../telemetry/instruments.js';

export interface KeyVaultStoreOptions {
  readonly vaultUrl: string;
  /** true only for a loopback simulator URL (see parseConfig). */
  readonly local: boolean;
  /** Bound on each operation, the SDK's own retries included; default 30 s. */
  readonly timeoutMs?: number;
  /** The setting that names this vault, for messages; default KEY_VAULT_URL. */
  readonly setting?: string;
  /** Overrides the credential (tests); otherwise DefaultAzureCredential, or a dummy one for a local vault. */
  readonly credential?: TokenCredential;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** For the local simulator only: it checks that a bearer token is sent, not what it is. */
const LOCAL_CREDENTIAL: TokenCredential = {
  getToken: async () => ({ token: 'local-simulator', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** A SecretClient for a vault; `local` (a loopback http simulator only) allows plain http and a dummy credential.
 *  The SDKs are imported here, on first use, not at start-up. */
export async function createSecretClient(vaultUrl: string, local: boolean, credential?: TokenCredential): Promise<SecretClient> {
  const { SecretClient } = await import('@azure/keyvault-secrets');
  const cred = credential ?? (local ? LOCAL_CREDENTIAL : new (await import('@azure/identity')).DefaultAzureCredential());
  return new SecretClient(vaultUrl, cred, {
    ...(local && { allowInsecureConnection: true, disableChallengeResourceVerification: true }),
    retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 4_000 },
  });
}

export class KeyVaultStore implements DroppableStore {
  private client?: Promise<SecretClient>;

  constructor(private readonly options: KeyVaultStoreOptions) {}

  private getClient(): Promise<SecretClient> {
    this.client ??= createSecretClient(this.options.vaultUrl, this.options.local, this.options.credential);
    return this.client;
  }

  async read(name: string): Promise<StoredSecret | undefined> {
    const client = await this.getClient();
    try {
      const secret = await keyVaultCall(this.options.vaultUrl, 'GET', 'getSecret', () =>
        client.getSecret(name, { abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) }),
      );
      registerSecret(secret.value);
      return { value: secret.value ?? '', version: secret.properties.version ?? '', tags: secret.properties.tags ?? {} };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw storeError(err, 'read', name, this.options.setting);
    }
  }

  async writeToken(name: string, w: TokenWrite): Promise<{ version: string }> {
    const client = await this.getClient();
    try {
      const secret = await keyVaultCall(this.options.vaultUrl, 'PUT', 'setSecret', () =>
        client.setSecret(name, w.token, {
          contentType: 'application/jwt',
          expiresOn: new Date(w.expiresAt),
          notBefore: new Date(Math.floor(w.issuedAt / 1000) * 1000),
          tags: { ...w.tags },
          abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        }),
      );
      return { version: secret.properties.version ?? '' };
    } catch (err) {
      throw storeError(err, 'write', name, this.options.setting);
    }
  }

  /** Drops a token secret's value: writes a tombstone version on top (the placeholder content type and tag, which
   *  the broker and consumers treat as "no token"), then disables every older version that holds a token still
   *  valid at `drop.at`, so it can no longer be read by version either. Lists every version (one call per 25). */
  async dropToken(name: string, drop: TokenDrop): Promise<DropResult> {
    const client = await this.getClient();
    const timeout = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const tomb = await client.setSecret(name, DROPPED_VALUE, {
        contentType: PLACEHOLDER_CONTENT_TYPE,
        tags: { ...drop.tags, 'broker-placeholder': 'true', 'broker-dropped': new Date(drop.at).toISOString() },
        abortSignal: AbortSignal.timeout(timeout),
      });
      let disabledVersions = 0;
      for await (const p of client.listPropertiesOfSecretVersions(name, { abortSignal: AbortSignal.timeout(4 * timeout) })) {
        if (!p.version || p.version === tomb.properties.version || p.enabled === false || p.contentType !== 'application/jwt') continue;
        if (p.expiresOn && p.expiresOn.getTime() <= drop.at) continue; // expired: useless to anyone
        await client.updateSecretProperties(name, p.version, { enabled: false, abortSignal: AbortSignal.timeout(timeout) });
        disabledVersions++;
      }
      return { version: tomb.properties.version ?? '', disabledVersions };
    } catch (err) {
      throw storeError(err, 'drop', name, this.options.setting);
    }
  }
}

/** The value of a tombstone version: says what happened, holds nothing usable. */
const DROPPED_VALUE = 'dropped: an operator dropped this token; the broker writes a new one here on its next refresh';

export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Maps an SDK error to a StoreError with the status and service error code only (no SDK message, no body). */
function storeError(err: unknown, op: 'read' | 'write' | 'drop', name: string, setting = 'KEY_VAULT_URL'): StoreError {
  const status = statusOf(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  const service = typeof code === 'string' && /^[A-Za-z]{1,64}$/.test(code) ? ` ${code}` : '';
  if (status === 401 || status === 403) {
    return new StoreError(
      'STORE_REJECTED',
      `Key Vault denied ${op} of secret "${name}" (${status}${service}): give the app's managed identity the "${op === 'write' ? 'Key Vault Secrets Officer' : 'Key Vault Secrets User'}" role on the vault (${setting}), and check AZURE_CLIENT_ID.`,
      status,
    );
  }
  if (status === 400) {
    return new StoreError('STORE_REJECTED', `Key Vault refused to ${op} secret "${name}" (400${service}).`, status);
  }
  return new StoreError(
    'STORE_UNAVAILABLE',
    `Key Vault ${op} of secret "${name}" failed (${status ?? 'no answer'}${service}): check ${setting} and network access to the vault.`,
    status,
  );
}
