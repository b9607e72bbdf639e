// `keygen` run as a child process: the files and their permissions, what is printed (and never printed), refusal to
// overwrite, storing into the Key Vault simulator through the real SDK, and bad names and flags.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeKey } from '../../shared/keys/decode.js';
import { freeKid, kidMinutes, kidSuffix, makeKid } from '../../shared/keys/keygen.js';
import { startKeyVaultSim, type KeyVaultSim } from '../sim/index.js';
import { REPO, runCli, type CliResult } from './run-cli.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

let root: string;
let vault: KeyVaultSim;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keygen-test-'));
  vault = await startKeyVaultSim();
});

afterAll(async () => {
  await vault.close();
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
const freshDir = () => join(root, `out-${++dirs}`);

function kidOf(r: CliResult): string {
  const kid = /^kid: (\S+)$/m.exec(r.stdout)?.[1];
  if (!kid) throw new Error(`no kid printed:\n${r.all}`);
  return kid;
}

async function readKeyFiles(dir: string, kid: string) {
  const base = join(dir, kid);
  return {
    publicJwk: JSON.parse(await readFile(`${base}.public.jwk.json`, 'utf8')) as JsonWebKey,
    privateJwk: JSON.parse(await readFile(`${base}.private.jwk.json`, 'utf8')) as JsonWebKey,
    b64: await readFile(`${base}.private.jwk.b64`, 'utf8'),
    modes: {
      public: (await stat(`${base}.public.jwk.json`)).mode & 0o777,
      privateJwk: (await stat(`${base}.private.jwk.json`)).mode & 0o777,
      b64: (await stat(`${base}.private.jwk.b64`)).mode & 0o777,
    },
  };
}

/** No private JWK member value and no base64 key in anything the command printed. */
function expectNoSecrets(output: string, privateJwk: JsonWebKey, b64: string): void {
  for (const m of PRIVATE_MEMBERS) {
    const value = privateJwk[m];
    expect(typeof value).toBe('string');
    expect(output).not.toContain(value as string);
  }
  expect(output).not.toContain(b64.trim());
  expect(output).not.toContain(b64.trim().slice(0, 64));
  expect(output).not.toMatch(/"(d|p|q|dp|dq|qi)"\s*:/);
}

describe('keygen', () => {
  test('npm run keygen writes the public JWK, and the private JWK and its base64 owner-only; prints only the public key', async () => {
    const dir = freshDir();
    const before = kidMinutes();
    const r = await runCli(['keygen', 'myorg', '--out', dir], { cwd: root, viaNpm: true });
    const after = kidMinutes();
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const kid = kidOf(r);
    // Altinn's JWKS tool's kid for the minute the key was made
    expect([...new Set([before, after])].map((m) => `myorg-TEST.${kidSuffix(m)}`)).toContain(kid);
    expect(r.stdout).not.toContain('already taken');

    const files = await readKeyFiles(dir, kid);
    expect(files.modes).toEqual({ public: expect.any(Number), privateJwk: 0o600, b64: 0o600 });
    expect(files.modes.public & 0o033).toBe(0); // others may read the public key, never write it
    expect((await stat(dir)).mode & 0o777).toBe(0o700); // created by keygen: owner-only

    // The public JWK: printed (the portal paste), equal to the file, no private member.
    const printed = JSON.parse(/Public key \(JWK\)[^\n]*\n(\{[\s\S]*?\n\})/.exec(r.stdout)![1]!) as JsonWebKey;
    expect(printed).toEqual(files.publicJwk);
    expect(files.publicJwk).toMatchObject({ kty: 'RSA', kid, alg: 'RS256', use: 'sig', e: 'AQAB' });
    for (const m of PRIVATE_MEMBERS) expect(files.publicJwk).not.toHaveProperty(m);

    // The base64 file is exactly the Key Vault value: base64 of the private JWK, which matches the public one.
    expect(files.b64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const decoded = JSON.parse(Buffer.from(files.b64, 'base64').toString('utf8')) as JsonWebKey;
    expect(decoded).toEqual(files.privateJwk);
    expect(decoded).toMatchObject({ kty: 'RSA', kid, alg: 'RS256', n: files.publicJwk.n, e: files.publicJwk.e });
    for (const m of PRIVATE_MEMBERS) expect(typeof decoded[m]).toBe('string');

    // The broker's own key decoder accepts it as is.
    const key = await decodeKey(files.b64, { setting: 'MASKINPORTEN_KEY_SECRET', secretName: 'maskinporten-key' });
    expect(key).toMatchObject({ kid, alg: 'RS256', bits: 2048, warnings: [] });

    expect(r.stdout).toContain('sjolvbetjening.test.samarbeid.digdir.no');
    expect(r.stdout).toContain(`MASKINPORTEN_KID=${kid}`);
    expect(r.stdout).toContain('MASKINPORTEN_KEY_SECRET=maskinporten-key');
    expectNoSecrets(r.all, files.privateJwk, files.b64);
  });

  test('--env prod --bits 3072 --kid: a PROD key of 3072 bits under the given kid', async () => {
    const dir = freshDir();
    const prod = await runCli(['keygen', 'acme_as', '--env', 'PROD', '--bits', '3072', '--out', dir], { cwd: root });
    expect(prod.code).toBe(0);
    const kid = kidOf(prod);
    expect(kid).toMatch(/^acme_as-PROD\.[A-Za-z0-9_-]{4}$/);
    const files = await readKeyFiles(dir, kid);
    expect(createPublicKey({ key: files.publicJwk, format: 'jwk' }).asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(prod.stdout).toContain('sjolvbetjening.samarbeid.digdir.no');
    expect(prod.stdout).toContain('MASKINPORTEN_ENV=prod');
    expectNoSecrets(prod.all, files.privateJwk, files.b64);

    const named = await runCli(['keygen', 'acme', '--kid', 'acme-2026-rotation.1', '--out', dir], { cwd: root });
    expect(named.code).toBe(0);
    expect(kidOf(named)).toBe('acme-2026-rotation.1');
    const own = await readKeyFiles(dir, 'acme-2026-rotation.1');
    expect(own.publicJwk.kid).toBe('acme-2026-rotation.1');
    expect(JSON.parse(Buffer.from(own.b64, 'base64').toString('utf8'))).toMatchObject({ kid: 'acme-2026-rotation.1' });
  });

  test('refuses to overwrite existing files; --force replaces them and makes them owner-only again', async () => {
    const dir = freshDir();
    const args = ['org', '--kid', 'org-TEST.fixed', '--out', dir];
    expect((await runCli(['keygen', ...args], { cwd: root })).code).toBe(0);
    const first = await readKeyFiles(dir, 'org-TEST.fixed');

    const again = await runCli(['keygen', ...args], { cwd: root });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Refusing to overwrite org-TEST.fixed.private.jwk.json, org-TEST.fixed.private.jwk.b64, org-TEST.fixed.public.jwk.json');
    expect(again.stderr).toContain('--force');
    expect(again.stdout).toBe('');
    expect(await readKeyFiles(dir, 'org-TEST.fixed')).toEqual(first);

    await chmod(join(dir, 'org-TEST.fixed.private.jwk.b64'), 0o644);
    const forced = await runCli(['keygen', ...args, '--force'], { cwd: root });
    expect(forced.code).toBe(0);
    const second = await readKeyFiles(dir, 'org-TEST.fixed');
    expect(second.b64).not.toBe(first.b64);
    expect(second.publicJwk.n).not.toBe(first.publicJwk.n);
    expect(second.modes).toMatchObject({ privateJwk: 0o600, b64: 0o600 });
    expectNoSecrets(forced.all, second.privateJwk, second.b64);
  });

  test('--vault --secret stores the base64 key in Key Vault (content type, kid tag); an existing secret needs --force', async () => {
    const dir = freshDir();
    const r = await runCli(['keygen', 'vaultorg', '--out', dir, '--vault', vault.url, '--secret', 'maskinporten-key'], { cwd: root });
    expect(r.code).toBe(0);
    const kid = kidOf(r);
    const files = await readKeyFiles(dir, kid);
    const stored = vault.getSecret('maskinporten-key');
    expect(stored).toMatchObject({ value: files.b64, contentType: 'application/jwk+json;base64', tags: { kid } });
    expect(r.stdout).toContain(`Stored in Key Vault: secret "maskinporten-key" in ${vault.url} (version ${stored!.version}`);
    expect(r.stdout).not.toContain('az keyvault secret set'); // already stored: no manual step
    expectNoSecrets(r.all, files.privateJwk, files.b64);

    // Without --force nothing is written at all: not the vault, not the files.
    const before = await readdir(dir);
    const refused = await runCli(['keygen', 'vaultorg', '--kid', 'vaultorg-TEST.second', '--out', dir, '--vault', vault.url, '--secret', 'maskinporten-key'], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('secret "maskinporten-key"');
    expect(refused.stderr).toContain('already exists');
    expect(refused.stderr).toContain('--force');
    expect(vault.listVersions('maskinporten-key')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(before);

    const forced = await runCli(
      ['keygen', 'vaultorg', '--kid', 'vaultorg-TEST.second', '--out', dir, '--vault', vault.url, '--secret', 'maskinporten-key', '--force'],
      { cwd: root },
    );
    expect(forced.code).toBe(0);
    const second = await readKeyFiles(dir, 'vaultorg-TEST.second');
    expect(vault.listVersions('maskinporten-key')).toHaveLength(2);
    expect(vault.getSecret('maskinporten-key')).toMatchObject({ value: second.b64, tags: { kid: 'vaultorg-TEST.second' } });
    expectNoSecrets(forced.all, second.privateJwk, second.b64);
  });

  test('a refused Key Vault write exits 1, keeps the files and says how to store the key by hand', async () => {
    const dir = freshDir();
    // The SDK's first request draws the 401 challenge, the second is the existence check (404), the third the write.
    vault.faults.enqueue({}, {}, { status: 403 });
    const r = await runCli(['keygen', 'org', '--kid', 'org-TEST.denied', '--out', dir, '--vault', vault.url, '--secret', 'denied-key'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Key Vault denied write of secret "denied-key"');
    expect(r.stderr).toContain('"Key Vault Secrets Officer"');
    expect(r.stderr).toContain(`az keyvault secret set --vault-name <vault> --name denied-key --file ${join(dir, 'org-TEST.denied.private.jwk.b64')}`);
    expect(vault.getSecret('denied-key')).toBeUndefined();
    const files = await readKeyFiles(dir, 'org-TEST.denied');
    expect(files.modes).toMatchObject({ privateJwk: 0o600, b64: 0o600 });
    expectNoSecrets(r.all, files.privateJwk, files.b64);
  });

  test('an unreachable vault fails with exit 1 before any file is written', async () => {
    const dir = freshDir();
    const dead = await startKeyVaultSim();
    const url = dead.url;
    await dead.close();
    const r = await runCli(['keygen', 'org', '--out', dir, '--vault', url, '--secret', 'maskinporten-key'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Key Vault read of secret "maskinporten-key" in http:\/\/127\.0\.0\.1:\d+ failed/);
    expect(r.stdout).toBe('');
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('two keys made in the same minute never share a kid: a taken suffix moves on to the next free one, and says so', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const m = kidMinutes();
    const kid = (n: number) => `myorg-TEST.${kidSuffix(m + n)}`;
    // taken: a key file for this minute, and two kids in a JWKS file (also covers the minute turning meanwhile)
    await writeFile(join(dir, `${kid(0)}.public.jwk.json`), '{}');
    await writeFile(join(dir, 'keys.jwks.json'), JSON.stringify({ keys: [{ kid: kid(1) }, { kid: kid(2) }] }));
    const first = await runCli(['keygen', 'myorg', '--out', dir], { cwd: root });
    expect(first.code).toBe(0);
    expect(kidOf(first)).toBe(kid(3));
    expect(first.stdout).toMatch(new RegExp(`The kid myorg-TEST\\.\\S{4} is already taken \\((file \\S+\\.public\\.jwk\\.json|a key in keys\\.jwks\\.json) in .*\\), so this key gets the next free suffix: ${kid(3).replace('.', '\\.')}\\.`));
    const second = await runCli(['keygen', 'myorg', '--out', dir], { cwd: root });
    expect(kidOf(second)).toBe(kid(4));
    expect(second.stdout).toContain('already taken');
    // a PROD key of the same name and minute is another kid altogether
    expect(kidOf(await runCli(['keygen', 'myorg', '--env', 'prod', '--out', dir], { cwd: root }))).toMatch(/^myorg-PROD\./);
  });

  test('a kid held by the target Key Vault secret (its kid tag or a kid in its JWKS) is skipped too', async () => {
    const dir = freshDir();
    const m = kidMinutes();
    const kid = (n: number) => `vkorg-TEST.${kidSuffix(m + n)}`;
    const jwks = { keys: [{ kty: 'RSA', kid: kid(1), n: 'AQAB', e: 'AQAB' }, { kty: 'RSA', kid: kid(2), n: 'AQAB', e: 'AQAB' }] };
    vault.setSecret('vk-key', Buffer.from(JSON.stringify(jwks)).toString('base64'), { tags: { kid: kid(0) } });
    const r = await runCli(['keygen', 'vkorg', '--out', dir, '--vault', vault.url, '--secret', 'vk-key', '--force'], { cwd: root });
    expect(r.code).toBe(0);
    expect(kidOf(r)).toBe(kid(3));
    expect(r.stdout).toContain('in Key Vault secret "vk-key"');
    expect(vault.getSecret('vk-key')).toMatchObject({ tags: { kid: kid(3) } });
  });

  test('--suffix sets the suffix; a taken one is refused; it cannot be combined with --kid', async () => {
    const dir = freshDir();
    const r = await runCli(['keygen', 'org', '--suffix', 'rot1', '--out', dir], { cwd: root });
    expect(r.code).toBe(0);
    expect(kidOf(r)).toBe('org-TEST.rot1');
    const again = await runCli(['keygen', 'org', '--suffix', 'rot1', '--out', dir], { cwd: root });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('The kid org-TEST.rot1 (--suffix rot1) is already taken (file org-TEST.rot1.');
    expect(again.stdout).toBe('');
    for (const [args, message] of [
      [['--suffix', 'a.b'], '--suffix "a.b" is not valid'],
      [['--suffix', 'abcd', '--kid', 'x'], 'Give --kid or --suffix, not both'],
    ] as const) {
      const bad = await runCli(['keygen', 'org', ...args, '--out', dir], { cwd: root });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
    }
  });

  test('npm run keygen writes to the directory npm was run from (INIT_CWD), not the project root; --out is relative to it', async () => {
    const here = join(root, 'user-dir');
    await mkdir(here);
    const plain = await runCli(['keygen', 'initcwd', '--suffix', 'here'], { cwd: here, viaNpm: true });
    expect(plain.code).toBe(0);
    expect((await readdir(here)).sort()).toEqual(['initcwd-TEST.here.private.jwk.b64', 'initcwd-TEST.here.private.jwk.json', 'initcwd-TEST.here.public.jwk.json']);
    const relative = await runCli(['keygen', 'initcwd', '--suffix', 'rel', '--out', 'keys'], { cwd: here, viaNpm: true });
    expect(relative.code).toBe(0);
    expect(await readdir(join(here, 'keys'))).toHaveLength(3);
    expect(relative.stdout).toContain(join(here, 'keys', 'initcwd-TEST.rel.public.jwk.json'));
    for (const kid of ['initcwd-TEST.here', 'initcwd-TEST.rel']) expect(existsSync(join(REPO, `${kid}.public.jwk.json`))).toBe(false);
  });

  test('every file keygen writes is ignored by git in this repository, the public JWK too', async () => {
    const names = ['myorg-TEST.Dz9I.public.jwk.json', 'myorg-TEST.Dz9I.private.jwk.json', 'myorg-TEST.Dz9I.private.jwk.b64', 'keys/myorg-PROD.AAAA.public.jwk.json'];
    const ignored = await new Promise<string>((resolve, reject) =>
      execFile('git', ['-C', REPO, 'check-ignore', '--no-index', ...names], (err, stdout) => (err && err.code !== 1 ? reject(err) : resolve(stdout))),
    );
    expect(ignored.trim().split('\n').sort()).toEqual([...names].sort());
  });

  test.each([
    [[], '<name>'],
    [['bad name'], 'The key <name> "bad name" is not valid'],
    [['-dash'], "Unknown option '-d'"],
    [['a', 'b'], 'keygen takes one <name>, got 2'],
    [['org', '--bogus'], "Unknown option '--bogus'"],
    [['org', '--env', 'staging'], '--env must be "test" or "prod", not "staging"'],
    [['org', '--env'], "Option '--env <value>' argument missing"],
    [['org', '--bits', '1024'], '--bits must be "2048", "3072" or "4096", not "1024"'],
    [['org', '--kid', '../escape'], '--kid "../escape" is not valid'],
    [['org', '--vault', 'https://v.vault.azure.net'], '--vault needs --secret <name>'],
    [['org', '--secret', 'maskinporten-key'], '--secret needs --vault <url>'],
    [['org', '--vault', 'http://v.example.com', '--secret', 's'], '--vault must use https'],
    [['org', '--vault', 'not a url', '--secret', 's'], '--vault "not a url" is not a URL'],
    [['org', '--vault', 'https://v.vault.azure.net', '--secret', '1-bad_name'], '--secret "1-bad_name" is not a valid Key Vault secret name'],
  ])('keygen %j exits 2 naming the problem, writing nothing', async (args, message) => {
    const r = await runCli(['keygen', ...args], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Run "maskinporten-broker keygen --help" for usage.');
    expect(r.stdout).toBe('');
  });

  test('--help prints the usage and exits 0; unknown and missing commands exit 2', async () => {
    const [help, keygenHelp, unknown, none] = await Promise.all([
      runCli(['--help'], { cwd: root }),
      runCli(['keygen', '--help'], { cwd: root }),
      runCli(['keygn', 'org'], { cwd: root }),
      runCli([], { cwd: root }),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/keygen <name>[\s\S]*token/);
    expect(keygenHelp.code).toBe(0);
    expect(keygenHelp.stdout).toContain('--vault <url>');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "keygn": use one of keygen, token.');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: maskinporten-broker <command>');
  });
});

describe('kid suffixes as Altinn\'s JWKS tool makes them', () => {
  test('base64url of the low 3 bytes (big-endian) of whole minutes since 2025-01-01T00:00Z', () => {
    expect(kidMinutes(new Date('2025-01-01T00:00:59Z'))).toBe(0);
    expect(kidSuffix(kidMinutes(new Date('2026-11-25T22:00:00Z')))).toBe('Dz9I');
    expect(kidSuffix(kidMinutes(new Date('2026-11-25T22:00:59.999Z')))).toBe('Dz9I');
    expect(kidSuffix(kidMinutes(new Date('2026-11-25T22:01:00Z')))).toBe('Dz9J');
    expect(kidSuffix(0)).toBe('AAAA');
    expect(kidSuffix(2 ** 24 - 1)).toBe('____');
    expect(kidSuffix(2 ** 24)).toBe('AAAA'); // only the low 3 bytes count
    expect(makeKid('myorg', 'prod', 'Dz9I')).toBe('myorg-PROD.Dz9I');
  });

  test('freeKid takes the next value when the minute\'s kid is taken, wrapping after ____', () => {
    const at = new Date('2026-11-25T22:00:30Z');
    expect(freeKid('o', 'test', () => false, at)).toEqual({ kid: 'o-TEST.Dz9I', wanted: 'o-TEST.Dz9I' });
    expect(freeKid('o', 'test', (k) => k === 'o-TEST.Dz9I' || k === 'o-TEST.Dz9J', at)).toEqual({ kid: 'o-TEST.Dz9K', wanted: 'o-TEST.Dz9I' });
    const last = new Date(Date.UTC(2025, 0, 1) + (2 ** 24 - 1) * 60_000);
    expect(freeKid('o', 'test', (k) => k === 'o-TEST.____', last).kid).toBe('o-TEST.AAAA');
  });
});
