// TOKEN_VAULT_URL: with the key in one vault and tokens in another (two Key Vault simulators, the real SDK and the
// runtime's own stores), the broker only ever reads the key vault; every token write goes to the token vault.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { refreshTimerHandler } from '../../../functions/refresh-timer.js';
import { parseConfig } from '../../../shared/config/config.js';
import { Runtime, setRuntime } from '../../../shared/runtime.js';
import { capture } from '../../helpers/capture.js';
import { startWorld, type World } from '../../helpers/world.js';
import { startKeyVaultSim, type KeyVaultSim } from '../../sim/index.js';

let world: World;
let tokenVault: KeyVaultSim;

beforeAll(async () => {
  world = await startWorld();
  tokenVault = await startKeyVaultSim({ now: world.clock.now });
});
afterAll(async () => {
  setRuntime(undefined);
  await tokenVault.close();
  await world.close();
});

describe('two vaults', () => {
  test('tokens are written to TOKEN_VAULT_URL; nothing is ever written to the key vault', async () => {
    const keyVault = world.sims.keyVault;
    const env = { ...world.env, TOKEN_VAULT_URL: tokenVault.url, PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope' };
    const config = parseConfig(env);
    expect(config).toMatchObject({ keyVaultUrl: keyVault.url, tokenVaultUrl: tokenVault.url, localTokenVault: true });
    const runtime = new Runtime(config, { now: world.clock.now });
    setRuntime(runtime);
    const { log, context } = capture();
    const token = await runtime.broker().getToken(log);
    await runtime.broker('extra').getToken(log);
    await refreshTimerHandler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context());
    world.clock.advance(29 * 60_000); // due for refresh: the key is read again, a new token written
    await runtime.refreshAll(log);
    world.clock.advance(-29 * 60_000);

    expect(tokenVault.listVersions('altinn-token')[0]!.value).toBe(token.token);
    expect(tokenVault.getSecret('altinn-token-extra')).toBeDefined();
    expect(tokenVault.listVersions('altinn-token').length).toBeGreaterThanOrEqual(2);
    expect(tokenVault.getSecret(world.keySecret)).toBeUndefined();
    expect(keyVault.writes).toBe(0);
    expect(keyVault.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(keyVault.requests.some((r) => r.path.includes(world.keySecret))).toBe(true);
    expect(keyVault.getSecret('altinn-token')).toBeUndefined();
    expect(runtime.warnings.join('\n')).not.toMatch(/TOKEN_VAULT_URL/);
  });

  test('without TOKEN_VAULT_URL both are the same vault (as before)', () => {
    const config = parseConfig(world.env);
    expect(config.tokenVaultUrl).toBe(config.keyVaultUrl);
  });
});

describe('messages name the vault setting at fault', () => {
  test('a token vault that fails names TOKEN_VAULT_URL; the token is still served from memory', async () => {
    const runtime = new Runtime(parseConfig({ ...world.env, TOKEN_VAULT_URL: tokenVault.url, TOKEN_SECRET: 'named-token' }), { now: world.clock.now });
    tokenVault.faults.enqueue(...Array.from({ length: 12 }, () => ({ status: 500 })));
    const { log, lines } = capture();
    const token = await runtime.broker().getToken(log);
    tokenVault.faults.clear();
    expect(token.source).toBe('minted');
    expect(lines.join('\n')).toMatch(/check TOKEN_VAULT_URL and network access/);
    expect(world.sims.keyVault.writes).toBe(0);
  });
});
