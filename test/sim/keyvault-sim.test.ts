// Tests of the Key Vault simulator, driven through the real @azure/keyvault-secrets SecretClient (challenge auth,
// versions, paging, properties, soft delete, errors, 429 retry) plus raw HTTP for what the SDK hides.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { startKeyVaultSim, type KeyVaultSim } from './keyvault-sim.js';
import { throttle } from './faults.js';

const credential: TokenCredential = { getToken: async () => ({ token: 'dummy', expiresOnTimestamp: Date.now() + 3600e3 }) };
const clientOptions = { allowInsecureConnection: true, disableChallengeResourceVerification: true };
const T0 = Date.UTC(2030, 0, 1, 12);
let clock = T0;
let kv: KeyVaultSim;
let client: SecretClient;

beforeAll(async () => {
  kv = await startKeyVaultSim({ now: () => clock });
  client = new SecretClient(kv.url, credential, clientOptions);
});
afterAll(async () => {
  await kv.close();
});

const statusOf = async (p: Promise<unknown>) => p.then(() => 200, (e: { statusCode?: number; code?: string }) => `${e.statusCode} ${e.code}`);

describe('Key Vault simulator through SecretClient', () => {
  test('setSecret answers the challenge, then stores a version; getSecret reads latest and by version', async () => {
    const writes = kv.writes;
    const first = await client.setSecret('altinn-token', 'v1', { contentType: 'application/jwt', tags: { kind: 'altinn' } });
    expect(kv.requests.slice(0, 2)).toEqual([
      { method: 'PUT', path: '/secrets/altinn-token', status: 401 },
      { method: 'PUT', path: '/secrets/altinn-token', status: 200 },
    ]);
    expect(first.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(first.properties.id).toBe(`${kv.url}/secrets/altinn-token/${first.properties.version}`);
    expect(first.properties.createdOn).toEqual(new Date(T0));
    expect(first.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    clock += 5000;
    const second = await client.setSecret('altinn-token', 'v2');
    expect(kv.writes).toBe(writes + 2);
    expect(second.properties.version).not.toBe(first.properties.version);

    const latest = await client.getSecret('altinn-token');
    expect([latest.value, latest.properties.version, latest.properties.updatedOn]).toEqual(['v2', second.properties.version, new Date(T0 + 5000)]);
    const old = await client.getSecret('altinn-token', { version: first.properties.version! });
    expect([old.value, old.properties.contentType, old.properties.tags]).toEqual(['v1', 'application/jwt', { kind: 'altinn' }]);
    expect(kv.getSecret('altinn-token')?.value).toBe('v2');
  });

  test('lists versions and secrets without values, paging with nextLink', async () => {
    for (const v of ['a', 'b', 'c']) await client.setSecret('paged', v);
    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('paged')) versions.push(p);
    expect(versions).toHaveLength(3);
    expect(versions.every((p) => p.name === 'paged' && /^[0-9a-f]{32}$/.test(p.version!) && !('value' in p))).toBe(true);
    const pages: number[] = [];
    for await (const page of client.listPropertiesOfSecretVersions('paged').byPage({ maxPageSize: 2 })) pages.push(page.length);
    expect(pages).toEqual([2, 1]);
    const names = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(['altinn-token', 'paged']));
    expect(kv.listVersions('paged').map((v) => v.value)).toEqual(['a', 'b', 'c']);
  });

  test('updateSecretProperties changes attributes; a disabled version answers 403, an expired one is still read', async () => {
    const { properties } = await client.setSecret('props', 'x');
    const updated = await client.updateSecretProperties('props', properties.version!, {
      tags: { a: 'b' }, contentType: 'text/plain', expiresOn: new Date(T0 - 3600e3),
    });
    expect([updated.tags, updated.contentType, updated.expiresOn]).toEqual([{ a: 'b' }, 'text/plain', new Date(T0 - 3600e3)]);
    expect((await client.getSecret('props')).value).toBe('x'); // expiry is informational for secrets
    await client.updateSecretProperties('props', properties.version!, { enabled: false });
    expect(await statusOf(client.getSecret('props'))).toBe('403 Forbidden');
    const born = await client.setSecret('born-disabled', 'y', { enabled: false });
    expect([born.value, born.properties.enabled]).toEqual(['y', false]);
    expect(kv.getSecret('props')?.attributes.enabled).toBe(false);
    await client.updateSecretProperties('props', properties.version!, { enabled: true });
    expect((await client.getSecret('props')).value).toBe('x');
  });

  test('404 SecretNotFound for a missing secret or version; 400 for a bad name or oversized value', async () => {
    expect(await statusOf(client.getSecret('missing'))).toBe('404 SecretNotFound');
    expect(await statusOf(client.getSecret('altinn-token', { version: '0'.repeat(32) }))).toBe('404 SecretNotFound');
    expect(await statusOf(client.setSecret('bad_name', 'x'))).toBe('400 BadParameter');
    expect(await statusOf(client.setSecret('1starts-with-digit', 'x'))).toBe('400 BadParameter');
    expect(await statusOf(client.setSecret('big', 'x'.repeat(25 * 1024 + 1)))).toBe('400 BadParameter');
    expect(await statusOf(client.setSecret('big', 'x'.repeat(25 * 1024)))).toBe(200);
  });

  test('delete is soft: 404 after, 409 on reuse, purge frees the name', async () => {
    await client.setSecret('doomed', 'x');
    const poller = await client.beginDeleteSecret('doomed');
    const deleted = await poller.pollUntilDone();
    expect(deleted.properties.recoveryId).toBe(`${kv.url}/deletedsecrets/doomed`);
    expect(await statusOf(client.getSecret('doomed'))).toBe('404 SecretNotFound');
    expect(await statusOf(client.setSecret('doomed', 'y'))).toBe('409 Conflict');
    await client.purgeDeletedSecret('doomed');
    expect((await client.setSecret('doomed', 'z')).value).toBe('z');
  });

  test('a 429 with Retry-After is retried by the SDK after the given delay', async () => {
    await client.getSecret('altinn-token'); // challenge already done
    const n = kv.requests.length;
    kv.faults.enqueue(throttle(1));
    const t0 = Date.now();
    expect((await client.getSecret('altinn-token')).value).toBe('v2');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(kv.requests.slice(n).map((r) => r.status)).toEqual([429, 200]);
  });

  test('other faults surface to a client without retries', async () => {
    const noRetry = new SecretClient(kv.url, credential, { ...clientOptions, retryOptions: { maxRetries: 0 } });
    await noRetry.getSecret('altinn-token');
    kv.faults.enqueue({ status: 500 }, { malformed: true });
    expect(await statusOf(noRetry.getSecret('altinn-token'))).toBe('500 InternalServerError');
    await expect(noRetry.getSecret('altinn-token')).rejects.toThrow();
    expect((await noRetry.getSecret('altinn-token')).value).toBe('v2');
  });
});

describe('Key Vault simulator over raw HTTP', () => {
  test('401 challenge without a bearer token; 400 without api-version; 404/405 on unknown routes', async () => {
    const res = await fetch(`${kv.url}/secrets/altinn-token?api-version=7.5`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}", resource="https:\/\/vault\.azure\.net"$/);
    expect(await res.json()).toEqual({ error: { code: 'Unauthorized', message: expect.any(String) } });

    const auth = { Authorization: 'Bearer x' };
    const noVersion = await fetch(`${kv.url}/secrets/altinn-token`, { headers: auth });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ error: { code: 'BadParameter' } });
    expect((await fetch(`${kv.url}/keys/k?api-version=7.5`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${kv.url}/secrets?api-version=7.5`, { method: 'POST', headers: auth })).status).toBe(405);

    const latest = await fetch(`${kv.url}/secrets/altinn-token/?api-version=7.5`, { headers: auth });
    expect(await latest.json()).toMatchObject({ value: 'v2', attributes: { enabled: true, recoverableDays: 90 } });
    const bad = await fetch(`${kv.url}/secrets/x?api-version=7.5`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"value":' });
    expect(await bad.json()).toMatchObject({ error: { code: 'BadParameter' } });
    const noValue = await fetch(`${kv.url}/secrets/x?api-version=7.5`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' });
    expect(noValue.status).toBe(400);
  });

  test('direct helpers seed and inspect the store', () => {
    const v = kv.setSecret('seeded', 'secret-value', { contentType: 'text/plain', tags: { t: '1' }, exp: 1 });
    expect(kv.getSecret('seeded', v)).toMatchObject({ value: 'secret-value', version: v, contentType: 'text/plain', tags: { t: '1' }, attributes: { enabled: true, exp: 1 } });
    kv.disableSecret('seeded');
    expect(kv.getSecret('seeded')?.attributes.enabled).toBe(false);
    expect(kv.getSecret('nothing')).toBeUndefined();
    expect(kv.listVersions('nothing')).toEqual([]);
    expect(() => kv.setSecret('bad name', 'x')).toThrow();
  });
});
