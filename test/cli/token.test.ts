// `token` run as a child process against the simulators: a key made by `keygen` is accepted end to end, claims are
// printed but the token only with --show-token, nothing is written to the vault; bad settings exit 2, refusals exit 1.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { startWorld, type World } from '../helpers/world.js';
import { block, JWT_PATTERN, runCli, type CliResult } from './run-cli.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

let world: World;
let root: string;
/** Settings for a client registered with a key that `keygen` made and stored in the simulated vault. */
let env: Record<string, string>;
let generated: { kid: string; privateJwk: JsonWebKey; b64: string };

let dirs = 0;
async function freshDir(): Promise<string> {
  const dir = join(root, `cwd-${++dirs}`);
  await mkdir(dir);
  return dir;
}

/** No private key member, no base64 key, no token in anything printed. */
function expectNoSecrets(r: CliResult): void {
  for (const m of PRIVATE_MEMBERS) expect(r.all).not.toContain(generated.privateJwk[m] as string);
  expect(r.all).not.toContain(generated.b64.slice(0, 64));
  expect(r.all).not.toMatch(JWT_PATTERN);
}

beforeAll(async () => {
  world = await startWorld();
  root = await mkdtemp(join(tmpdir(), 'token-test-'));

  // The whole onboarding as a user does it: keygen straight into Key Vault, then register the public JWK.
  const keys = join(root, 'keys');
  const made = await runCli(['keygen', 'clitest', '--out', keys, '--vault', world.sims.keyVault.url, '--secret', 'cli-client-key'], { cwd: root });
  expect(made.code).toBe(0);
  const kid = /^kid: (\S+)$/m.exec(made.stdout)![1]!;
  const publicJwk = JSON.parse(await readFile(join(keys, `${kid}.public.jwk.json`), 'utf8')) as JsonWebKey;
  generated = {
    kid,
    privateJwk: JSON.parse(await readFile(join(keys, `${kid}.private.jwk.json`), 'utf8')) as JsonWebKey,
    b64: await readFile(join(keys, `${kid}.private.jwk.b64`), 'utf8'),
  };
  const clientId = randomUUID();
  world.sims.maskinporten.addClient({ clientId, scopes: ['altinn:serviceowner', 'extra:scope'], keys: [publicJwk as JWK] });
  env = { ...world.env, MASKINPORTEN_CLIENT_ID: clientId, MASKINPORTEN_KEY_SECRET: 'cli-client-key', MASKINPORTEN_KID: kid };
});

afterAll(async () => {
  await world?.close();
  await rm(root, { recursive: true, force: true });
});

describe('token', () => {
  test('mints an Altinn token with the keygen key and prints its header, claims and expiry, not the token; stores nothing', async () => {
    const writes = world.sims.keyVault.writes;
    const issued = world.sims.maskinporten.tokensIssued;
    const exchanges = world.sims.altinn.exchanges;

    const r = await runCli(['token'], { cwd: await freshDir(), env });

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Altinn token for profile "default", valid until \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ min \d+ s from now\)\./);
    expect(block(r.stdout, 'Header')).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const claims = block(r.stdout, 'Claims');
    expect(claims).toMatchObject({ iss: world.sims.altinn.issuer, scope: 'altinn:serviceowner', client_id: env.MASKINPORTEN_CLIENT_ID });
    expect(r.stdout).toContain('The token itself is not shown: add --show-token to print it.');
    expect(r.stderr).toContain(`Loaded key ${generated.kid} (RS256, RSA 2048) from secret "cli-client-key"`);
    expectNoSecrets(r);

    expect(world.sims.maskinporten.tokensIssued).toBe(issued + 1);
    expect(world.sims.altinn.exchanges).toBe(exchanges + 1);
    expect(world.sims.keyVault.writes).toBe(writes);
    expect(world.sims.keyVault.getSecret(env.TOKEN_SECRET!)).toBeUndefined();
  });

  test('--show-token also prints the token: a genuine Altinn token whose claims are the ones printed', async () => {
    const r = await runCli(['token', '--show-token'], { cwd: await freshDir(), env });
    expect(r.code).toBe(0);
    const token = /^Token:\n(\S+)$/m.exec(r.stdout)?.[1];
    expect(token).toMatch(JWT_PATTERN);
    const { payload } = await jwtVerify(token!, createLocalJWKSet(world.sims.altinn.publicJwks()), { issuer: world.sims.altinn.issuer });
    expect(block(r.stdout, 'Claims')).toEqual(decodeJwt(token!));
    expect(block(r.stdout, 'Header')).toEqual(decodeProtectedHeader(token!));
    expect(payload.client_id).toBe(env.MASKINPORTEN_CLIENT_ID);
    expect(r.stderr).not.toContain(token!);
    for (const m of PRIVATE_MEMBERS) expect(r.all).not.toContain(generated.privateJwk[m] as string);
    expect(world.sims.keyVault.getSecret(env.TOKEN_SECRET!)).toBeUndefined();
  });

  test('--profile picks a named profile; one with ALTINN_EXCHANGE=false prints the Maskinporten token\'s claims', async () => {
    const exchanges = world.sims.altinn.exchanges;
    const r = await runCli(['token', '--profile', 'MpOnly'], {
      cwd: await freshDir(),
      env: { ...env, PROFILE__mponly__MASKINPORTEN_SCOPES: 'extra:scope', PROFILE__mponly__ALTINN_EXCHANGE: 'false' },
    });
    expect(r.stderr).toContain('(no Altinn exchange)');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Maskinporten token for profile "mponly"/);
    expect(block(r.stdout, 'Claims')).toMatchObject({ iss: world.sims.maskinporten.issuer, scope: 'extra:scope', client_id: env.MASKINPORTEN_CLIENT_ID });
    expect(world.sims.altinn.exchanges).toBe(exchanges);
    expectNoSecrets(r);
  });

  test('reads local.settings.json for what the environment does not set, the environment winning', async () => {
    const cwd = await freshDir();
    const values = { ...env, MASKINPORTEN_SCOPES: 'not:registered' };
    await writeFile(join(cwd, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: values }));

    const fromFile = await runCli(['token'], { cwd });
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toContain(`Settings: the environment + ${join(cwd, 'local.settings.json')}.`);
    expect(fromFile.stderr).toMatch(/Failed \(MASKINPORTEN_REJECTED\): Maskinporten rejected the token request \(400: invalid_scope, MP-200/);
    expect(fromFile.stdout).toBe('');
    expectNoSecrets(fromFile);

    const overridden = await runCli(['token'], { cwd, env: { MASKINPORTEN_SCOPES: 'altinn:serviceowner' } });
    expect(overridden.code).toBe(0);
    expect(block(overridden.stdout, 'Claims')).toMatchObject({ scope: 'altinn:serviceowner' });
    expectNoSecrets(overridden);
  });

  test('an unregistered scope exits 1 with the Maskinporten error code and a hint naming the setting', async () => {
    const r = await runCli(['token'], { cwd: await freshDir(), env: { ...env, MASKINPORTEN_SCOPES: 'altinn:serviceowner skatteetaten:secret' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MASKINPORTEN_REJECTED');
    expect(r.stderr).toContain('MP-200');
    expect(r.stderr).toContain('MASKINPORTEN_SCOPES');
    expect(r.stdout).toBe('');
    expectNoSecrets(r);
  });

  test('a missing setting exits 2 naming it; so does an invalid one, all problems at once', async () => {
    const { MASKINPORTEN_CLIENT_ID: _omitted, ...withoutClient } = env;
    const r = await runCli(['token'], { cwd: await freshDir(), env: { ...withoutClient, MASKINPORTEN_ENV: 'staging' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid configuration (2 problems)');
    expect(r.stderr).toContain('MASKINPORTEN_CLIENT_ID is required');
    expect(r.stderr).toContain('MASKINPORTEN_ENV');
    expect(r.stderr).toContain('Settings read from: the environment (no local.settings.json here).');
    expect(r.stdout).toBe('');
  });

  test('an unknown --profile exits 2 listing the configured ones; a missing key secret exits 1 naming its setting', async () => {
    const unknown = await runCli(['token', '--profile', 'nope'], { cwd: await freshDir(), env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--profile: there is no token profile "nope". Configured profiles: default.');

    const noKey = await runCli(['token'], { cwd: await freshDir(), env: { ...env, MASKINPORTEN_KEY_SECRET: 'no-such-key' } });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('Failed (KEY_NOT_FOUND): The key secret "no-such-key" (MASKINPORTEN_KEY_SECRET) does not exist in the vault');
  });

  test('bad flags exit 2 naming the flag; --help exits 0', async () => {
    const [bogus, positional, help] = await Promise.all([
      runCli(['token', '--bogus'], { cwd: root, env }),
      runCli(['token', 'default'], { cwd: root, env }),
      runCli(['token', '--help'], { cwd: root }),
    ]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("Unknown option '--bogus'");
    expect(positional.code).toBe(2);
    expect(positional.stderr).toContain("Unexpected argument 'default'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--show-token');
  });
});
