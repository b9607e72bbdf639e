// The refresh policy end to end through the real adapters: real fetch to the Maskinporten and Altinn simulators,
// the real Key Vault SDK against the vault simulator, a shared adjustable clock.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { FAILED_REFRESH_PAUSE_MS } from '../../../shared/broker/profile-broker.js';
import { parseConfig } from '../../../shared/config/config.js';
import { Runtime } from '../../../shared/runtime.js';
import { capture } from '../../helpers/capture.js';
import { b64, json, rsaKey } from '../../helpers/keys.js';
import { startWorld, type World } from '../../helpers/world.js';

let world: World;
const fastRetry = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 5_000 };

function runtime(extra: Record<string, string> = {}): Runtime {
  return new Runtime(parseConfig({ ...world.env, ...extra }), { now: world.clock.now, retry: fastRetry });
}

function counts() {
  const { maskinporten, altinn, keyVault } = world.sims;
  return { mp: maskinporten.tokensIssued, altinn: altinn.exchanges, writes: keyVault.writes, kvRequests: keyVault.requests.length };
}

beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.close();
});

describe('ProfileBroker', () => {
  test('a cold request mints, exchanges and stores one token; the vault holds exactly that token', async () => {
    const { log } = capture();
    const token = await runtime().broker().getToken(log);
    expect(counts()).toMatchObject({ mp: 1, altinn: 1, writes: 1 });
    const stored = world.sims.keyVault.getSecret('altinn-token')!;
    expect(stored.value).toBe(token.token);
    const claims = decodeJwt(token.token);
    expect(claims.iss).toBe(`${world.sims.altinn.url}/authentication/api/v1/openid/`);
    expect(token.expiresAt).toBe(claims.exp! * 1000);
    expect(stored.contentType).toBe('application/jwt');
    expect(stored.attributes).toMatchObject({ exp: claims.exp, nbf: claims.iat });
    expect(stored.tags).toMatchObject({ profile: 'default', 'client-id': world.clientId, kind: 'altinn' });
    expect(world.sims.maskinporten.requests.every((r) => r.ok)).toBe(true);
  });

  test('a warm request makes no Key Vault or network call at all', async () => {
    const { log } = capture();
    const rt = runtime();
    const first = await rt.broker().getToken(log);
    const before = counts();
    const again = await rt.broker().getToken(log);
    expect(again.token).toBe(first.token);
    expect(counts()).toEqual(before);
  });

  test('1,000 concurrent requests on an empty cache cause 1 Maskinporten call, 1 Altinn call, 1 vault write', async () => {
    const { log } = capture();
    const rt = runtime();
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => rt.broker().getToken(log)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(counts()).toMatchObject({ mp: 1, altinn: 1, writes: 1 });
  });

  test('another instance adopts the token stored in the vault instead of minting', async () => {
    const { log } = capture();
    const a = await runtime().broker().getToken(log);
    const b = await runtime().broker().getToken(log);
    expect(b.token).toBe(a.token);
    expect(b.source).toBe('vault');
    expect(counts()).toMatchObject({ mp: 1, altinn: 1, writes: 1 });
  });

  test('a stored token minted for other settings (scopes) is not adopted', async () => {
    const { log } = capture();
    await runtime().broker().getToken(log);
    const other = await runtime({ MASKINPORTEN_SCOPES: 'altinn:serviceowner extra:scope' }).broker().getToken(log);
    expect(other.source).toBe('minted');
    expect(counts()).toMatchObject({ mp: 2, writes: 2 });
  });

  test('a failed refresh keeps serving the last good token and never overwrites the vault', async () => {
    const { log, lines } = capture();
    const rt = runtime({ RETRY_MAX_ATTEMPTS: '2' });
    const good = await rt.broker().getToken(log);
    world.clock.advance(good.expiresAt - world.clock.now() - 30_000); // 30 s left: below the 60 s minimum
    world.sims.maskinporten.faults.enqueue({ status: 503 }, { status: 503 });
    const served = await rt.broker().getToken(log);
    expect(served.token).toBe(good.token);
    expect(world.sims.keyVault.listVersions('altinn-token')).toHaveLength(1);
    expect(rt.broker().status().lastRefresh).toMatchObject({ outcome: 'failed', errorCode: 'MASKINPORTEN_UNAVAILABLE' });
    // for a short pause the next requests are served without calling Maskinporten again
    const calls = world.sims.maskinporten.requests.length;
    expect((await rt.broker().getToken(log)).token).toBe(good.token);
    expect(world.sims.maskinporten.requests).toHaveLength(calls);
    // after the pause a request tries again, and succeeds now that Maskinporten is back
    world.clock.advance(FAILED_REFRESH_PAUSE_MS);
    const fresh = await rt.broker().getToken(log);
    expect(fresh.token).not.toBe(good.token);
    expect(lines.join('\n')).toMatch(/Serving the last good token/);
  });

  test('with nothing valid left a failure is NO_VALID_TOKEN carrying the cause', async () => {
    const { log } = capture();
    const rt = runtime({ MASKINPORTEN_SCOPES: 'not:registered' });
    await expect(rt.broker().getToken(log)).rejects.toMatchObject({
      code: 'NO_VALID_TOKEN',
      cause: expect.objectContaining({ code: 'MASKINPORTEN_REJECTED', facts: expect.objectContaining({ status: 400, error: 'invalid_scope' }) }),
    });
    expect(counts()).toMatchObject({ writes: 0 });
    expect(world.sims.maskinporten.requests).toHaveLength(1); // a 4xx is not retried
  });

  test('5xx and 429 (with Retry-After) are retried; each attempt sends a fresh grant', async () => {
    const { log, lines } = capture();
    world.sims.maskinporten.faults.enqueue({ status: 500 }, { status: 429, headers: { 'Retry-After': '1' } });
    world.sims.altinn.faults.enqueue({ dropConnection: true });
    const started = Date.now();
    await runtime().broker().getToken(log);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(world.sims.maskinporten.requests.filter((r) => r.ok)).toHaveLength(1);
    expect(counts()).toMatchObject({ mp: 1, altinn: 1, writes: 1 });
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(3);
  });

  test('a Maskinporten call that outlives HTTP_TIMEOUT_MS is abandoned and retried', async () => {
    const { log, lines } = capture();
    world.sims.maskinporten.faults.enqueue({ delayMs: 2_000 });
    const started = Date.now();
    await runtime({ HTTP_TIMEOUT_MS: '300' }).broker().getToken(log);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(lines.join('\n')).toMatch(/did not answer within 300 ms/);
    expect(counts()).toMatchObject({ mp: 1, altinn: 1, writes: 1 });
  });

  test('a bad key is reported by the start-up key check, naming the secret and the fix', async () => {
    const { log, lines } = capture();
    world.sims.keyVault.setSecret(world.keySecret, b64(json(world.key.publicJwk)));
    expect(await runtime().checkKeys(log)).toBe(false);
    expect(lines.join('\n')).toMatch(/Key check failed \(KEY_PUBLIC_ONLY\).*maskinporten-key.*PRIVATE key/);
    world.sims.keyVault.setSecret(world.keySecret, b64(json(world.key.jwk)));
    expect(await runtime().checkKeys(log)).toBe(true);
  });

  test('a vault write failure still serves the new token; the next timer run stores it', async () => {
    const { log } = capture();
    const rt = runtime();
    const broker = rt.broker();
    await broker.refreshIfDue(log); // a first token, and the SDK has done its auth challenge
    world.clock.advance(30 * 60_000); // that token has expired
    const before = world.sims.keyVault.writes;
    // the two reads (stored token, key) pass; the write and all the SDK's retries of it fail
    world.sims.keyVault.faults.enqueue({}, {}, ...Array.from({ length: 4 }, () => ({ status: 503 })));
    const token = await broker.getToken(log);
    expect(token.source).toBe('minted');
    expect(world.sims.keyVault.writes).toBe(before);
    expect(broker.status().storePending).toBe(true);
    expect(await broker.refreshIfDue(log)).toBe('fresh');
    expect(broker.status().storePending).toBe(false);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(token.token);
  });

  test('a new key version in the vault is picked up on the next mint (rotation without restart)', async () => {
    const { log } = capture();
    const rt = runtime();
    const first = await rt.broker().getToken(log);
    const rotated = rsaKey(world.key.kid);
    world.sims.maskinporten.addClient({ clientId: world.clientId, scopes: ['altinn:serviceowner'], keys: [rotated.publicJwk] });
    world.sims.keyVault.setSecret(world.keySecret, b64(json(rotated.jwk)));
    world.clock.advance(first.expiresAt - world.clock.now() - 1_000);
    const second = await rt.broker().getToken(log);
    expect(second.token).not.toBe(first.token);
    expect(rt.broker().status().keyVersion).toBe(world.sims.keyVault.getSecret(world.keySecret)!.version);
  });

  test('the timer refreshes only when the token is due', async () => {
    const { log } = capture();
    const rt = runtime();
    expect(await rt.broker().refreshIfDue(log)).toBe('refreshed');
    expect(await rt.broker().refreshIfDue(log)).toBe('fresh');
    world.clock.advance(21 * 60_000); // 30 min token, refreshed when under 10 min are left
    expect(await rt.broker().refreshIfDue(log)).toBe('refreshed');
    expect(counts()).toMatchObject({ mp: 2, altinn: 2, writes: 2 });
  });
});
