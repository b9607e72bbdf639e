// The token vault read directly, with the same interface as the HTTP client: the newest version of the token secret
// the broker writes, cached by the secret's `exp` attribute. @azure/keyvault-secrets is loaded on first use.
import type { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { authorizedFetch, type FetchFunction } from './authorized-fetch.js';
import type { BrokerClient } from './broker-client.js';
import { BrokerClientError, badOption } from './errors.js';
import { checkCredential, checkMargin, checkPositive, checkUrl, lazyCredential } from './options.js';
import { TokenCache, type LoadedToken } from './token-cache.js';

export interface VaultTokenSourceOptions {
  /** The broker's vault, e.g. `https://<vault>.vault.azure.net` (its KEY_VAULT_URL). */
  readonly vaultUrl: string;
  /** The token secret (the broker's TOKEN_SECRET); default `altinn-token`. A named profile's is `altinn-token-<name>`. */
  readonly secretName?: string;
  /** Any `@azure/identity` TokenCredential; default `new DefaultAzureCredential()` (built on first use). It needs
   *  the "Key Vault Secrets User" role on the secret (or the vault). */
  readonly credential?: TokenCredential;
  /** Re-read the secret when less than this is left; default 60. */
  readonly refreshMarginSeconds?: number;
  /** Bound on each read, the SDK's own retries included; default 30000. */
  readonly timeoutMs?: number;
  /** The fetch used by `fetch()`; default the global fetch. */
  readonly fetch?: FetchFunction;
  /** Clock in ms since the epoch (tests); default Date.now. */
  readonly now?: () => number;
}

const SECRET_NAME = /^[A-Za-z][0-9A-Za-z-]{0,126}$/;

/** A token source over the vault. A plain-http loopback `vaultUrl` (a local Key Vault simulator, never a real
 *  vault) is accepted and then skips the SDK's https and challenge-resource checks. */
export function createVaultTokenSource(options: VaultTokenSourceOptions): BrokerClient {
  const o = (options ?? {}) as Partial<VaultTokenSourceOptions>;
  const { url, loopback } = checkUrl('vaultUrl', o.vaultUrl, 'https://<vault>.vault.azure.net');
  const secretName = o.secretName ?? 'altinn-token';
  if (typeof secretName !== 'string' || !SECRET_NAME.test(secretName)) {
    throw badOption('secretName', 'must be a Key Vault secret name (1-127 letters, digits and "-", starting with a letter).');
  }
  const credential = lazyCredential(checkCredential(o.credential));
  const marginMs = checkMargin(o.refreshMarginSeconds) * 1000;
  const timeoutMs = checkPositive('timeoutMs', o.timeoutMs, 30_000, 600_000);
  const doFetch: FetchFunction = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = o.now ?? Date.now;
  const insecureLocal = loopback && url.startsWith('http:');

  let client: Promise<SecretClient> | undefined;
  const getClient = () =>
    (client ??= (async () => {
      const { SecretClient } = await import('@azure/keyvault-secrets');
      return new SecretClient(url, await credential(), {
        ...(insecureLocal && { allowInsecureConnection: true, disableChallengeResourceVerification: true }),
        retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 4_000 },
      });
    })());

  const load = async (): Promise<LoadedToken> => {
    const secret = await (await getClient()).getSecret(secretName, { abortSignal: AbortSignal.timeout(timeoutMs) }).catch((err: unknown) => {
      throw vaultError(err, secretName, url);
    });
    const token = secret.value;
    const exp = secret.properties.expiresOn;
    if (!token) throw new BrokerClientError('VAULT_BAD_SECRET', `Secret "${secretName}" in ${url} is empty.`);
    if (!(exp instanceof Date) || Number.isNaN(exp.getTime())) {
      throw new BrokerClientError('VAULT_BAD_SECRET', `Secret "${secretName}" in ${url} has no expiry (exp) attribute: is it the token secret the broker writes (its TOKEN_SECRET)?`);
    }
    if (exp.getTime() <= now()) {
      throw new BrokerClientError('VAULT_TOKEN_EXPIRED', `The newest version of secret "${secretName}" in ${url} has expired: the broker has not refreshed it (check its GET /api/health and logs).`);
    }
    return { token, expiresAtMs: exp.getTime() };
  };

  const cache = new TokenCache(load, marginMs, now);
  return {
    getToken: () => cache.get(),
    fetch: (input, init) => authorizedFetch(cache, doFetch, input, init),
  };
}

/** The SDK's status only: neither its message nor the error itself (it carries the request) is passed on. */
function vaultError(err: unknown, name: string, url: string): BrokerClientError {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  const s = typeof status === 'number' ? status : undefined;
  const facts = s === undefined ? {} : { status: s };
  if (s === 404) return new BrokerClientError('VAULT_SECRET_NOT_FOUND', `Secret "${name}" does not exist in ${url}: check "secretName" (the broker's TOKEN_SECRET) and "vaultUrl".`, facts);
  if (s === 401 || s === 403) {
    return new BrokerClientError('VAULT_DENIED', `Key Vault denied reading secret "${name}" (${s}): give this service's identity the "Key Vault Secrets User" role on the secret or the vault, or the newest version is disabled.`, facts);
  }
  return new BrokerClientError('VAULT_UNAVAILABLE', `Reading secret "${name}" from ${url} failed (${s ?? 'no answer'}): check "vaultUrl" and network access to the vault.`, facts);
}
