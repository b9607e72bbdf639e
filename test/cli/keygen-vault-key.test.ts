// `keygen --vault <url> --vault-key <key>` and `--rotate`, run as child processes against the Key Vault simulator
// (real @azure/keyvault-keys SDK): the key is made in the vault, tagged with its kid, its public JWK printed, and no
// file is written; --rotate adds a version with a future notBefore and a kid no other version has.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { startWorld } from '../helpers/world.js';
import { startKeyVaultSim, type KeyVaultSim } from '../sim/index.js';
import { runCli, type CliResult } from './run-cli.js';

let root: string;
let vault: KeyVaultSim;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keygen-vault-key-'));
  vault = await startKeyVaultSim();
});
afterAll(async () => {
  await vault.close();
  await rm(root, { recursive: true, force: true });
});

const kidOf = (r: CliResult) => /^kid: (\S+)$/m.exec(r.stdout)?.[1];
const jwkOf = (r: CliResult) => JSON.parse(/Public key \(JWK\)[^\n]*\n(\{[\s\S]*?\n\})/.exec(r.stdout)![1]!) as Record<string, string>;
const keygen = (...args: string[]) => runCli(['keygen', ...args], { cwd: root });

describe('keygen --vault-key', () => {
  test('creates the key inside Key Vault, tags its kid, prints the public JWK; writes no file', async () => {
    const r = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const kid = kidOf(r)!;
    expect(kid).toMatch(/^myorg-TEST\.[A-Za-z0-9_-]{4}$/);
    const [v1] = vault.keys.versions('mp-signing');
    expect(v1).toMatchObject({ tags: { 'maskinporten-kid': kid }, keyOps: ['sign', 'verify'], kty: 'RSA' });
    expect(v1!.attributes.nbf).toBeUndefined();
    expect(jwkOf(r)).toEqual({ kty: 'RSA', n: v1!.publicJwk.n, e: v1!.publicJwk.e, kid, alg: 'RS256', use: 'sig' });
    expect(r.stdout).toContain('MASKINPORTEN_VAULT_KEY=mp-signing');
    expect(r.stdout).toContain('"Key Vault Crypto User"');
    expect(r.all).not.toMatch(/"(d|p|q|dp|dq|qi)"\s*:/);
    expect(await readdir(root)).toEqual([]); // no private (or any) key file
    expect(vault.keys.operations.map((o) => o.op)).toEqual(['versions', 'create']);
  });

  test('an existing key is not replaced: it needs --rotate', async () => {
    const r = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Key Vault key "mp-signing" in');
    expect(r.stderr).toContain('Rerun with --rotate');
    expect(vault.keys.versions('mp-signing')).toHaveLength(1);
  });

  test('--rotate adds a version valid from 24 h ahead by default, with a kid no other version has', async () => {
    const before = Date.now();
    const r = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing', '--rotate');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const versions = vault.keys.versions('mp-signing');
    expect(versions).toHaveLength(2);
    const [v1, v2] = versions;
    const kid = kidOf(r)!;
    expect(kid).not.toBe(v1!.tags!['maskinporten-kid']);
    expect(v2!.tags).toEqual({ 'maskinporten-kid': kid });
    expect(v2!.attributes.nbf! * 1000).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(v2!.attributes.nbf! * 1000).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1000);
    expect(jwkOf(r)).toMatchObject({ n: v2!.publicJwk.n, kid });
    expect(r.stdout).toMatch(/valid from \d{4}-\d{2}-\d{2}T/);
    expect(r.stdout).toContain('keep the old key registered');
    expect(await readdir(root)).toEqual([]);
  });

  test('--rotate --not-before +2s sets that notBefore; every rotation gets a kid of its own', async () => {
    const a = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing', '--rotate', '--not-before', '+2s');
    const before = Date.now();
    const b = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing', '--rotate', '--not-before', '+2s');
    const after = Date.now();
    expect([a.code, b.code]).toEqual([0, 0]);
    const kids = vault.keys.versions('mp-signing').map((v) => v.tags!['maskinporten-kid']);
    expect(new Set(kids).size).toBe(kids.length);
    // Key Vault keeps whole seconds: 2 s after keygen's clock, rounded up (never earlier than asked), so
    // [before + 2 s, after + 3 s).
    const nbf = vault.keys.versions('mp-signing').at(-1)!.attributes.nbf! * 1000;
    expect(nbf).toBeGreaterThanOrEqual(before + 2_000);
    expect(nbf).toBeLessThan(after + 3_000);
  });

  test('a --kid already on the key, --rotate of a missing key, and flags that would write files are refused', async () => {
    const taken = vault.keys.versions('mp-signing')[0]!.tags!['maskinporten-kid']!;
    const dup = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing', '--rotate', '--kid', taken);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('is already used by a version');
    const missing = await keygen('myorg', '--vault', vault.url, '--vault-key', 'no-such', '--rotate');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothing to rotate');
    for (const extra of [['--out', root], ['--secret', 'x'], ['--force']]) {
      const r = await keygen('myorg', '--vault', vault.url, '--vault-key', 'k2', ...extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('does not go with --vault-key');
    }
    const noVault = await keygen('myorg', '--vault-key', 'k2');
    expect([noVault.code, noVault.stderr]).toEqual([2, expect.stringContaining('--vault-key needs --vault <url>')]);
    const past = await keygen('myorg', '--vault', vault.url, '--vault-key', 'mp-signing', '--rotate', '--not-before', '2020-01-01T00:00:00Z');
    expect([past.code, past.stderr]).toEqual([2, expect.stringContaining('is in the past')]);
    expect(vault.keys.versions('k2')).toEqual([]);
  });

  test('a vault that refuses names the role the operator needs', async () => {
    vault.faults.enqueue({ delayMs: 1 }, { delayMs: 1 }, { status: 403 }); // challenge, list (404), then create
    const r = await keygen('myorg', '--vault', vault.url, '--vault-key', 'denied');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"Key Vault Crypto Officer" role');
  });
});

describe('keygen --vault-key, then token', () => {
  test('the whole onboarding without a private key file: keygen in the vault, register the JWK, npm run token signs through the vault', async () => {
    const world = await startWorld();
    try {
      const made = await keygen('clitest', '--vault', world.sims.keyVault.url, '--vault-key', 'cli-signing');
      expect(made.code).toBe(0);
      const clientId = randomUUID();
      world.sims.maskinporten.addClient({ clientId, scopes: ['altinn:serviceowner'], keys: [jwkOf(made) as JWK] });
      const { MASKINPORTEN_KEY_SECRET: _s, MASKINPORTEN_KID: _k, ...rest } = world.env;
      const r = await runCli(['token'], { cwd: root, env: { ...rest, MASKINPORTEN_CLIENT_ID: clientId, MASKINPORTEN_VAULT_KEY: 'cli-signing' } });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('Key Vault key "cli-signing" in');
      expect(r.stderr).toMatch(/Signing with Key Vault key "cli-signing" \(MASKINPORTEN_VAULT_KEY\)/);
      expect(world.sims.maskinporten.requests.filter((q) => q.ok).map((q) => q.header)).toEqual([{ alg: 'RS256', kid: kidOf(made) }]);
      expect(world.sims.keyVault.keys.operations.filter((o) => o.op === 'sign')).toHaveLength(1);
      expect(await readdir(root)).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
