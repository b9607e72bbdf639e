// parseConfig: defaults, overrides, named profiles, and every bad setting reported together by name.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../../shared/config/config.js';
import { DEPLOYMENT_SETTINGS, KNOWN_SETTINGS, editDistance } from '../../../shared/config/checks.js';
import { BrokerError, ConfigError } from '../../../shared/errors.js';
import { Runtime } from '../../../shared/runtime.js';

const base = {
  KEY_VAULT_URL: 'https://kv-test.vault.azure.net/',
  MASKINPORTEN_CLIENT_ID: '2f1b8a4c-0000-4000-8000-000000000001',
  MASKINPORTEN_SCOPES: 'altinn:serviceowner',
  MASKINPORTEN_KEY_SECRET: 'maskinporten-key',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function problemsOf(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(errorOf(env).problems.map((p) => [p.setting, p.message]));
}

function codesOf(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(errorOf(env).problems.map((p) => [p.setting, p.code]));
}

describe('parseConfig', () => {
  test('minimal settings get the documented defaults for the test environment', () => {
    const c = parseConfig(base);
    expect(c).toMatchObject({
      keyVaultUrl: 'https://kv-test.vault.azure.net',
      localVault: false,
      environment: 'test',
      issuer: 'https://test.maskinporten.no/',
      tokenUrl: 'https://test.maskinporten.no/token',
      altinnUrl: 'https://platform.tt02.altinn.no',
      refreshSchedule: '0 */5 * * * *',
    });
    expect(c.profiles).toHaveLength(1);
    expect(c.profiles[0]).toMatchObject({ name: 'default', tokenSecret: 'altinn-token', altinnExchange: true, scopes: ['altinn:serviceowner'] });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('prod picks the production issuer and Altinn platform', () => {
    const c = parseConfig({ ...base, MASKINPORTEN_ENV: 'PROD' });
    expect(c.issuer).toBe('https://maskinporten.no/');
    expect(c.tokenUrl).toBe('https://maskinporten.no/token');
    expect(c.altinnUrl).toBe('https://platform.altinn.no');
  });

  test('issuer override gains a trailing slash and derives the token endpoint; ALTINN_URL loses its slash', () => {
    const c = parseConfig({ ...base, MASKINPORTEN_ISSUER: 'http://127.0.0.1:4000', ALTINN_URL: 'http://localhost:4001/' });
    expect(c.issuer).toBe('http://127.0.0.1:4000/');
    expect(c.tokenUrl).toBe('http://127.0.0.1:4000/token');
    expect(c.altinnUrl).toBe('http://localhost:4001');
    expect(parseConfig({ ...base, MASKINPORTEN_ISSUER: 'https://mp.example/', MASKINPORTEN_TOKEN_URL: 'https://mp.example/oauth/token' }).tokenUrl).toBe(
      'https://mp.example/oauth/token',
    );
  });

  test('a loopback http vault is the local simulator; https is not', () => {
    expect(parseConfig({ ...base, KEY_VAULT_URL: 'http://127.0.0.1:8443' }).localVault).toBe(true);
    expect(parseConfig({ ...base, KEY_VAULT_URL: 'http://localhost:8443' }).localVault).toBe(true);
    expect(parseConfig({ ...base, KEY_VAULT_URL: 'https://localhost:8443' }).localVault).toBe(false);
  });

  test('scopes may be separated by spaces and commas', () => {
    expect(parseConfig({ ...base, MASKINPORTEN_SCOPES: ' a:b,c:d  e:f,a:b ' }).profiles[0]!.scopes).toEqual(['a:b', 'c:d', 'e:f']);
  });

  test('every missing required setting is named, all at once', () => {
    const problems = problemsOf({});
    expect(Object.keys(problems).sort()).toEqual(['KEY_VAULT_URL', 'MASKINPORTEN_CLIENT_ID', 'MASKINPORTEN_KEY_SECRET', 'MASKINPORTEN_SCOPES']);
    expect(problems.MASKINPORTEN_KEY_SECRET).toMatch(/base64-encoded private key/);
  });

  test('bad values are each reported with the setting name and the fix', () => {
    const problems = problemsOf({
      ...base,
      KEY_VAULT_URL: 'http://kv.example.com',
      MASKINPORTEN_ENV: 'staging',
      MASKINPORTEN_ISSUER: 'not a url',
      ALTINN_URL: 'ftp://altinn.example',
      REFRESH_SCHEDULE: '*/5 * * * *',
      HTTP_TIMEOUT_MS: 'soon',
      REFRESH_BEFORE_EXPIRY_SECONDS: '-1',
      MASKINPORTEN_CONSUMER_ORG: '12345',
      MASKINPORTEN_RESOURCE: 'not-a-uri',
      ALTINN_SYSTEMUSER_EXTERNAL_REF: 'ref-1',
      ALTINN_EXCHANGE: 'maybe',
      MASKINPORTEN_KID: 'has space',
    });
    expect(problems).toEqual({
      KEY_VAULT_URL: expect.stringMatching(/https/),
      MASKINPORTEN_ENV: expect.stringMatching(/"test" or "prod"/),
      MASKINPORTEN_ISSUER: expect.stringMatching(/not a valid URL/),
      ALTINN_URL: expect.stringMatching(/https/),
      REFRESH_SCHEDULE: expect.stringMatching(/6-field NCRONTAB/),
      HTTP_TIMEOUT_MS: expect.stringMatching(/whole number/),
      REFRESH_BEFORE_EXPIRY_SECONDS: expect.stringMatching(/whole number/),
      MASKINPORTEN_CONSUMER_ORG: expect.stringMatching(/9-digit/),
      MASKINPORTEN_RESOURCE: expect.stringMatching(/absolute URIs/),
      ALTINN_SYSTEMUSER_EXTERNAL_REF: expect.stringMatching(/ALTINN_SYSTEMUSER_ORG/),
      ALTINN_EXCHANGE: expect.stringMatching(/true or false/),
      MASKINPORTEN_KID: expect.stringMatching(/spaces/),
    });
  });

  test('each kind of bad setting has its own code, and the message names setting and code', () => {
    expect(
      codesOf({
        ...base,
        KEY_VAULT_URL: 'http://kv.example.com',
        MASKINPORTEN_ISSUER: 'not a url',
        MASKINPORTEN_ENV: 'staging',
        REFRESH_SCHEDULE: 'often',
        HTTP_TIMEOUT_MS: '5',
        ALTINN_EXCHANGE: 'maybe',
        MASKINPORTEN_CONSUMER_ORG: '1',
        TOKEN_SECRET: 'maskinporten-key',
        PROFILE__x__SCOPES: 'a',
        PROFILE__default__MASKINPORTEN_SCOPES: 'a',
        MASKINPORTEN_KEY_SECRET: '_key',
      }),
    ).toEqual({
      KEY_VAULT_URL: 'SETTING_INSECURE_URL',
      MASKINPORTEN_ISSUER: 'SETTING_BAD_URL',
      MASKINPORTEN_ENV: 'SETTING_BAD_VALUE',
      REFRESH_SCHEDULE: 'SETTING_BAD_SCHEDULE',
      HTTP_TIMEOUT_MS: 'SETTING_BAD_NUMBER',
      ALTINN_EXCHANGE: 'SETTING_BAD_BOOLEAN',
      MASKINPORTEN_CONSUMER_ORG: 'SETTING_BAD_ORG_NUMBER',
      MASKINPORTEN_KEY_SECRET: 'SETTING_BAD_SECRET_NAME',
      PROFILE__x__SCOPES: 'SETTING_UNKNOWN',
      PROFILE__default__MASKINPORTEN_SCOPES: 'SETTING_BAD_PROFILE_NAME',
    });
    expect(codesOf({ ...base, TOKEN_SECRET: 'maskinporten-key' })).toEqual({ TOKEN_SECRET: 'SETTING_CONFLICT' });
    expect(codesOf({ ...base, MASKINPORTEN_SCOPES: ' , ' })).toEqual({ MASKINPORTEN_SCOPES: 'SETTING_MISSING' });
    expect(errorOf({}).message).toMatch(/^ {2}- KEY_VAULT_URL is required: .* \[SETTING_MISSING\]$/m);
  });

  test('an invalid six-field schedule and bad secret names are rejected', () => {
    expect(problemsOf({ ...base, REFRESH_SCHEDULE: '0 */5 * * * mondays' }).REFRESH_SCHEDULE).toMatch(/not a valid NCRONTAB/);
    expect(problemsOf({ ...base, TOKEN_SECRET: 'altinn_token' }).TOKEN_SECRET).toMatch(/secret name/);
    expect(problemsOf({ ...base, TOKEN_SECRET: 'maskinporten-key' }).TOKEN_SECRET).toMatch(/overwrite the private key/);
    expect(problemsOf({ ...base, MASKINPORTEN_KEY_SECRET: '1key' }).MASKINPORTEN_KEY_SECRET).toMatch(/secret name/);
  });

  test('system user org gets the 0192: prefix; consumer_org stays 9 digits', () => {
    const p = parseConfig({ ...base, ALTINN_SYSTEMUSER_ORG: '310000001', ALTINN_SYSTEMUSER_EXTERNAL_REF: 'ref', MASKINPORTEN_CONSUMER_ORG: '0192:310000002' })
      .profiles[0]!;
    expect(p.systemUser).toEqual({ orgId: '0192:310000001', externalRef: 'ref' });
    expect(p.consumerOrg).toBe('310000002');
  });

  test('named profiles inherit client, key and kid from the default profile and get their own token secret', () => {
    const c = parseConfig({
      ...base,
      MASKINPORTEN_KID: 'org-TEST.1',
      PROFILE__Skatt__MASKINPORTEN_SCOPES: 'skatteetaten:x',
      PROFILE__raw__MASKINPORTEN_SCOPES: 'a:b',
      PROFILE__raw__ALTINN_EXCHANGE: 'false',
      PROFILE__raw__MASKINPORTEN_CLIENT_ID: 'other-client',
    });
    expect(c.profiles.map((p) => p.name)).toEqual(['default', 'raw', 'skatt']);
    expect(c.profiles[1]).toMatchObject({ clientId: 'other-client', altinnExchange: false, tokenSecret: 'altinn-token-raw', kid: 'org-TEST.1' });
    expect(c.profiles[2]).toMatchObject({ clientId: base.MASKINPORTEN_CLIENT_ID, keySecret: 'maskinporten-key', tokenSecret: 'altinn-token-skatt' });
  });

  test('a misspelt profile setting, a bad profile name and a shared token secret are named', () => {
    const problems = problemsOf({
      ...base,
      PROFILE__a__MASKINPORTEN_SCOPE: 'x',
      'PROFILE__b c__MASKINPORTEN_SCOPES': 'x',
      PROFILE__c__TOKEN_SECRET: 'altinn-token',
      PROFILE__c__MASKINPORTEN_SCOPES: 'x',
      PROFILE__d__TOKEN_SECRET: 'altinn-token-d',
    });
    expect(problems['PROFILE__a__MASKINPORTEN_SCOPE']).toMatch(/not a profile setting/);
    expect(problems['PROFILE__b c__MASKINPORTEN_SCOPES']).toMatch(/invalid profile/);
    expect(problems['PROFILE__c__TOKEN_SECRET']).toMatch(/already used by profile "default"/);
    expect(problems['PROFILE__d__MASKINPORTEN_SCOPES']).toMatch(/is required/);
  });
});

describe('secret names that would collide in Key Vault (which ignores letter case)', () => {
  test('a token secret naming its own key secret, in any letter case, is refused', () => {
    expect(codesOf({ ...base, TOKEN_SECRET: 'Maskinporten-KEY' })).toEqual({ TOKEN_SECRET: 'SETTING_CONFLICT' });
    expect(problemsOf({ ...base, TOKEN_SECRET: 'Maskinporten-KEY' }).TOKEN_SECRET).toMatch(/overwrite the private key/);
  });

  test("a token secret naming another profile's key secret is refused", () => {
    const problems = problemsOf({
      ...base,
      PROFILE__billing__MASKINPORTEN_SCOPES: 'a:b',
      PROFILE__billing__MASKINPORTEN_KEY_SECRET: 'billing-key',
      TOKEN_SECRET: 'BILLING-key',
    });
    expect(Object.keys(problems)).toEqual(['TOKEN_SECRET']);
    expect(problems.TOKEN_SECRET).toMatch(/"billing-key" \(PROFILE__billing__MASKINPORTEN_KEY_SECRET, profile "billing"/);
    // ... and the other way round: a named profile's token secret is the default profile's key secret
    expect(codesOf({ ...base, PROFILE__x__MASKINPORTEN_SCOPES: 'a:b', PROFILE__x__MASKINPORTEN_KEY_SECRET: 'x-key', PROFILE__x__TOKEN_SECRET: 'MASKINPORTEN-key' })).toEqual({
      PROFILE__x__TOKEN_SECRET: 'SETTING_CONFLICT',
    });
  });

  test("the default token secret (altinn-token) naming a named profile's key secret, in another case, is refused", () => {
    expect(problemsOf({ ...base, PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__MASKINPORTEN_KEY_SECRET: 'ALTINN-TOKEN' })).toEqual({
      TOKEN_SECRET: expect.stringMatching(/"altinn-token" names the private key secret "ALTINN-TOKEN" \(PROFILE__b__MASKINPORTEN_KEY_SECRET, profile "b"; Key Vault ignores letter case\)/),
    });
  });

  test('two profiles whose token secrets differ only in letter case are refused', () => {
    const problems = problemsOf({ ...base, TOKEN_SECRET: 'shared-token', PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__TOKEN_SECRET: 'Shared-Token' });
    expect(problems).toEqual({ PROFILE__b__TOKEN_SECRET: expect.stringMatching(/already used by profile "default" as "shared-token"/) });
  });

  test("a profile's default token secret collides with another profile's explicit one", () => {
    expect(
      codesOf({ ...base, PROFILE__a__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__TOKEN_SECRET: 'Altinn-Token-A' }),
    ).toEqual({ PROFILE__b__TOKEN_SECRET: 'SETTING_CONFLICT' });
  });

  test('distinct names pass', () => {
    const c = parseConfig({ ...base, PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__MASKINPORTEN_KEY_SECRET: 'b-key', PROFILE__b__TOKEN_SECRET: 'b-token' });
    expect(c.profiles.map((p) => [p.keySecret, p.tokenSecret])).toEqual([['maskinporten-key', 'altinn-token'], ['b-key', 'b-token']]);
  });
});

describe('settings that look like ours but are not', () => {
  test.each([
    ['MASKINPORTEN_ENVIRONMENT', 'prod', 'MASKINPORTEN_ENV'],
    ['MASKINPORTEN_SCOPE', 'a:b', 'MASKINPORTEN_SCOPES'],
    ['MASKINPORTEN_CLIENTID', 'x', 'MASKINPORTEN_CLIENT_ID'],
    ['ALTINN_ULR', 'https://a.example', 'ALTINN_URL'],
    ['TOKEN_SECERT', 'x', 'TOKEN_SECRET'],
    ['REFRESH_SCHEDUEL', '0 */5 * * * *', 'REFRESH_SCHEDULE'],
    ['REFRESH_BEFORE_EXPIRY', '60', 'REFRESH_BEFORE_EXPIRY_SECONDS'],
    ['KEY_VAULT_URLS', 'https://kv.example', 'KEY_VAULT_URL'],
    ['AUTH_TENANT', 'x', 'AUTH_TENANT_ID'],
    ['AUTH_ROLE', 'x', 'AUTH_ROLES'],
    ['RETRY_MAX_ATTEMPT', '2', 'RETRY_MAX_ATTEMPTS'],
    ['HTTP_TIMEOUT', '100', 'HTTP_TIMEOUT_MS'],
    ['MIN_TOKEN_TTL', '60', 'MIN_TOKEN_TTL_SECONDS'],
    ['MIN_MINT_INTERVAL', '30', 'MIN_MINT_INTERVAL_SECONDS'],
    ['MAX_TOKEN_LIFETIME', '7200', 'MAX_TOKEN_LIFETIME_SECONDS'],
    ['maskinporten_env', 'prod', 'MASKINPORTEN_ENV'],
  ])('%s (= %s) → SETTING_UNKNOWN, did you mean %s?', (name, value, suggestion) => {
    const err = errorOf({ ...base, [name]: value });
    expect(err.problems).toEqual([{ setting: name, code: 'SETTING_UNKNOWN', message: expect.stringContaining(`did you mean \`${suggestion}\`?`) }]);
  });

  test('a name with one of our prefixes and nothing close is still refused, without a guess', () => {
    expect(errorOf({ ...base, ALTINN_SOMETHING_ELSE_ENTIRELY: 'x' }).problems).toEqual([
      { setting: 'ALTINN_SOMETHING_ELSE_ENTIRELY', code: 'SETTING_UNKNOWN', message: expect.stringMatching(/not a setting this app reads \(misspelt\?\)/) },
    ]);
  });

  test('a profile setting with single underscores, or a misspelt one, is named with the right form', () => {
    expect(problemsOf({ ...base, PROFILE_billing_MASKINPORTEN_SCOPES: 'x' })).toEqual({ PROFILE_billing_MASKINPORTEN_SCOPES: expect.stringMatching(/PROFILE__<name>__<SETTING>/) });
    expect(problemsOf({ ...base, PROFILE__billing__MASKINPORTEN_SCOPE: 'x' }).PROFILE__billing__MASKINPORTEN_SCOPE).toMatch(/did you mean `PROFILE__billing__MASKINPORTEN_SCOPES`\?/);
  });

  test('Azure platform settings, other tools\' settings and deployment names pass untouched', () => {
    const env = {
      ...base,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      AzureWebJobsStorage__accountName: 'st',
      FUNCTIONS_WORKER_RUNTIME: 'node',
      FUNCTIONS_EXTENSION_VERSION: '~4',
      WEBSITE_SITE_NAME: 'func-x',
      WEBSITE_AUTH_ENABLED: 'True',
      APPLICATIONINSIGHTS_CONNECTION_STRING: '<app insights connection string>',
      AZURE_CLIENT_ID: 'x',
      HTTP_PROXY: 'http://proxy:3128',
      http_proxy: 'http://proxy:3128',
      HTTPS_PROXY: 'http://proxy:3128',
      MAX_OLD_SPACE_SIZE: '4096',
      MIN_VERSION: '1',
      HOST: '127.0.0.1',
      PORT: '7071',
      ...Object.fromEntries(DEPLOYMENT_SETTINGS.map((n) => [n, 'x'])),
    };
    expect(() => parseConfig(env)).not.toThrow();
  });

  test('every known setting, including those read by newer parts of the app, and a profile AUTH_ROLES pass the name check', () => {
    const err = (() => {
      try {
        parseConfig({ ...base, ...Object.fromEntries(KNOWN_SETTINGS.map((n) => [n, 'x'])), PROFILE__b__AUTH_ROLES: 'reader' });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    // values of "x" are wrong for many of them; what matters is that no name is unknown
    expect(err?.problems.filter((p) => p.code === 'SETTING_UNKNOWN') ?? []).toEqual([]);
    for (const name of ['AUTH_TENANT_ID', 'AUTH_AUDIENCE', 'AUTH_AUTHORITY', 'AUTH_ROLES', 'TOKEN_VAULT_URL', 'MIN_MINT_INTERVAL_SECONDS', 'MAX_TOKEN_LIFETIME_SECONDS', 'MASKINPORTEN_VAULT_KEY', 'MASKINPORTEN_CERTIFICATE']) {
      expect(KNOWN_SETTINGS).toContain(name);
    }
  });

  test('where the environment ignores letter case (Windows), a lower-case name reads the same value and passes', () => {
    const env = new Proxy({ ...base, maskinporten_env: 'prod' } as Record<string, string>, {
      get: (t, k) => (typeof k === 'string' ? t[Object.keys(t).find((n) => n.toUpperCase() === k.toUpperCase()) ?? k] : undefined),
    });
    expect(parseConfig(env).environment).toBe('prod');
  });

  test('edit distance counts a swap of neighbours as one', () => {
    expect(editDistance('TOKEN_SECERT', 'TOKEN_SECRET')).toBe(1);
    expect(editDistance('ABC', 'ABC')).toBe(0);
    expect(editDistance('', 'AB')).toBe(2);
  });
});

describe('values still holding a placeholder from local.settings.example.json', () => {
  test('the example file as it ships: its two placeholders are named, and nothing else is wrong', () => {
    const example = JSON.parse(readFileSync(new URL('../../../local.settings.example.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    expect(errorOf(example.Values).problems).toEqual([
      { setting: 'KEY_VAULT_URL', code: 'SETTING_PLACEHOLDER', message: expect.stringContaining('"<your-vault>"') },
      { setting: 'MASKINPORTEN_CLIENT_ID', code: 'SETTING_PLACEHOLDER', message: expect.stringMatching(/"<client id from the Maskinporten self-service portal>" from local.settings.example.json: replace it/) },
    ]);
  });

  test('a misspelt setting holding a placeholder is named as misspelt too', () => {
    const problems = errorOf({ ...base, PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__MASKINPORTEN_CLIENTID: '<client id>' }).problems;
    expect(problems.map((p) => [p.setting, p.code])).toEqual([
      ['PROFILE__b__MASKINPORTEN_CLIENTID', 'SETTING_UNKNOWN'],
      ['PROFILE__b__MASKINPORTEN_CLIENTID', 'SETTING_PLACEHOLDER'],
    ]);
    expect(problems[0]!.message).toMatch(/did you mean `PROFILE__b__MASKINPORTEN_CLIENT_ID`/);
  });

  test('a placeholder in a profile setting is named too', () => {
    expect(codesOf({ ...base, PROFILE__b__MASKINPORTEN_SCOPES: 'a:b', PROFILE__b__MASKINPORTEN_CLIENT_ID: '<client id>' })).toEqual({ PROFILE__b__MASKINPORTEN_CLIENT_ID: 'SETTING_PLACEHOLDER' });
  });
});

describe('profile names are ASCII', () => {
  test('a profile name that only Unicode case folding makes ASCII (Kelvin sign K) is refused', () => {
    expect(codesOf({ ...base, 'PROFILE__\u212Aey__MASKINPORTEN_SCOPES': 'a:b' })).toEqual({ 'PROFILE__\u212Aey__MASKINPORTEN_SCOPES': 'SETTING_BAD_PROFILE_NAME' });
  });

  test('the runtime finds a profile by its ASCII name in any case, and not by a Unicode look-alike', () => {
    const runtime = new Runtime(parseConfig({ ...base, KEY_VAULT_URL: 'http://127.0.0.1:9', PROFILE__key__MASKINPORTEN_SCOPES: 'a:b' }));
    expect(runtime.broker('KEY').profile.name).toBe('key');
    expect(() => runtime.broker('\u212AEY')).toThrow(BrokerError);
    expect(() => runtime.broker('\u212AEY')).toThrow(/no token profile/);
  });
});

describe('caller authorization and the token vault settings', () => {
  const tenant = '7e1f6a52-0000-4000-8000-00000000e17a';
  const auth = { AUTH_TENANT_ID: tenant, AUTH_AUDIENCE: 'api://broker, 0a0b0c0d-0000-4000-8000-000000000001' };

  test('off without AUTH_TENANT_ID; on with the Entra authority by default', () => {
    expect(parseConfig(base).auth).toBeUndefined();
    expect(parseConfig({ ...base, ...auth }).auth).toEqual({
      tenantId: tenant,
      audiences: ['api://broker', '0a0b0c0d-0000-4000-8000-000000000001'],
      authority: 'https://login.microsoftonline.com',
    });
    expect(parseConfig({ ...base, ...auth, AUTH_AUTHORITY: 'http://127.0.0.1:4567/' }).auth?.authority).toBe('http://127.0.0.1:4567');
  });

  test('bad values are reported with the SETTING_* codes', () => {
    expect(codesOf({ ...base, AUTH_TENANT_ID: 'contoso', AUTH_AUTHORITY: 'http://login.example.com' })).toEqual({
      AUTH_TENANT_ID: 'SETTING_BAD_VALUE',
      AUTH_AUDIENCE: 'SETTING_MISSING',
      AUTH_AUTHORITY: 'SETTING_INSECURE_URL',
    });
    expect(codesOf({ ...base, ...auth, AUTH_AUTHORITY: `https://login.microsoftonline.com/${tenant}` })).toEqual({ AUTH_AUTHORITY: 'SETTING_BAD_VALUE' });
    expect(codesOf({ ...base, ...auth, AUTH_AUDIENCE: 'just words' })).toEqual({ AUTH_AUDIENCE: 'SETTING_BAD_VALUE' });
    expect(codesOf({ ...base, TOKEN_VAULT_URL: 'http://vault.example.com' })).toEqual({ TOKEN_VAULT_URL: 'SETTING_INSECURE_URL' });
  });

  test('AUTH_* without AUTH_TENANT_ID is refused, not silently ignored', () => {
    expect(codesOf({ ...base, AUTH_AUDIENCE: 'api://broker', AUTH_ROLES: 'X', PROFILE__b__MASKINPORTEN_SCOPES: 's', PROFILE__b__AUTH_ROLES: 'Y' })).toEqual({
      AUTH_AUDIENCE: 'SETTING_CONFLICT',
      AUTH_ROLES: 'SETTING_CONFLICT',
      PROFILE__b__AUTH_ROLES: 'SETTING_CONFLICT',
    });
  });

  test('roles per profile: AUTH_ROLES for default, PROFILE__<name>__AUTH_ROLES, not inherited', () => {
    const c = parseConfig({ ...base, ...auth, AUTH_ROLES: 'A.Read', PROFILE__b__MASKINPORTEN_SCOPES: 's', PROFILE__c__MASKINPORTEN_SCOPES: 's', PROFILE__c__AUTH_ROLES: 'C.Read, C.Admin' });
    expect(c.profiles.map((p) => [p.name, p.authRoles])).toEqual([
      ['default', ['A.Read']],
      ['b', undefined],
      ['c', ['C.Read', 'C.Admin']],
    ]);
  });

  test('TOKEN_VAULT_URL', () => {
    expect(parseConfig({ ...base, TOKEN_VAULT_URL: 'https://kv-tokens.vault.azure.net/' })).toMatchObject({
      keyVaultUrl: 'https://kv-test.vault.azure.net',
      tokenVaultUrl: 'https://kv-tokens.vault.azure.net',
      localTokenVault: false,
    });
  });
});
