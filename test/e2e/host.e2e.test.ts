// End to end: `npm run host` (a child process, settings from the environment) against the simulators. The token
// served over HTTP is the one stored in the vault, and the Maskinporten simulator accepted the grant.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startHostProcess, type HostProcess } from '../helpers/host-process.js';
import { privateMembers } from '../helpers/keys.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let host: HostProcess;

beforeAll(async () => {
  world = await startWorld();
  host = await startHostProcess({ ...world.env, REFRESH_SCHEDULE: '0 0 0 1 1 *' });
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await world?.close();
});

describe('npm run host', () => {
  test('GET /api/token serves the token it stored as the newest version of TOKEN_SECRET', async () => {
    const res = await fetch(`${host.url}/api/token`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const json = (await res.json()) as { access_token: string; expires_at: string };
    const versions = world.sims.keyVault.listVersions('altinn-token');
    expect(versions.at(-1)!.value).toBe(json.access_token);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(json.access_token);
    expect(decodeJwt(json.access_token)['urn:altinn:authenticatemethod']).toBe('maskinporten');
    const accepted = world.sims.maskinporten.requests.filter((r) => r.ok);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.claims).toMatchObject({ iss: world.clientId, aud: world.sims.maskinporten.issuer, scope: 'altinn:serviceowner' });
    expect(world.sims.altinn.exchanges).toBe(1);
  });

  test('the timer can be run on demand and health reports it', async () => {
    const res = await fetch(`${host.url}/admin/functions/refreshTokens`, { method: 'POST' });
    expect(res.status).toBe(202);
    let health: { status?: string; profiles?: Array<{ lastRefresh?: { outcome: string } }> } = {};
    for (let i = 0; i < 50 && health.profiles?.[0]?.lastRefresh?.outcome !== 'fresh'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = (await (await fetch(`${host.url}/api/health/details`)).json()) as typeof health;
    }
    expect(health).toMatchObject({ status: 'ok', callerAuthorization: 'off', profiles: [{ lastRefresh: { outcome: 'fresh' } }] });
    const anonymous = await fetch(`${host.url}/api/health`);
    expect(await anonymous.json()).toEqual({ status: 'ok' });
    expect(anonymous.headers.get('x-content-type-options')).toBe('nosniff');
    expect(host.output()).toMatch(/Caller authorization is off/);
    expect(host.output()).toMatch(/Refresh run: default=fresh/);
  });

  test('unknown routes are 404 and nothing secret was printed', async () => {
    expect((await fetch(`${host.url}/api/nothing`)).status).toBe(404);
    const out = host.output();
    const token = world.sims.keyVault.getSecret('altinn-token')!.value;
    expect(out).not.toContain(token);
    expect(out).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    for (const member of privateMembers(world.key.jwk)) expect(out).not.toContain(member);
  });

  test('SIGTERM stops the host cleanly', async () => {
    await host.stop();
    expect(host.alive()).toBe(false);
    expect(host.output()).toMatch(/SIGTERM: stopping/);
    expect(host.output()).toMatch(/stopped\./);
  });
});
