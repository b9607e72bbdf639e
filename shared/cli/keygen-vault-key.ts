// `keygen <name> --vault <url> --vault-key <key>`: creates the Maskinporten signing key inside Key Vault (an RSA
// key whose private part never leaves the vault), tags it with an Altinn-style kid and prints the public JWK for the
// self-service portal. `--rotate` adds a new version with a future notBefore and a kid no other version has.
// No file is written in this mode.
import type { KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import type { Environment } from '../config/config.js';
import { isLoopback } from '../config/config.js';
import { freeKid } from '../keys/keygen.js';
import { createKeyClient, statusOf } from '../vault/clients.js';
import { KID_TAG } from '../keys/vault-key.js';
import { CommandError, EXIT, oneOf, parseFlags, UsageError, type Io } from './args.js';

export const VAULT_KEY_USAGE = `Usage: maskinporten-broker keygen <name> --vault <url> --vault-key <key> [--rotate [--not-before <time>]] [options]

Creates the Maskinporten signing key inside Key Vault: an RSA key that can sign but never be read or exported,
tagged "${KID_TAG}" with the kid <name>-TEST.<UTC time> (or -PROD.). Prints the public JWK for Digdir's
self-service portal. No file is written. The app then signs with it: MASKINPORTEN_VAULT_KEY=<key>.

  --vault <url>          the Key Vault (https://<vault>.vault.azure.net); signs in with DefaultAzureCredential (az login)
  --vault-key <key>      the key's name in the vault
  --rotate               add a new version to an existing key, valid from --not-before; the app switches to it then
  --not-before <time>    with --rotate: ISO time (2026-12-01T08:00:00Z) or +<n>s|m|h|d from now (default: +24h)
  --env test|prod        Maskinporten environment (default: test)
  --bits 2048|3072|4096  RSA modulus length (default: 2048)
  --kid <kid>            use this kid instead of the generated one (must differ from every kid on the key)
  -h, --help             show this help
`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const KID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEY_NAME = /^[a-zA-Z0-9][0-9a-zA-Z-]{0,126}$/;
const BITS = ['2048', '3072', '4096'] as const;
const TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;

/** true when the keygen arguments ask for a key inside Key Vault (dispatched from keygen-command.ts). */
export function wantsVaultKey(args: readonly string[]): boolean {
  return args.some((a) => a === '--vault-key' || a.startsWith('--vault-key=') || a === '--rotate' || a === '--not-before' || a.startsWith('--not-before='));
}

interface VaultKeyOptions {
  readonly name: string;
  readonly environment: Environment;
  readonly bits: number;
  readonly kid?: string;
  readonly vaultUrl: URL;
  readonly keyName: string;
  readonly rotate: boolean;
  /** ms since the epoch; only with rotate. */
  readonly notBefore?: number;
}

function parse(args: readonly string[], now: number): VaultKeyOptions | 'help' {
  const { values, positionals } = parseFlags({
    args: [...args],
    allowPositionals: true,
    options: {
      env: { type: 'string' },
      bits: { type: 'string' },
      kid: { type: 'string' },
      vault: { type: 'string' },
      'vault-key': { type: 'string' },
      rotate: { type: 'boolean', default: false },
      'not-before': { type: 'string' },
      out: { type: 'string' },
      secret: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  for (const flag of ['out', 'secret', 'force'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) {
      throw new UsageError(`--${flag} does not go with --vault-key: the key is made inside Key Vault and no private key file or secret is ever written.`);
    }
  }
  if (values['vault-key'] === undefined) throw new UsageError('--rotate and --not-before need --vault-key <key>: the Key Vault key to add a version to.');
  if (values.vault === undefined) throw new UsageError('--vault-key needs --vault <url>: the Key Vault to create the key in.');
  if (!KEY_NAME.test(values['vault-key'])) {
    throw new UsageError(`--vault-key ${JSON.stringify(values['vault-key'])} is not a valid Key Vault key name: use 1-127 letters, digits and dashes.`);
  }
  if (values['not-before'] !== undefined && !values.rotate) throw new UsageError('--not-before goes with --rotate: a new key is valid at once.');
  if (positionals.length !== 1) throw new UsageError('keygen needs one <name> for the kid, e.g. your organisation: "keygen myorg --vault <url> --vault-key <key>".');
  const name = positionals[0]!;
  if (!NAME.test(name)) throw new UsageError(`The key <name> ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, "-" or "_", starting with a letter or digit.`);
  if (values.kid !== undefined && !KID.test(values.kid)) {
    throw new UsageError(`--kid ${JSON.stringify(values.kid)} is not valid: use 1-128 letters, digits, ".", "-" or "_", starting with a letter or digit.`);
  }
  let vaultUrl: URL;
  try {
    vaultUrl = new URL(values.vault);
  } catch {
    throw new UsageError(`--vault ${JSON.stringify(values.vault)} is not a URL: give the vault URI, e.g. https://my-vault.vault.azure.net.`);
  }
  if (!(vaultUrl.protocol === 'https:' || (vaultUrl.protocol === 'http:' && isLoopback(vaultUrl)))) {
    throw new UsageError('--vault must use https (plain http is allowed only for 127.0.0.1 or localhost).');
  }
  return {
    name,
    environment: oneOf('--env', values.env ?? 'test', ['test', 'prod'] as const),
    bits: Number(oneOf('--bits', values.bits ?? '2048', BITS)),
    ...(values.kid !== undefined && { kid: values.kid }),
    vaultUrl,
    keyName: values['vault-key'],
    rotate: values.rotate,
    ...(values.rotate && { notBefore: parseNotBefore(values['not-before'] ?? '+24h', now) }),
  };
}

/** An ISO time, or +<n>s|m|h|d from now; whole seconds (Key Vault keeps seconds). */
export function parseNotBefore(text: string, now: number): number {
  const rel = /^\+(\d{1,6})([smhd])$/.exec(text);
  const ms = rel ? now + Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS }[rel[2] as 's' | 'm' | 'h' | 'd'] : Date.parse(text);
  if (!Number.isFinite(ms) || (!rel && !/^\d{4}-\d{2}-\d{2}T/.test(text))) {
    throw new UsageError(`--not-before ${JSON.stringify(text)} is not a time: give an ISO time such as 2026-12-01T08:00:00Z, or +24h, +2d, +30m.`);
  }
  if (ms < now - 60_000) throw new UsageError(`--not-before ${JSON.stringify(text)} is in the past: the new version would take over at once, before the portal knows its key.`);
  return Math.ceil(ms / 1000) * 1000;
}

export async function keygenVaultKeyCommand(args: readonly string[], io: Io): Promise<number> {
  const now = Date.now();
  const o = parse(args, now);
  if (o === 'help') {
    io.out(VAULT_KEY_USAGE);
    return EXIT.OK;
  }
  const where = `key "${o.keyName}" in ${o.vaultUrl.origin}`;
  const client = await createKeyClient({ vaultUrl: o.vaultUrl.origin, local: o.vaultUrl.protocol === 'http:' && isLoopback(o.vaultUrl) });
  const existing = await existingKids(client, o.keyName, where);
  if (existing && !o.rotate) {
    throw new CommandError(`Key Vault ${where} already exists (${existing.length} version(s)); nothing was created. Rerun with --rotate to add a new version, or choose another --vault-key.`);
  }
  if (!existing && o.rotate) {
    throw new CommandError(`Key Vault ${where} does not exist, so there is nothing to rotate: run the same command without --rotate to create it.`);
  }
  const kids = new Set(existing ?? []);
  if (o.kid !== undefined && kids.has(o.kid)) {
    throw new UsageError(`--kid ${JSON.stringify(o.kid)} is already used by a version of ${where}: every version needs its own kid.`);
  }
  const kid = o.kid ?? freeKid(o.name, o.environment, (k) => kids.has(k), new Date(now)).kid;

  let key: KeyVaultKey;
  try {
    key = await client.createRsaKey(o.keyName, {
      keySize: o.bits,
      keyOps: ['sign', 'verify'],
      tags: { [KID_TAG]: kid },
      ...(o.notBefore !== undefined && { notBefore: new Date(o.notBefore) }),
      abortSignal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw cliVaultError(err, 'create a version of', where);
  }
  const n = key.key?.n;
  const e = key.key?.e;
  if (!n || !e) throw new CommandError(`Key Vault created ${where} but returned no public key: read it with "az keyvault key show".`);
  const publicJwk = { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: Buffer.from(e).toString('base64url'), kid, alg: 'RS256', use: 'sig' };
  io.out(
    [
      o.rotate
        ? `Added version ${key.properties.version} to Key Vault ${where}: RSA ${o.bits}, valid from ${new Date(o.notBefore!).toISOString()}.`
        : `Created Key Vault ${where}: RSA ${o.bits}, version ${key.properties.version}, for Maskinporten ${o.environment.toUpperCase()}.`,
      'The private key was made inside Key Vault and cannot be read or exported; no file was written.',
      '',
      `kid: ${kid}`,
      '',
      'Public key (JWK): paste this into the self-service portal:',
      JSON.stringify(publicJwk, null, 2),
      '',
      nextSteps(o, kid),
    ].join('\n'),
  );
  return EXIT.OK;
}

/** The kids on every version of the key, or undefined when there is no such key. */
async function existingKids(client: KeyClient, keyName: string, where: string): Promise<string[] | undefined> {
  const kids: string[] = [];
  let count = 0;
  try {
    for await (const p of client.listPropertiesOfKeyVersions(keyName, { abortSignal: AbortSignal.timeout(TIMEOUT_MS) })) {
      count++;
      const kid = p.tags?.[KID_TAG];
      if (kid !== undefined) kids.push(kid);
    }
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw cliVaultError(err, 'read', where);
  }
  return count === 0 ? undefined : kids;
}

function nextSteps(o: VaultKeyOptions, kid: string): string {
  const steps = o.rotate
    ? [
        `Add the public key above to your client's Keys in the self-service portal now, before ${new Date(o.notBefore!).toISOString()}; keep the old key registered.`,
        `At that time the app switches to the new version at its next timer run (no restart); its grants then carry kid ${kid}.`,
        'Once the new kid shows in /api/health, remove the old key from the portal and disable the old version in Key Vault.',
      ]
    : [
        `Add the public key above to your Maskinporten client's Keys in the self-service portal; the portal shows its kid: ${kid}.`,
        `Set the app settings: MASKINPORTEN_VAULT_KEY=${o.keyName} (no MASKINPORTEN_KEY_SECRET, and no MASKINPORTEN_KID: the kid comes from the key's "${KID_TAG}" tag).`,
        `Give the app's managed identity the "Key Vault Crypto User" role on this vault (sign, and read the key's public part); it needs no secret read for the key.`,
        'Check the registration before deploying: npm run token.',
      ];
  return `Next steps:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`;
}

/** Status, service error code and credential error name only: never the SDK message or a response body. */
function cliVaultError(err: unknown, op: string, where: string): CommandError {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return new CommandError(`Could not sign in to Azure to ${op} Key Vault ${where} (${String(name)}): run "az login" (DefaultAzureCredential).`, { cause: err });
  }
  const status = statusOf(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  const service = typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code) ? ` ${code}` : '';
  if (status === 401 || status === 403) {
    return new CommandError(`Key Vault denied ${op} ${where} (${status}${service}): you need the "Key Vault Crypto Officer" role on the vault.`, { cause: err });
  }
  if (status === 409) {
    return new CommandError(`Key Vault refused to ${op} ${where} (409${service}): a deleted key of that name is kept (soft delete); recover or purge it, or choose another --vault-key.`, { cause: err });
  }
  return new CommandError(`Key Vault ${op} ${where} failed (${status ?? 'no answer'}${service}): check --vault and your network access to the vault.`, { cause: err });
}
