// Operator actions through the real handlers (real HttpRequest/InvocationContext objects, the broker against the
// Maskinporten, Altinn, Key Vault and Entra ID simulators): a forced refresh mints a new token; a drop removes the
// token from this instance's memory and from the vault (tombstone on top, valid versions disabled) and the next
// request mints anew; without the Tokens.Admin role nothing happens (401/403); each call leaves one audit line.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpRequest } from '@azure/functions';
import { manageDropHandler, manageDropOptions, manageRefreshHandler, manageRefreshOptions } from '../../functions/manage.js';
import { tokenHandler } from '../../functions/token.js';
import { parseConfig } from '../../shared/config/config.js';
import { loadFunctions } from '../../shared/local/functions.js';
import { compileRoute } from '../../shared/local/host.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { PLACEHOLDER_CONTENT_TYPE } from '../../shared/vault/store.js';
import { capture } from '../helpers/capture.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let authEnv: Record<string, string>;

beforeAll(async () => {
  world = await startWorld({ scopes: ['altinn:serviceowner'] });
  authEnv = { ...world.env, ...world.sims.entra.settings(), PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope' };
});
afterAll(async () => {
  setRuntime(undefined);
  await world.close();
});

function use(settings: Record<string, string>): Runtime {
  const runtime = new Runtime(parseConfig(settings), { now: world.clock.now, retry: { baseDelayMs: 5, maxDelayMs: 10 } });
  setRuntime(runtime);
  return runtime;
}

interface Call {
  status: number;
  body: Record<string, unknown>;
  text: string;
  audit: Array<Record<string, unknown>>;
  lines: string[];
}

async function call(handler: typeof manageRefreshHandler, method: string, path: string, profile: string | undefined, headers: Record<string, string> = {}): Promise<Call> {
  const { context, lines } = capture();
  const request = new HttpRequest({ method, url: `http://127.0.0.1:7071${path}${profile ? `/${profile}` : ''}`, headers, params: profile ? { profile } : {} });
  const res = await handler(request, context('test'));
  const text = String(res.body);
  const audit = lines.filter((l) => l.startsWith('information {"audit":')).map((l) => JSON.parse(l.slice('information '.length)) as Record<string, unknown>);
  return { status: res.status ?? 200, body: JSON.parse(text) as Record<string, unknown>, text, audit, lines };
}

const refresh = (profile?: string, headers?: Record<string, string>) => call(manageRefreshHandler, 'POST', '/api/manage/refresh', profile, headers);
const drop = (profile?: string, headers?: Record<string, string>) => call(manageDropHandler, 'POST', '/api/manage/drop', profile, headers);
const getToken = (profile?: string, headers?: Record<string, string>) => call(tokenHandler, 'GET', '/api/token', profile, headers);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const minted = () => world.sims.maskinporten.tokensIssued;

describe('registration', () => {
  test('POST only, function-level auth whether caller authorization is on or off, registered with the local host', async () => {
    for (const options of [manageRefreshOptions, manageDropOptions]) {
      expect(options.methods).toEqual(['POST']);
      expect(options.authLevel).toBe('function');
      // The Functions host refuses routes that start with "admin".
      expect(options.route).not.toMatch(/^admin/i);
    }
    const { http } = await loadFunctions();
    expect(http.find((f) => f.name === 'manageRefresh')?.options).toBe(manageRefreshOptions);
    expect(http.find((f) => f.name === 'manageDrop')?.options).toBe(manageDropOptions);
    expect(compileRoute({ name: 'manageDrop', options: manageDropOptions }).pattern.test('/api/manage/drop/extra')).toBe(true);
    expect(compileRoute({ name: 'manageDrop', options: manageDropOptions }).pattern.test('/api/manage/drop')).toBe(true);
  });
});

describe('profile names', () => {
  test('a Unicode look-alike of a profile name (Kelvin sign for "k") refreshes and drops nothing', async () => {
    use({ ...world.env, PROFILE__key__MASKINPORTEN_SCOPES: 'extra:scope' });
    const [mintsBefore, writesBefore] = [minted(), world.sims.keyVault.writes];
    for (const c of [await refresh('\u212Aey'), await drop('\u212Aey')]) {
      expect(c.status).toBe(404);
      expect(c.body).toMatchObject({ code: 'PROFILE_NOT_FOUND' });
    }
    expect([minted(), world.sims.keyVault.writes]).toEqual([mintsBefore, writesBefore]);
    expect((await refresh('KEY')).status).toBe(200); // the ASCII name, in any case, is the profile
  });
});

describe('with caller authorization on: the Tokens.Admin role', () => {
  test('no token: 401, nothing minted or written, one audit line', async () => {
    use(authEnv);
    const [mintsBefore, writesBefore] = [minted(), world.sims.keyVault.writes];
    for (const c of [await refresh('default'), await drop('default')]) {
      expect(c.status).toBe(401);
      expect(c.body).toMatchObject({ code: 'CALLER_UNAUTHENTICATED' });
      expect(c.audit).toHaveLength(1);
      expect(c.audit[0]).toMatchObject({ audit: 'manage', route: 'manage', outcome: 'refused', status: 401, profile: 'default', auth: 'entra', reason: 'no token' });
    }
    expect([minted(), world.sims.keyVault.writes]).toEqual([mintsBefore, writesBefore]);
  });

  test('a forged token (signed by a key not of the tenant): 401', async () => {
    use(authEnv);
    const forged = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'], kid: 'not-a-tenant-key' });
    const c = await drop('default', bearer(forged));
    expect(c.status).toBe(401);
    expect(c.audit).toEqual([expect.objectContaining({ action: 'drop', outcome: 'refused', status: 401, callerVerified: false })]);
    expect(c.lines.join('\n')).not.toContain(forged);
  });

  test('a valid token without Tokens.Admin (even Tokens.Read.All and Health.Read): 403, the token stays', async () => {
    const runtime = use(authEnv);
    const reader = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All', 'Health.Read'], oid: 'b0b0b0b0-0000-4000-8000-000000000001' });
    const served = await getToken('default', bearer(reader));
    expect(served.status).toBe(200);
    const [mintsBefore, writesBefore] = [minted(), world.sims.keyVault.writes];
    for (const c of [await refresh('default', bearer(reader)), await drop('default', bearer(reader))]) {
      expect(c.status).toBe(403);
      expect(c.body).toMatchObject({ code: 'CALLER_FORBIDDEN', requiredRoles: ['Tokens.Admin'] });
      expect(c.audit).toEqual([expect.objectContaining({ route: 'manage', outcome: 'refused', status: 403, callerOid: 'b0b0b0b0-0000-4000-8000-000000000001', reason: 'missing role' })]);
    }
    expect([minted(), world.sims.keyVault.writes]).toEqual([mintsBefore, writesBefore]);
    expect(runtime.broker('default').status().tokenExpiresAt).toBeDefined();
  });

  test('forced refresh: a new token is minted, stored and then served; the answer and the logs hold only its fingerprint', async () => {
    use(authEnv);
    const reader = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'] });
    const admin = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'], oid: 'adadadad-0000-4000-8000-000000000001', appId: 'adadadad-0000-4000-8000-0000000000ff' });
    const before = await getToken('default', bearer(reader));
    const old = before.body.access_token as string;
    const mintsBefore = minted();
    const c = await refresh('default', bearer(admin));
    expect(c.status).toBe(200);
    expect(minted()).toBe(mintsBefore + 1); // a fresh token in memory did not stop it
    expect(c.body).toMatchObject({ action: 'refresh', profile: 'default', outcome: 'refreshed' });
    expect(c.audit).toEqual([
      expect.objectContaining({ audit: 'manage', action: 'refresh', outcome: 'done', status: 200, auth: 'entra', role: 'Tokens.Admin', callerOid: 'adadadad-0000-4000-8000-000000000001', callerAppId: 'adadadad-0000-4000-8000-0000000000ff', tokenFingerprint: c.body.tokenFingerprint }),
    ]);
    const after = await getToken('default', bearer(reader));
    const fresh = after.body.access_token as string;
    expect(fresh).not.toBe(old);
    expect(after.audit[0]!.tokenFingerprint).toBe(c.body.tokenFingerprint);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(fresh);
    for (const text of [c.text, ...c.lines]) {
      expect(text).not.toContain(fresh);
      expect(text).not.toContain(admin);
    }
  });

  test('drop: memory cleared, tombstone on top, valid versions disabled; the next request mints anew', async () => {
    const runtime = use(authEnv);
    const reader = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'] });
    const admin = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'] });
    const old = (await getToken('default', bearer(reader))).body.access_token as string;
    const oldVersion = world.sims.keyVault.listVersions('altinn-token').find((v) => v.value === old)!.version;

    const c = await drop('default', bearer(admin));
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ action: 'drop', profile: 'default', outcome: 'dropped', memory: 'cleared' });
    expect(runtime.broker('default').status().tokenExpiresAt).toBeUndefined();
    // The vault: a tombstone the broker and consumers treat as "no token"; the old token cannot be read by version.
    const latest = world.sims.keyVault.getSecret('altinn-token')!;
    expect(latest.contentType).toBe(PLACEHOLDER_CONTENT_TYPE);
    expect(latest.tags).toMatchObject({ 'broker-placeholder': 'true', profile: 'default' });
    expect(latest.value).not.toContain('.');
    expect((c.body.vault as Record<string, unknown>).tombstoneVersion).toBe(latest.version);
    const versions = world.sims.keyVault.listVersions('altinn-token');
    const stillReadable = versions.filter((v) => v.attributes.enabled && v.contentType === 'application/jwt' && (v.attributes.exp ?? Infinity) * 1000 > world.clock.now());
    expect(stillReadable).toEqual([]);
    expect(versions.find((v) => v.version === oldVersion)!.attributes.enabled).toBe(false);
    expect((c.body.vault as Record<string, unknown>).disabledVersions).toBeGreaterThanOrEqual(1);
    expect(c.audit).toEqual([expect.objectContaining({ action: 'drop', outcome: 'done', status: 200, role: 'Tokens.Admin', vaultVersion: latest.version, droppedFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) })]);
    for (const text of [c.text, ...c.lines]) expect(text).not.toContain(old);

    const mintsBefore = minted();
    const next = await getToken('default', bearer(reader));
    expect(next.status).toBe(200);
    expect(minted()).toBe(mintsBefore + 1);
    expect(next.body.access_token).not.toBe(old);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(next.body.access_token);
  });

  test('another instance does not adopt the tombstone; one that still holds the old token in memory keeps it until its refresh (the documented limit)', async () => {
    const admin = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'] });
    const reader = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'] });
    const other = new Runtime(parseConfig(authEnv), { now: world.clock.now });
    const log = capture().log;
    const held = await other.broker('default').getToken(log); // the other instance's memory copy
    use(authEnv);
    expect((await drop('default', bearer(admin))).status).toBe(200);
    // The other instance serves its memory copy until it is due (documented: restart the app to clear every instance).
    expect((await other.broker('default').getToken(log)).token).toBe(held.token);
    // A new instance (e.g. after a restart) reads the tombstone, does not adopt it, and mints.
    const mintsBefore = minted();
    const fresh = new Runtime(parseConfig(authEnv), { now: world.clock.now });
    const token = await fresh.broker('default').getToken(log);
    expect(minted()).toBe(mintsBefore + 1);
    expect(token.token).not.toBe(held.token);
    expect(token.source).toBe('minted');
    void reader;
  });

  test('an unknown profile: 404 after the role check, audited as failed', async () => {
    use(authEnv);
    const admin = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'] });
    const c = await refresh('nope', bearer(admin));
    expect(c.status).toBe(404);
    expect(c.body).toMatchObject({ code: 'PROFILE_NOT_FOUND' });
    expect(c.audit).toEqual([expect.objectContaining({ action: 'refresh', outcome: 'failed', status: 404, reason: 'PROFILE_NOT_FOUND' })]);
  });
});

describe('with caller authorization off: the function key is the gate', () => {
  test('a forced refresh of a named profile and a drop, each with one function-key audit line', async () => {
    use({ ...world.env, PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope' });
    const mintsBefore = minted();
    const r = await refresh('extra');
    expect(r.status).toBe(200);
    expect(minted()).toBe(mintsBefore + 1);
    expect(r.audit).toEqual([expect.objectContaining({ route: 'manage', action: 'refresh', outcome: 'done', auth: 'function-key', profile: 'extra' })]);
    const d = await drop('extra');
    expect(d.status).toBe(200);
    expect(d.audit).toEqual([expect.objectContaining({ route: 'manage', action: 'drop', outcome: 'done', auth: 'function-key', profile: 'extra' })]);
    expect(world.sims.keyVault.getSecret('altinn-token-extra')!.contentType).toBe(PLACEHOLDER_CONTENT_TYPE);
  });

  test('a failed forced refresh keeps the last good token and answers with the error', async () => {
    const runtime = use({ ...world.env });
    const good = await runtime.broker('default').getToken(capture().log);
    world.sims.maskinporten.faults.enqueue(...Array.from({ length: 10 }, () => ({ status: 503 })));
    const c = await refresh();
    world.sims.maskinporten.faults.clear();
    expect(c.status).toBeGreaterThanOrEqual(500);
    expect(c.audit).toEqual([expect.objectContaining({ action: 'refresh', outcome: 'failed', reason: expect.stringMatching(/^MASKINPORTEN_/) })]);
    expect((await runtime.broker('default').getToken(capture().log)).token).toBe(good.token);
  });
});
