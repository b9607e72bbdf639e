// Key source 2 end to end: the grant is signed by a Key Vault key (MASKINPORTEN_VAULT_KEY) in the simulator, through
// the real @azure/keyvault-keys SDK; Maskinporten accepts it, Altinn exchanges the token and it is stored. The
// vault is never asked for private key material, and a new key version takes over at its notBefore, no restart.
import { afterEach, describe, expect, test } from '@jest/globals';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { decodeProtectedHeader } from 'jose';
import { healthDetailsHandler } from '../../functions/health-details.js';
import { parseConfig } from '../../shared/config/config.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { startHostProcess, type HostProcess } from '../helpers/host-process.js';
import { privateMembers } from '../helpers/keys.js';
import { startWorld, type World } from '../helpers/world.js';

const KEY = 'mp-signing-key';
let world: World | undefined;
let host: HostProcess | undefined;
afterEach(async () => {
  setRuntime(undefined);
  await host?.stop();
  host = undefined;
  await world?.close();
  world = undefined;
});

/** A world whose Maskinporten client is registered with the public JWK of a new Key Vault key (tagged with `kid`),
 *  and settings that name that key instead of a key secret. */
async function vaultKeyWorld(kid = 'broker-TEST.vault1'): Promise<{ w: World; env: Record<string, string> }> {
  const w = await startWorld();
  world = w;
  w.sims.keyVault.keys.createKey(KEY, { tags: { 'maskinporten-kid': kid } });
  register(w, kid, 0);
  const { MASKINPORTEN_KEY_SECRET: _secret, MASKINPORTEN_KID: _kid, ...rest } = w.env;
  return { w, env: { ...rest, MASKINPORTEN_VAULT_KEY: KEY } };
}

const registered = new Map<World, Array<Record<string, unknown>>>();
function register(w: World, kid: string, index: number): void {
  const keys = registered.get(w) ?? [];
  keys.push({ ...w.sims.keyVault.keys.versions(KEY)[index]!.publicJwk, kid });
  registered.set(w, keys);
  w.sims.maskinporten.addClient({ clientId: w.clientId, scopes: ['altinn:serviceowner'], keys: keys as never });
}

/** Every request the vault served for the key: list versions, read a version's public part, sign. */
function keyOperations(w: World): string[] {
  return [...new Set(w.sims.keyVault.keys.operations.map((o) => o.op))].sort();
}

/** A broker on the world's shared clock (the simulators use it too), so a test can let time pass. */
function clockedRuntime(w: World, env: Record<string, string>): Runtime {
  return new Runtime(parseConfig(env), { now: w.clock.now });
}

/** Moves the shared clock to 30 s before the current token expires: below MIN_TOKEN_TTL_SECONDS (60) and
 *  REFRESH_BEFORE_EXPIRY_SECONDS (600), and long past MIN_MINT_INTERVAL_SECONDS, so the next call mints for real. */
function letTokenRunLow(w: World, runtime: Runtime): void {
  const expiresAt = Date.parse(runtime.broker().status().tokenExpiresAt!);
  w.clock.advance(expiresAt - w.clock.now() - 30_000);
}

describe('MASKINPORTEN_VAULT_KEY', () => {
  test('mints, exchanges and stores a token with a grant signed in the vault; no private key is ever asked for', async () => {
    const { w, env } = await vaultKeyWorld();
    const runtime = clockedRuntime(w, env);
    const { log, lines } = capture();
    const token = await runtime.broker().getToken(log);

    const accepted = w.sims.maskinporten.requests.filter((r) => r.ok);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.header).toEqual({ alg: 'RS256', kid: 'broker-TEST.vault1' });
    expect(token.kind).toBe('altinn');
    expect(w.sims.keyVault.getSecret('altinn-token')!.value).toBe(token.token);

    // What the vault was asked: list versions, read the chosen version (public part), one sign per grant.
    expect(keyOperations(w)).toEqual(['get', 'sign', 'versions']);
    expect(w.sims.keyVault.keys.operations.filter((o) => o.op === 'sign')).toHaveLength(1);
    // No secret was read but the token's own (the adoption check); no export, backup or release route was called.
    const secretPaths = w.sims.keyVault.requests.filter((r) => r.path.startsWith('/secrets/')).map((r) => r.path);
    expect(new Set(secretPaths)).toEqual(new Set(['/secrets/altinn-token', '/secrets/altinn-token/']));
    expect(w.sims.keyVault.requests.filter((r) => /\/(backup|release|export)$/.test(r.path))).toEqual([]);
    expect(lines.join('\n')).toMatch(/Signing with Key Vault key "mp-signing-key" \(MASKINPORTEN_VAULT_KEY\) version [0-9a-f]{32} \(kid broker-TEST.vault1, RSA 2048\)/);

    // A second mint (the token has run low) signs once more and lists nothing new.
    letTokenRunLow(w, runtime);
    const second = await runtime.broker().getToken(log);
    expect(second).toMatchObject({ source: 'minted' });
    expect(second.token).not.toBe(token.token);
    expect(w.sims.maskinporten.requests.filter((r) => r.ok).map((r) => r.header)).toEqual([
      { alg: 'RS256', kid: 'broker-TEST.vault1' },
      { alg: 'RS256', kid: 'broker-TEST.vault1' },
    ]);
    expect(w.sims.keyVault.keys.operations.filter((o) => o.op === 'sign')).toHaveLength(2);
    expect(w.sims.keyVault.keys.operations.filter((o) => o.op === 'versions')).toHaveLength(1);
  });

  test('rotation: a version with notBefore 2 s ahead is used after that time, without a restart, and its kid is in the next grant', async () => {
    const { w, env } = await vaultKeyWorld('broker-TEST.v1');
    const runtime = clockedRuntime(w, env);
    const { log, lines } = capture();
    const kids = () => w.sims.maskinporten.requests.filter((r) => r.ok).map((r) => (r.header as { kid?: string }).kid);

    // The SDK checks a version's notBefore against the wall clock before it signs, so the shared clock must be wall
    // time while the new version's notBefore matters: it starts 1770 s behind, and the first token (30 minutes)
    // has run low (30 s left) when the clock catches up.
    w.clock.advance(-1_770_000);
    expect(await runtime.broker().refreshIfDue(log)).toBe('refreshed');
    w.clock.advance(1_770_000);
    const nbf = Math.ceil(Date.now() / 1000) + 2;
    w.sims.keyVault.keys.createKey(KEY, { nbf, tags: { 'maskinporten-kid': 'broker-TEST.v2' } });
    register(w, 'broker-TEST.v2', 1);

    expect(await runtime.broker().refreshIfDue(log)).toBe('refreshed'); // the new version is listed but not valid yet
    expect(kids()).toEqual(['broker-TEST.v1', 'broker-TEST.v1']);
    expect(w.clock.now()).toBeLessThan(nbf * 1000);
    await new Promise((r) => setTimeout(r, Math.max(0, nbf * 1000 - Date.now()) + 50));
    // Past notBefore the new token is still fresh: nothing is minted, so nothing is signed with either version.
    expect(await runtime.broker().refreshIfDue(log)).toBe('fresh');
    expect(kids()).toEqual(['broker-TEST.v1', 'broker-TEST.v1']);
    // Once it runs low, the next timer run signs with the new version.
    letTokenRunLow(w, runtime);
    expect(await runtime.broker().refreshIfDue(log)).toBe('refreshed');
    expect(kids()).toEqual(['broker-TEST.v1', 'broker-TEST.v1', 'broker-TEST.v2']);
    expect(lines.join('\n')).toMatch(/Switched from version [0-9a-f]{32} to Key Vault key "mp-signing-key" .* \(kid broker-TEST.v2, RSA 2048\)/);
    // The version list was read once per timer run that signed, never more.
    expect(w.sims.keyVault.keys.operations.filter((o) => o.op === 'versions')).toHaveLength(3);
  });

  test('a failed look for new versions at a timer run does not stop signing with the version in use', async () => {
    const { w, env } = await vaultKeyWorld();
    const runtime = clockedRuntime(w, env);
    expect(await runtime.broker().refreshIfDue(capture().log)).toBe('refreshed');
    letTokenRunLow(w, runtime);
    // Next run: the stored-token read is answered; the version list fails on every SDK attempt (4); then sign.
    w.sims.keyVault.faults.enqueue({ delayMs: 1 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const { log, lines } = capture();
    expect(await runtime.broker().refreshIfDue(log)).toBe('refreshed');
    expect(lines.join('\n')).toMatch(/Could not list the versions of Key Vault key "mp-signing-key" .*\(500 InternalServerError\).*still signing with version [0-9a-f]{32}/);
    expect(lines.join('\n')).toContain('(The Key Vault request to list the versions of Key Vault key "mp-signing-key" (MASKINPORTEN_VAULT_KEY) failed (500 InternalServerError): check KEY_VAULT_URL');
    expect(w.sims.maskinporten.requests.filter((r) => r.ok).map((r) => r.header)).toEqual([
      { alg: 'RS256', kid: 'broker-TEST.vault1' },
      { alg: 'RS256', kid: 'broker-TEST.vault1' },
    ]);
  });

  test('KEY_KID_MISSING without MASKINPORTEN_KID or tag; MASKINPORTEN_KID wins over the tag; unknown key is KEY_NOT_FOUND', async () => {
    const { w, env } = await vaultKeyWorld();
    w.sims.keyVault.keys.createKey('untagged');
    const untagged = new Runtime(parseConfig({ ...env, MASKINPORTEN_VAULT_KEY: 'untagged' }));
    await expect(untagged.broker().getToken(capture().log)).rejects.toMatchObject({
      cause: { code: 'KEY_KID_MISSING', message: expect.stringContaining('"maskinporten-kid" tag') },
    });
    const missing = new Runtime(parseConfig({ ...env, MASKINPORTEN_VAULT_KEY: 'no-such-key' }));
    await expect(missing.broker().getToken(capture().log)).rejects.toMatchObject({
      cause: { code: 'KEY_NOT_FOUND', message: expect.stringContaining('Key Vault key "no-such-key" (MASKINPORTEN_VAULT_KEY) does not exist') },
    });

    // The setting wins (and is warned about): the grant carries it, so Maskinporten refuses the unknown kid.
    const { log, lines } = capture();
    const overridden = new Runtime(parseConfig({ ...env, MASKINPORTEN_KID: 'other-kid' }));
    await expect(overridden.broker().getToken(log)).rejects.toMatchObject({ code: 'NO_VALID_TOKEN' });
    expect(w.sims.maskinporten.requests.at(-1)).toMatchObject({ ok: false, code: 'MP-120', header: { kid: 'other-kid' } });
    expect(lines.join('\n')).toMatch(/MASKINPORTEN_KID "other-kid" differs from the "maskinporten-kid" tag "broker-TEST.vault1"/);
  });

  test('a disabled or future-only key is KEY_NOT_USABLE; a vault that denies signing names the role', async () => {
    const { w, env } = await vaultKeyWorld();
    const [v1] = w.sims.keyVault.keys.versions(KEY);
    w.sims.keyVault.keys.setAttributes(KEY, v1!.version, { enabled: false });
    await expect(new Runtime(parseConfig(env)).broker().getToken(capture().log)).rejects.toMatchObject({
      cause: { code: 'KEY_NOT_USABLE', message: expect.stringContaining('no version that is enabled, past its notBefore and not expired') },
    });
    w.sims.keyVault.keys.setAttributes(KEY, v1!.version, { enabled: true });
    const runtime = clockedRuntime(w, env);
    expect(await runtime.broker().refreshIfDue(capture().log)).toBe('refreshed');
    const good = w.sims.keyVault.getSecret('altinn-token')!.value;
    // Once the token runs low a request mints: it reads the stored token (answered normally), then signs, which
    // the vault refuses; the last good token (30 s left) is served meanwhile.
    letTokenRunLow(w, runtime);
    w.sims.keyVault.faults.enqueue({ delayMs: 1 }, { status: 403 });
    const served = await runtime.broker().getToken(capture().log);
    expect(served.token).toBe(good);
    expect(w.sims.keyVault.getSecret('altinn-token')!.value).toBe(good);
    expect(w.sims.keyVault.requests.at(-1)).toMatchObject({ method: 'POST', path: expect.stringMatching(/\/sign$/), status: 403 });
    expect(runtime.broker().status().lastRefresh).toMatchObject({
      outcome: 'failed',
      errorCode: 'STORE_REJECTED',
      error: expect.stringMatching(/^Key Vault denied the request to sign with Key Vault key "mp-signing-key" \(MASKINPORTEN_VAULT_KEY\) \(403\b.*"Key Vault Crypto User" role/),
    });
  });

  test('health shows the key in use (no key material); a version expiring within 30 days turns it degraded', async () => {
    const { w, env } = await vaultKeyWorld();
    const health = async (runtime: Runtime) => {
      setRuntime(runtime);
      const res = await healthDetailsHandler(new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/health/details' }), new InvocationContext());
      return { status: res.status, body: JSON.parse(String(res.body)) as { status: string; profiles: Array<Record<string, unknown>> } };
    };
    const runtime = clockedRuntime(w, env);
    await runtime.broker().getToken(capture().log);
    const [v1] = w.sims.keyVault.keys.versions(KEY);
    const ok = await health(runtime);
    expect(ok.body.status).toBe('ok');
    expect(ok.body.profiles[0]!.key).toEqual({
      source: 'vault-key', name: KEY, version: v1!.version, kid: 'broker-TEST.vault1', createdAt: expect.any(String), ageDays: 0,
    });
    expect(JSON.stringify(ok.body)).not.toContain(v1!.publicJwk.n); // not even the public key

    // A new version that expires 10 days after the next mint (a key whose expiry is set that way) is picked at the
    // next timer run.
    const lowAt = Date.parse(runtime.broker().status().tokenExpiresAt!) - 30_000;
    w.sims.keyVault.keys.createKey(KEY, { exp: Math.floor(lowAt / 1000) + 10 * 86_400 + 60, tags: { 'maskinporten-kid': 'broker-TEST.vault2' } });
    register(w, 'broker-TEST.vault2', 1);
    expect(await runtime.broker().refreshIfDue(capture().log)).toBe('fresh'); // the token is fresh: no mint yet
    expect(w.sims.keyVault.keys.operations.filter((o) => o.op === 'sign')).toHaveLength(1);
    letTokenRunLow(w, runtime);
    expect(await runtime.broker().getToken(capture().log)).toMatchObject({ source: 'minted' }); // the next mint uses the listed new version
    expect(w.sims.maskinporten.requests.filter((r) => r.ok).at(-1)!.header).toEqual({ alg: 'RS256', kid: 'broker-TEST.vault2' });
    const degraded = await health(runtime);
    expect([degraded.status, degraded.body.status]).toEqual([200, 'degraded']);
    expect(degraded.body.profiles[0]!.key).toMatchObject({
      kid: 'broker-TEST.vault2',
      expiresInDays: 10,
      warning: expect.stringMatching(/^Key Vault key "mp-signing-key" version [0-9a-f]{32} expires on .* \(in 10 days\): add a new version with "keygen <name> --vault <url> --vault-key mp-signing-key --rotate"/),
    });
  });

  test('npm run host serves a token signed by the vault key', async () => {
    const { w, env } = await vaultKeyWorld();
    // An hourly timer (its longest gap is within REFRESH_BEFORE_EXPIRY_SECONDS); the request mints at once.
    host = await startHostProcess({ ...env, REFRESH_SCHEDULE: '0 0 * * * *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' });
    const res = await fetch(`${host.url}/api/token`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string };
    expect(w.sims.keyVault.getSecret('altinn-token')!.value).toBe(body.access_token);
    const accepted = w.sims.maskinporten.requests.filter((r) => r.ok);
    expect(accepted.map((r) => decodeProtectedHeader(`${Buffer.from(JSON.stringify(r.header)).toString('base64url')}..`))).toEqual([{ alg: 'RS256', kid: 'broker-TEST.vault1' }]);
    expect(keyOperations(w)).toEqual(['get', 'sign', 'versions']);
    const out = host.output();
    expect(out).toMatch(/Signing with Key Vault key "mp-signing-key"/);
    expect(out).not.toContain(body.access_token);
    for (const m of privateMembers(w.key.jwk)) expect(out).not.toContain(m);
  }, 60_000);
});
