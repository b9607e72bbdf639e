// `token`: mints one token with the app's own settings and code path (Key Vault key → Maskinporten → Altinn) and
// prints its decoded header and claims; writes nothing to the vault and prints the token only with --show-token.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEFAULT_PROFILE, parseConfig, type Config, type Profile } from '../config/config.js';
import { BrokerError, ConfigError, StoreError } from '../errors.js';
import { loadEnvFile, loadLocalSettings } from '../local/settings.js';
import { redact, redactingLogger } from '../logging.js';
import { decodeProfileKey, readKeySecret } from '../keys/profile-key.js';
import { vaultSigningSource } from '../keys/key-source.js';
import { createStore, mintContext } from '../runtime.js';
import { mintToken, type MintedToken } from '../broker/mint.js';
import { CommandError, EXIT, parseFlags, UsageError, type Io } from './args.js';

export const TOKEN_USAGE = `Usage: maskinporten-broker token [--profile <name>] [--show-token] [--settings <file>]
       npm run token -- [--profile <name>] [--show-token] [--settings <file>]

Mints one token exactly as the app does (key from Key Vault, Maskinporten grant, Altinn exchange unless the
profile turns it off) and prints its decoded header and claims and its expiry. Nothing is written to Key Vault.
Settings: the environment first, then local.settings.json (Values) in the current directory, as for the app.

Options:
  --profile <name>  the token profile to use (default: default)
  --show-token      also print the token itself (it is a credential: do not paste it anywhere shared)
  --settings <file> also read settings from this file (NAME=value or export NAME=value lines), after the
                    environment and before local.settings.json; "npm run sims" writes one (.sims.env)
  -h, --help        show this help

Exit codes: 0 token minted; 1 Key Vault, the key, Maskinporten or Altinn failed; 2 bad flags or settings.
`;

export async function tokenCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseFlags({
    args: [...args],
    allowPositionals: false,
    options: {
      profile: { type: 'string', short: 'p' },
      'show-token': { type: 'boolean', default: false },
      settings: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(TOKEN_USAGE);
    return EXIT.OK;
  }
  const envFile = values['settings'];
  if (envFile !== undefined) readEnvFile(envFile);
  const settingsFile = readLocalSettings();
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${err.message}\nSettings read from: the environment${envFile ? `, ${envFile}` : ''}${settingsFile ? ` and ${settingsFile}` : ' (no local.settings.json here)'}.\n`);
    return EXIT.USAGE;
  }
  const profile = findProfile(config, values.profile ?? DEFAULT_PROFILE);
  io.err(
    `Settings: the environment${envFile ? ` + ${envFile}` : ''}${settingsFile ? ` + ${settingsFile}` : ''}. Profile "${profile.name}": client ${profile.clientId}, ` +
      `scopes "${profile.scopes.join(' ')}", ${profile.keySource ? `${profile.keySource.kind === 'vault-key' ? 'Key Vault key' : 'certificate'} "${profile.keySource.name}"` : `key secret "${profile.keySecret}"`} in ${config.keyVaultUrl}, ${config.tokenUrl}` +
      `${profile.altinnExchange ? `, then Altinn ${config.altinnUrl}` : ' (no Altinn exchange)'}.\n`,
  );
  const log = redactingLogger({
    info: (m) => io.err(`${m}\n`),
    warn: (m) => io.err(`warning: ${m}\n`),
    error: (m) => io.err(`error: ${m}\n`),
  });
  try {
    const source = vaultSigningSource(profile, { now: Date.now, timeoutMs: 3 * config.httpTimeoutMs });
    const key = source ? await source.signer(log) : await decodeProfileKey(await readKeySecret(createStore(config), profile), profile, log);
    const minted = await mintToken(profile, key, mintContext(config), log);
    io.out(describeToken(profile, minted, values['show-token']));
    return EXIT.OK;
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    if (err instanceof StoreError && err.code !== 'KEY_NOT_FOUND' && !config.localVault) io.err(`${STORE_HINT}\n`);
    return EXIT.FAILED;
  }
}

/** The store's messages speak of the app's managed identity; from a workstation it is the developer who signs in. */
const STORE_HINT =
  'From this machine Key Vault is read as you, through DefaultAzureCredential: sign in with "az login" (tenant of the vault) ' +
  'and make sure you have the "Key Vault Secrets User" role (or Officer) on the vault and network access to it.';

function readEnvFile(path: string): void {
  try {
    loadEnvFile(path);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function readLocalSettings(): string | undefined {
  try {
    return loadLocalSettings();
  } catch {
    throw new UsageError(`${process.cwd()}/local.settings.json could not be read as JSON: fix it, or set the settings in the environment.`);
  }
}

function findProfile(config: Config, name: string): Profile {
  const profile = config.profiles.find((p) => p.name === name.toLowerCase());
  if (!profile) {
    throw new UsageError(`--profile: there is no token profile "${name}". Configured profiles: ${config.profiles.map((p) => p.name).join(', ')}.`);
  }
  return profile;
}

function describeToken(profile: Profile, minted: MintedToken, showToken: boolean): string {
  const what = minted.kind === 'altinn' ? 'Altinn token' : 'Maskinporten token';
  const lines = [
    `${what} for profile "${profile.name}", valid until ${new Date(minted.expiresAt).toISOString()} (${duration(minted.expiresAt - Date.now())} from now).`,
  ];
  try {
    lines.push('', 'Header:', JSON.stringify(decodeProtectedHeader(minted.token), null, 2));
    lines.push('', 'Claims:', JSON.stringify(decodeJwt(minted.token), null, 2));
  } catch {
    lines.push('', 'The token is opaque (not a JWT): there are no claims to show.');
  }
  lines.push('', showToken ? `Token:\n${minted.token}` : 'The token itself is not shown: add --show-token to print it.');
  return `${lines.join('\n')}\n`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

/** Broker errors carry safe text (code + message); anything else is reported by name and redacted message. */
export function describeError(err: unknown): string {
  if (err instanceof BrokerError) return `Failed (${err.code}): ${err.message}`;
  if (err instanceof CommandError) return `Failed: ${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `Failed (${e.name}): ${redact(e.message)}`;
}
