// `keygen`: creates a Maskinporten client key pair, prints the public JWK for the self-service portal, writes the
// private JWK and its base64 form (the Key Vault secret value) owner-only, and optionally stores it in Key Vault.
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Environment } from '../config/config.js';
import { freeKid, generateClientKey, jwkKids, makeKid, type GeneratedKey } from '../keys/keygen.js';
import { CommandError, EXIT, oneOf, parseFlags, SECRET_NAME, UsageError, type Io } from './args.js';
import { isLoopback } from '../config/config.js';
import { keyVaultTarget, KEY_CONTENT_TYPE, type KeyVaultTarget } from './key-vault-upload.js';
import { keygenVaultKeyCommand, wantsVaultKey } from './keygen-vault-key.js';

export const KEYGEN_USAGE = `Usage: maskinporten-broker keygen <name> [options]
       npm run keygen -- <name> [options]

Creates an RSA key pair for a Maskinporten client. The kid is <name>-TEST.<suffix> (or -PROD.), exactly as
Altinn's JWKS tool makes it: the suffix is 4 base64url characters from the minute the key is made. When that kid
is taken (a file in --out, a kid in a JWK or JWKS file there, or in the --secret in Key Vault), the next free
suffix is used and keygen says so. Prints the public JWK to paste into Digdir's self-service portal and writes,
to --out:
  <kid>.public.jwk.json    the public JWK
  <kid>.private.jwk.json   the private JWK                                  (owner-only, mode 600)
  <kid>.private.jwk.b64    base64 of the private JWK: the Key Vault secret  (owner-only, mode 600)
The private key is never printed.

Options:
  --env test|prod       Maskinporten environment the key is for (default: test)
  --out <dir>           directory for the files, created owner-only if missing (default: the directory you ran
                        the command from, also under npm run)
  --bits 2048|3072|4096 RSA modulus length (default: 2048)
  --suffix <suffix>     use this kid suffix instead of the one from the time: <name>-TEST.<suffix>
  --kid <kid>           use this kid as it is
  --vault <url>         also store the base64 private key in this Key Vault (https://<vault>.vault.azure.net),
  --secret <name>       as this secret (needs --vault); signs in with DefaultAzureCredential (az login)
  --force               overwrite existing files (of --kid / --suffix; a generated kid moves on to the next
                        free suffix instead), and add a new version to an existing secret
  -h, --help            show this help

Or keep the key inside Key Vault (no private key file at all): --vault <url> --vault-key <key> [--rotate]
(see "keygen --vault-key x --help").
`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const KID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SUFFIX = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_JWKS_BYTES = 1024 * 1024;
const BITS = ['2048', '3072', '4096'] as const;

export interface KeygenOptions {
  readonly name: string;
  readonly environment: Environment;
  readonly outDir: string;
  readonly bits: number;
  readonly kid?: string;
  readonly suffix?: string;
  readonly vault?: { readonly url: URL; readonly secret: string };
  readonly force: boolean;
}

export function parseKeygenArgs(args: readonly string[]): KeygenOptions | 'help' {
  const { values, positionals } = parseFlags({
    args: [...args],
    allowPositionals: true,
    options: {
      env: { type: 'string' },
      out: { type: 'string' },
      bits: { type: 'string' },
      kid: { type: 'string' },
      suffix: { type: 'string' },
      vault: { type: 'string' },
      secret: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('keygen needs a <name> for the key, e.g. your organisation: "keygen myorg".');
  if (positionals.length > 1) throw new UsageError(`keygen takes one <name>, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}.`);
  const name = positionals[0]!;
  if (!NAME.test(name)) {
    throw new UsageError(`The key <name> ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, "-" or "_", starting with a letter or digit.`);
  }
  const environment = oneOf('--env', values.env ?? 'test', ['test', 'prod'] as const);
  const bits = Number(oneOf('--bits', values.bits ?? '2048', BITS));
  if (values.kid !== undefined && !KID.test(values.kid)) {
    throw new UsageError(`--kid ${JSON.stringify(values.kid)} is not valid: use 1-128 letters, digits, ".", "-" or "_", starting with a letter or digit.`);
  }
  if (values.suffix !== undefined && !SUFFIX.test(values.suffix)) {
    throw new UsageError(`--suffix ${JSON.stringify(values.suffix)} is not valid: use 1-32 base64url characters (letters, digits, "-" or "_").`);
  }
  if (values.suffix !== undefined && values.kid !== undefined) throw new UsageError('Give --kid or --suffix, not both: --kid is the whole kid.');
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory.');
  return {
    name,
    environment,
    outDir: resolve(userDirectory(), values.out ?? '.'),
    bits,
    ...(values.kid !== undefined && { kid: values.kid }),
    ...(values.suffix !== undefined && { suffix: values.suffix }),
    ...(vaultOption(values.vault, values.secret) ?? {}),
    force: values.force,
  };
}

/** Where the user ran the command: npm runs scripts in the project root but says where it was started (INIT_CWD). */
function userDirectory(): string {
  const fromNpm = process.env.npm_lifecycle_event === 'keygen' ? process.env.INIT_CWD : undefined;
  return fromNpm !== undefined && fromNpm !== '' ? fromNpm : process.cwd();
}

function vaultOption(vault: string | undefined, secret: string | undefined): { vault: { url: URL; secret: string } } | undefined {
  if (vault === undefined && secret === undefined) return undefined;
  if (vault === undefined) throw new UsageError('--secret needs --vault <url>: the Key Vault to store the private key in.');
  if (secret === undefined) throw new UsageError('--vault needs --secret <name>: the name of the Key Vault secret (e.g. maskinporten-key).');
  let url: URL;
  try {
    url = new URL(vault);
  } catch {
    throw new UsageError(`--vault ${JSON.stringify(vault)} is not a URL: give the vault URI, e.g. https://my-vault.vault.azure.net.`);
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url)))) {
    throw new UsageError('--vault must use https (plain http is allowed only for 127.0.0.1 or localhost).');
  }
  if (!SECRET_NAME.test(secret)) {
    throw new UsageError(`--secret ${JSON.stringify(secret)} is not a valid Key Vault secret name: use 1-127 letters, digits and dashes, starting with a letter.`);
  }
  return { vault: { url, secret } };
}

export async function keygenCommand(args: readonly string[], io: Io): Promise<number> {
  if (wantsVaultKey(args)) return keygenVaultKeyCommand(args, io);
  const o = parseKeygenArgs(args);
  if (o === 'help') {
    io.out(KEYGEN_USAGE);
    return EXIT.OK;
  }
  const vault: KeyVaultTarget | undefined =
    o.vault && (await keyVaultTarget({ vaultUrl: o.vault.url, secretName: o.vault.secret, force: o.force }));
  const vaultKids = (await vault?.checkWritable()) ?? [];
  const { kid, note } = await chooseKid(o, vaultKids);
  const key = generateClientKey(o.name, o.environment, o.bits, kid);
  const files = await writeKeyFiles(o.outDir, key, o.force);

  if (note) io.out(`${note}\n\n`);
  io.out(describeKey(o, key, files));
  if (vault && o.vault) {
    const { version } = await vault.store(key.base64, key.kid).catch((err: Error) => {
      throw new CommandError(
        `${err.message}\nThe key files were written; store the key yourself once that is fixed: ` +
          `az keyvault secret set --vault-name <vault> --name ${o.vault!.secret} --file ${files.privateB64}`,
      );
    });
    io.out(`\nStored in Key Vault: secret "${o.vault.secret}" in ${o.vault.url.origin} (version ${version}, content type ${KEY_CONTENT_TYPE}, tag kid=${key.kid}).\n`);
  }
  io.out(nextSteps(o, key, files));
  return EXIT.OK;
}

/**
 * The kid: --kid as given; --suffix as given unless taken; otherwise the suffix for this minute, or the next free
 * one when a key file, a kid in a JWK/JWKS file in the output directory, or a kid in the target secret has it.
 */
async function chooseKid(o: KeygenOptions, vaultKids: readonly string[]): Promise<{ kid: string; note?: string }> {
  if (o.kid !== undefined) return { kid: o.kid };
  const taken = await kidsIn(o.outDir);
  for (const kid of vaultKids) taken.set(kid, `in Key Vault secret "${o.vault?.secret}"`);
  if (o.suffix !== undefined) {
    const kid = makeKid(o.name, o.environment, o.suffix);
    const where = taken.get(kid);
    if (where !== undefined && !o.force) {
      throw new CommandError(`The kid ${kid} (--suffix ${o.suffix}) is already taken (${where}): choose another --suffix, or leave it out for the next free one.`);
    }
    return { kid };
  }
  const { kid, wanted } = freeKid(o.name, o.environment, (k) => taken.has(k));
  if (kid === wanted) return { kid };
  return { kid, note: `The kid ${wanted} is already taken (${taken.get(wanted)}), so this key gets the next free suffix: ${kid}.` };
}

/** Kids already used in a directory: key files named after them, and `kid` members of JWK or JWKS JSON files. */
async function kidsIn(dir: string): Promise<Map<string, string>> {
  const taken = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return taken;
    throw fsError(`list ${dir}`, err);
  }
  for (const name of names) {
    const fileKid = /^(.+)\.(?:public\.jwk\.json|private\.jwk\.json|private\.jwk\.b64)$/.exec(name)?.[1];
    if (fileKid !== undefined) taken.set(fileKid, `file ${name} in ${dir}`);
    if (!name.endsWith('.json')) continue;
    let parsed: unknown;
    try {
      if ((await stat(join(dir, name))).size > MAX_JWKS_BYTES) continue; // no key set is this large
      parsed = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      continue; // not ours to judge
    }
    for (const kid of jwkKids(parsed)) if (!taken.has(kid)) taken.set(kid, `a key in ${name} in ${dir}`);
  }
  return taken;
}

interface KeyFiles {
  readonly publicJwk: string;
  readonly privateJwk: string;
  readonly privateB64: string;
}

/** Writes the three files; refuses (before writing any) to replace existing ones without force. */
async function writeKeyFiles(dir: string, key: GeneratedKey, force: boolean): Promise<KeyFiles> {
  const paths: KeyFiles = {
    publicJwk: join(dir, `${key.kid}.public.jwk.json`),
    privateJwk: join(dir, `${key.kid}.private.jwk.json`),
    privateB64: join(dir, `${key.kid}.private.jwk.b64`),
  };
  const files = [
    { path: paths.privateJwk, content: `${JSON.stringify(key.privateJwk, null, 2)}\n`, mode: 0o600 },
    { path: paths.privateB64, content: key.base64, mode: 0o600 }, // exactly the secret value: no newline
    { path: paths.publicJwk, content: `${JSON.stringify(key.publicJwk, null, 2)}\n`, mode: 0o644 },
  ];
  await fsStep(`create the directory ${dir}`, () => mkdir(dir, { recursive: true, mode: 0o700 }));
  const existing: string[] = [];
  for (const f of files) if (await exists(f.path)) existing.push(basename(f.path));
  if (existing.length > 0 && !force) {
    throw new CommandError(`Refusing to overwrite ${existing.join(', ')} in ${dir}: rerun with --force to replace, or choose another --out.`);
  }
  for (const f of files) {
    if (force) await fsStep(`remove ${f.path}`, () => rm(f.path, { force: true }));
    // 'wx': create only, never through an existing file or symlink; the mode applies from the first byte.
    await fsStep(`write ${f.path}`, () => writeFile(f.path, f.content, { mode: f.mode, flag: 'wx' }));
  }
  await assertOwnerOnly([paths.privateJwk, paths.privateB64]);
  return paths;
}

/** Checks that the private files ended up owner-only; removes them and fails otherwise (e.g. a file system without modes). */
async function assertOwnerOnly(paths: readonly string[]): Promise<void> {
  if (process.platform === 'win32') return; // POSIX modes do not apply; the directory's ACL does
  for (const path of paths) {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) {
      await Promise.all(paths.map((p) => rm(p, { force: true })));
      throw new CommandError(
        `${path} ended up with mode ${(mode & 0o777).toString(8)}, readable by others, so the private key files were removed: use an --out directory on a file system that keeps permissions.`,
      );
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(`check ${path}`, err);
  }
}

async function fsStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw fsError(what, err);
  }
}

function fsError(what: string, err: unknown): CommandError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new CommandError(`Could not ${what} (${code}).`, { cause: err });
}

function describeKey(o: KeygenOptions, key: GeneratedKey, files: KeyFiles): string {
  return [
    `Generated an RSA ${o.bits} key pair for Maskinporten ${o.environment.toUpperCase()}.`,
    '',
    `kid: ${key.kid}`,
    '',
    'Public key (JWK): paste this into the self-service portal:',
    JSON.stringify(key.publicJwk, null, 2),
    '',
    'Files (the private ones are readable by you only; keep them out of version control and delete them once stored):',
    ...fileList([
      [files.publicJwk, 'public JWK'],
      [files.privateJwk, 'private JWK'],
      [files.privateB64, 'base64 of the private JWK: the Key Vault secret value'],
    ]),
    '',
  ].join('\n');
}

function fileList(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([path]) => path.length));
  return rows.map(([path, what]) => `  ${path.padEnd(width)}  ${what}`);
}

const PORTAL: Record<Environment, string> = {
  test: 'https://sjolvbetjening.test.samarbeid.digdir.no',
  prod: 'https://sjolvbetjening.samarbeid.digdir.no',
};

function nextSteps(o: KeygenOptions, key: GeneratedKey, files: KeyFiles): string {
  const secret = o.vault?.secret ?? 'maskinporten-key';
  const steps = [
    `In Digdir's self-service portal for ${o.environment.toUpperCase()} (${PORTAL[o.environment]}), create a Maskinporten client (or open yours); note its client id.`,
    'Add the scopes the client needs (e.g. altinn:serviceowner) on its Scopes tab.',
    `Add the public key above in the client's Keys section (JWK or PEM format); the portal shows its kid: ${key.kid}.`,
    ...(o.vault
      ? []
      : [`Store the private key base64-encoded in Key Vault: az keyvault secret set --vault-name <vault> --name ${secret} --file ${files.privateB64}` +
          `\n     (or rerun with --vault https://<vault>.vault.azure.net --secret ${secret}).`]),
    `Set the app settings: MASKINPORTEN_ENV=${o.environment}, MASKINPORTEN_CLIENT_ID=<client id>, MASKINPORTEN_KID=${key.kid}, MASKINPORTEN_KEY_SECRET=${secret}.`,
    'Check the registration before deploying: npm run token (mints one token with those settings, stores nothing).',
  ];
  return `\nNext steps:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`;
}
