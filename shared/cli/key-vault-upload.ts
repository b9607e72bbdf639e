// Stores a generated private key (base64 of the private JWK) as a Key Vault secret for `keygen --vault --secret`.
// The client comes from shared/vault/keyvault-store.ts: a loopback http URL is the local simulator, otherwise DefaultAzureCredential.
import { isLoopback } from '../config/config.js';
import { createSecretClient, statusOf } from '../vault/keyvault-store.js';
import { jwkKids } from '../keys/keygen.js';
import { CommandError } from './args.js';

export const KEY_CONTENT_TYPE = 'application/jwk+json;base64';
/** Bound on each Key Vault call, the SDK's retries included (as shared/vault/keyvault-store.ts). */
const TIMEOUT_MS = 30_000;

export interface KeyUpload {
  readonly vaultUrl: URL;
  readonly secretName: string;
  /** Replace an existing secret (adds a new version); otherwise an existing secret is an error. */
  readonly force: boolean;
}

export interface KeyVaultTarget {
  /**
   * Fails when the secret exists and force is off: checked before any file is written. Otherwise answers the kids
   * the existing secret holds (its `kid` tag and the kids of the JWK or JWKS in its value), so a new key avoids them.
   */
  checkWritable(): Promise<string[]>;
  store(base64: string, kid: string): Promise<{ version: string }>;
}

export async function keyVaultTarget(u: KeyUpload): Promise<KeyVaultTarget> {
  const client = await createSecretClient(u.vaultUrl.origin, u.vaultUrl.protocol === 'http:' && isLoopback(u.vaultUrl));
  const where = `secret "${u.secretName}" in ${u.vaultUrl.origin}`;
  return {
    async checkWritable() {
      let existing: { value?: string; properties: { tags?: Record<string, string> } } | undefined;
      try {
        existing = await client.getSecret(u.secretName, { abortSignal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        if (statusOf(err) !== 404) throw vaultError(err, 'read', where);
      }
      if (existing && !u.force) {
        throw new CommandError(
          `Key Vault ${where} already exists; nothing was written. A new version would replace the key the app signs with ` +
            `at its next refresh, so register the new public key in the portal first. Rerun with --force to add the new version, or choose another --secret.`,
        );
      }
      const tagKid = existing?.properties.tags?.kid;
      return [...(tagKid ? [tagKid] : []), ...kidsOfValue(existing?.value)];
    },
    async store(base64, kid) {
      try {
        const secret = await client.setSecret(u.secretName, base64, {
          contentType: KEY_CONTENT_TYPE,
          tags: { kid },
          abortSignal: AbortSignal.timeout(TIMEOUT_MS),
        });
        return { version: secret.properties.version ?? '' };
      } catch (err) {
        throw vaultError(err, 'write', where);
      }
    },
  };
}

/** The kids in a key secret's value (base64 of a JWK or JWKS, or the JSON itself); never anything else from it. */
function kidsOfValue(value: string | undefined): string[] {
  if (!value) return [];
  const trimmed = value.trim();
  for (const text of [trimmed, Buffer.from(trimmed, 'base64').toString('utf8')]) {
    try {
      return jwkKids(JSON.parse(text));
    } catch {
      // try the next form
    }
  }
  return [];
}

/** Status, service error code and credential error name only: never the SDK message or a response body. */
function vaultError(err: unknown, op: 'read' | 'write', where: string): CommandError {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return new CommandError(
      `Could not sign in to Azure to ${op} Key Vault ${where} (${String(name)}): run "az login" (DefaultAzureCredential), ` +
        'or store the .private.jwk.b64 file yourself (see the next steps).',
      { cause: err },
    );
  }
  const status = statusOf(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  const service = typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code) ? ` ${code}` : '';
  if (status === 401 || status === 403) {
    return new CommandError(
      `Key Vault denied ${op} of ${where} (${status}${service}): you need the "Key Vault Secrets Officer" role on the vault.`,
      { cause: err },
    );
  }
  if (status === 409) {
    return new CommandError(
      `Key Vault refused to ${op} ${where} (409${service}): a deleted secret of that name is kept (soft delete); recover or purge it, or choose another --secret.`,
      { cause: err },
    );
  }
  if (name === 'AbortError') {
    return new CommandError(`Key Vault ${op} of ${where} timed out after ${TIMEOUT_MS / 1000} s: check --vault and your network access to the vault.`, { cause: err });
  }
  return new CommandError(`Key Vault ${op} of ${where} failed (${status ?? 'no answer'}${service}): check --vault and your network access to the vault.`, {
    cause: err,
  });
}
