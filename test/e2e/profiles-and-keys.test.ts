// Protocol breadth against the simulators: every key format end to end, each grant option's claims as
// Maskinporten received them, and two profiles refreshed by one timer run with one failing.
import { afterEach, describe, expect, test } from '@jest/globals';
import { decodeJwt } from 'jose';
import { refreshTimerHandler } from '../../functions/refresh-timer.js';
import { parseConfig } from '../../shared/config/config.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { b64, json, type KeyShapes } from '../helpers/keys.js';
import { startWorld, type World, type WorldOptions } from '../helpers/world.js';

let world: World | undefined;
afterEach(async () => {
  setRuntime(undefined);
  await world?.close();
  world = undefined;
});

async function tokenFor(o: WorldOptions, extra: Record<string, string | undefined> = {}, prepare?: (w: World) => void) {
  world = await startWorld(o);
  prepare?.(world);
  const env = Object.fromEntries(Object.entries({ ...world.env, ...extra }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const runtime = new Runtime(parseConfig(env), { now: world.clock.now });
  const token = await runtime.broker().getToken(capture().log);
  const accepted = world.sims.maskinporten.requests.filter((r) => r.ok);
  return { token, accepted, claims: decodeJwt(token.token) };
}

describe('every key format, end to end', () => {
  const formats: Array<[string, (k: KeyShapes) => string, boolean]> = [
    ['base64 private JWK with kid', (k) => b64(json(k.jwk)), false],
    ['raw private JWK', (k) => json(k.jwk), false],
    ['base64 JWKS (Altinn JWKS tool)', (k) => b64(json({ keys: [{ ...k.jwk, kid: 'older' }, k.jwk] })), false],
    ['base64 PKCS#8 PEM', (k) => b64(k.pkcs8), true],
    ['base64 PKCS#1 PEM', (k) => b64(k.pkcs1), true],
    ['raw PKCS#8 PEM', (k) => k.pkcs8, true],
  ];
  test.each(formats)('%s', async (_name, keyValue, needsKid) => {
    const { accepted, claims } = await tokenFor({ keyValue }, needsKid ? {} : { MASKINPORTEN_KID: undefined });
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.header).toMatchObject({ alg: 'RS256', kid: world!.key.kid });
    expect(claims['urn:altinn:authenticatemethod']).toBe('maskinporten');
  });

  test('RS512 from the JWK alg is accepted by Maskinporten', async () => {
    const { accepted } = await tokenFor({ keyValue: (k) => b64(json({ ...k.jwk, alg: 'RS512' })) }, {}, (w) =>
      w.sims.maskinporten.addClient({ clientId: w.clientId, scopes: ['altinn:serviceowner'], keys: [{ ...w.key.publicJwk, alg: 'RS512' }] }),
    );
    expect(accepted[0]!.header).toMatchObject({ alg: 'RS512' });
  });
});

describe('grant options', () => {
  test('resource is sent as an array and comes back as the Maskinporten token audience', async () => {
    const { accepted, claims } = await tokenFor({}, { MASKINPORTEN_RESOURCE: 'https://api.example.no/', ALTINN_EXCHANGE: 'false' });
    expect(accepted[0]!.claims).toMatchObject({ resource: ['https://api.example.no/'] });
    expect([claims.aud].flat()).toContain('https://api.example.no/');
  });

  test('consumer_org acts on behalf of the consumer', async () => {
    const { accepted, claims } = await tokenFor({ orgNo: '991825827' }, { MASKINPORTEN_CONSUMER_ORG: '310000002' });
    expect(accepted[0]!.claims).toMatchObject({ consumer_org: '310000002' });
    expect(claims.consumer).toMatchObject({ ID: '0192:310000002' });
  });

  test('a system user gets authorization_details with the 0192: prefix and externalRef', async () => {
    const { accepted, claims } = await tokenFor(
      { systemUsers: ['310000001'] },
      { ALTINN_SYSTEMUSER_ORG: '310000001', ALTINN_SYSTEMUSER_EXTERNAL_REF: 'ref-42' },
    );
    expect(accepted[0]!.claims).toMatchObject({
      authorization_details: [
        { type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310000001' }, externalRef: 'ref-42' },
      ],
    });
    expect(claims.authorization_details).toBeDefined();
  });

  test('with the Altinn exchange off, the Maskinporten token itself is stored and served', async () => {
    const { token, claims } = await tokenFor({}, { ALTINN_EXCHANGE: 'false' });
    expect(claims.iss).toBe(world!.sims.maskinporten.issuer);
    expect(world!.sims.altinn.exchanges).toBe(0);
    expect(world!.sims.keyVault.getSecret('altinn-token')).toMatchObject({ value: token.token, tags: { kind: 'maskinporten' } });
  });

  test('an unknown system user is refused by Maskinporten with MP-303', async () => {
    world = await startWorld({ systemUsers: ['310000001'] });
    const runtime = new Runtime(parseConfig({ ...world.env, ALTINN_SYSTEMUSER_ORG: '310000009' }), { now: world.clock.now });
    await expect(runtime.broker().getToken(capture().log)).rejects.toMatchObject({
      cause: expect.objectContaining({ code: 'MASKINPORTEN_REJECTED', facts: expect.objectContaining({ mpCode: 'MP-303' }) }),
    });
  });
});

describe('profiles', () => {
  test('one timer run refreshes every profile; one failing does not stop the others', async () => {
    world = await startWorld({ scopes: ['altinn:serviceowner'] });
    setRuntime(
      new Runtime(
        parseConfig({
          ...world.env,
          PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope',
          PROFILE__broken__MASKINPORTEN_SCOPES: 'not:registered',
        }),
        { now: world.clock.now },
      ),
    );
    const { context, lines } = capture();
    await expect(refreshTimerHandler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context())).rejects.toThrow(
      /broken/,
    );
    expect(lines.join('\n')).toMatch(/Refresh run: default=refreshed, broken=failed, extra=refreshed/);
    const extra = world.sims.keyVault.getSecret('altinn-token-extra')!;
    expect(decodeJwt(extra.value).scope).toBe('extra:scope');
    expect(decodeJwt(world.sims.keyVault.getSecret('altinn-token')!.value).scope).toBe('altinn:serviceowner');
    expect(world.sims.keyVault.getSecret('altinn-token-broken')).toBeUndefined();
  });
});
