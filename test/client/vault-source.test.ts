// The vault token source against the Key Vault simulator through the real @azure/keyvault-secrets SDK: it reads
// the token secret the broker writes (shared/vault/keyvault-store.ts), caches it by the secret's exp attribute, shares one
// read among concurrent callers, keeps a still-valid token when a re-read fails, and renews after a 401.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { TokenCredential } from '@azure/identity';
import { createVaultTokenSource, BrokerClientError } from '../../client/index.js';
import { KeyVaultStore } from '../../shared/vault/keyvault-store.js';
import { startKeyVaultSim, type KeyVaultSim } from '../sim/index.js';
import { makeClock } from '../helpers/world.js';
import { startApiServer, type ApiServer } from './api-server.js';

const clock = makeClock();
let kv: KeyVaultSim;
let api: ApiServer;
let seq = 0;
let asked = 0;
/** The vault simulator checks that a bearer token is sent, not what it is. */
const credential: TokenCredential = {
  getToken: async () => {
    asked++;
    return { token: 'vault-sim-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

beforeAll(async () => {
  kv = await startKeyVaultSim({ now: clock.now });
  api = await startApiServer();
});
afterAll(async () => {
  await api?.close();
  await kv?.close();
});
afterEach(() => api.refused.clear());

/** A fresh secret name per test; the token value is unique too. */
function secretName(): string {
  return `altinn-token-t${++seq}`;
}
const nowS = () => Math.floor(clock.now() / 1000);
const reads = (name: string) => kv.requests.filter((r) => r.method === 'GET' && r.path === `/secrets/${name}/` && r.status === 200).length;
const source = (name: string, extra: Record<string, unknown> = {}) =>
  createVaultTokenSource({ vaultUrl: kv.url, secretName: name, credential, now: clock.now, ...extra });

describe('createVaultTokenSource over the Key Vault simulator', () => {
  test('reads the token the broker stored and caches it by the exp attribute', async () => {
    const name = secretName();
    const expiresAt = Math.floor(clock.now() / 1000) * 1000 + 1_800_000;
    const store = new KeyVaultStore({ vaultUrl: kv.url, local: true });
    await store.writeToken(name, { token: 'token-from-broker', expiresAt, issuedAt: clock.now(), tags: { profile: 'default' } });
    const src = source(name);
    const t = await src.getToken();
    expect(t).toEqual({ token: 'token-from-broker', expiresAt: new Date(expiresAt) });
    expect(reads(name)).toBe(1);
    clock.advance(1_700_000); // 100 s left, more than the 60 s margin: from memory
    expect((await src.getToken()).token).toBe('token-from-broker');
    expect(reads(name)).toBe(1);
  });

  test('concurrent callers share one read; near expiry the newest version is read', async () => {
    const name = secretName();
    kv.setSecret(name, 'first', { exp: nowS() + 600 });
    const src = source(name);
    const all = await Promise.all(Array.from({ length: 50 }, () => src.getToken()));
    expect(new Set(all.map((t) => t.token))).toEqual(new Set(['first']));
    expect(reads(name)).toBe(1);
    kv.setSecret(name, 'second', { exp: nowS() + 1800 });
    expect((await src.getToken()).token).toBe('first'); // still 600 s left
    clock.advance(550_000); // 50 s left: inside the margin
    const renewed = await src.getToken();
    expect(renewed.token).toBe('second');
    expect(renewed.expiresAt.getTime()).toBe((nowS() - 550 + 1800) * 1000);
    expect(reads(name)).toBe(2);
  });

  test('a failed re-read keeps serving the still-valid token; an empty cache gets the error', async () => {
    const name = secretName();
    kv.setSecret(name, 'good', { exp: nowS() + 100 });
    const src = source(name, { refreshMarginSeconds: 90 });
    expect((await src.getToken()).token).toBe('good');
    kv.setSecret(name, 'disabled-next', { exp: nowS() + 1800 });
    kv.disableSecret(name);
    clock.advance(20_000); // 80 s left < 90 s margin: re-read, which is refused (403)
    expect((await src.getToken()).token).toBe('good');
    const fresh = source(name);
    await expect(fresh.getToken()).rejects.toMatchObject({ name: 'BrokerClientError', code: 'VAULT_DENIED', status: 403 });
  });

  test('missing, expired and exp-less secrets are clear errors', async () => {
    await expect(source(secretName()).getToken()).rejects.toMatchObject({ code: 'VAULT_SECRET_NOT_FOUND', status: 404 });
    const expired = secretName();
    kv.setSecret(expired, 'old', { exp: nowS() - 1 });
    await expect(source(expired).getToken()).rejects.toMatchObject({ code: 'VAULT_TOKEN_EXPIRED' });
    const plain = secretName();
    kv.setSecret(plain, 'no-exp');
    const err = (await source(plain).getToken().catch((e: unknown) => e)) as BrokerClientError;
    expect(err).toBeInstanceOf(BrokerClientError);
    expect(err.code).toBe('VAULT_BAD_SECRET');
    expect(err.message).toMatch(/no expiry \(exp\)/);
    for (const e of [err]) expect(e.message).not.toContain('no-exp');
  });

  test('fetch sends the token as a bearer header and, after a 401, re-reads the vault and retries once', async () => {
    const name = secretName();
    kv.setSecret(name, 'revoked-token', { exp: nowS() + 1800 });
    const src = source(name);
    expect((await src.getToken()).token).toBe('revoked-token');
    kv.setSecret(name, 'replacement-token', { exp: nowS() + 1800 });
    api.refused.add('revoked-token');
    const before = api.seen.length;
    const res = await src.fetch(`${api.url}/storage/api/v1/instances`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, echo: 'payload' });
    expect(api.seen.slice(before)).toEqual([
      { authorization: 'Bearer revoked-token', body: 'payload' },
      { authorization: 'Bearer replacement-token', body: 'payload' },
    ]);
    expect(reads(name)).toBe(2);
    // a second 401 is the caller's to handle: no loop
    api.refused.add('replacement-token');
    expect((await src.fetch(`${api.url}/x`)).status).toBe(401);
    expect(api.seen.length).toBe(before + 4);
  });

  test('options are checked: a real vault needs https; the credential is asked only when reading', async () => {
    expect(() => createVaultTokenSource({ vaultUrl: 'http://my-vault.vault.azure.net', credential })).toThrow(
      expect.objectContaining({ code: 'CLIENT_BAD_OPTION', message: expect.stringMatching(/vaultUrl.*https/) }),
    );
    expect(() => createVaultTokenSource({ vaultUrl: kv.url, secretName: '1bad_name', credential })).toThrow(expect.objectContaining({ code: 'CLIENT_BAD_OPTION' }));
    const before = asked;
    createVaultTokenSource({ vaultUrl: 'https://my-vault.vault.azure.net', credential });
    expect(asked).toBe(before);
  });
});
