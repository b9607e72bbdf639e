// Cross-checks the app settings infra/ writes against the app's configuration contract (shared/config/config.ts): evaluates
// them with sample parameter values, feeds them to parseConfig, and checks for forgotten or misspelt names.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import ts from 'typescript';
import { PROFILE_SETTINGS, parseConfig } from '../../shared/config/config.js';
import { ConfigError } from '../../shared/errors.js';
import { makeTestCa } from '../helpers/certificates.js';
import { BicepEvalError, type EvaluatedSetting, Opaque, type Value, entryFile, entryScope, evaluate, evaluateAppSettings, scopeFor } from './bicep-eval.js';
import { type BicepFile, REPO_ROOT, collectAppSettings, declarations, loadBicepFiles, parseBicep, property, resourcesOfType } from './bicep-tree.js';

/** Settings the app reads (the contract in the end-to-end issue / shared/config/config.ts). */
const APP_SETTINGS = [
  'KEY_VAULT_URL',
  'MASKINPORTEN_CLIENT_ID',
  'MASKINPORTEN_SCOPES',
  'MASKINPORTEN_KEY_SECRET',
  'MASKINPORTEN_VAULT_KEY',
  'MASKINPORTEN_CERTIFICATE',
  'MASKINPORTEN_CERTIFICATE_CHAIN',
  'MASKINPORTEN_KID',
  'MASKINPORTEN_ENV',
  'MASKINPORTEN_ISSUER',
  'MASKINPORTEN_TOKEN_URL',
  'ALTINN_URL',
  'TOKEN_SECRET',
  'REFRESH_SCHEDULE',
  'REFRESH_BEFORE_EXPIRY_SECONDS',
  'MIN_TOKEN_TTL_SECONDS',
  'MIN_MINT_INTERVAL_SECONDS',
  'MAX_TOKEN_LIFETIME_SECONDS',
  'HTTP_TIMEOUT_MS',
  'ALTINN_EXCHANGE',
  'MASKINPORTEN_RESOURCE',
  'MASKINPORTEN_CONSUMER_ORG',
  'ALTINN_SYSTEMUSER_ORG',
  'ALTINN_SYSTEMUSER_EXTERNAL_REF',
  'TOKEN_VAULT_URL',
  'AUTH_TENANT_ID',
  'AUTH_AUDIENCE',
  'AUTH_AUTHORITY',
];
const REQUIRED = ['KEY_VAULT_URL', 'MASKINPORTEN_CLIENT_ID', 'MASKINPORTEN_SCOPES'];
/** The key source settings: exactly one of them is required (the keySource parameter picks which). */
const KEY_SOURCE_SETTINGS: Readonly<Record<string, string>> = { secret: 'MASKINPORTEN_KEY_SECRET', 'vault-key': 'MASKINPORTEN_VAULT_KEY', certificate: 'MASKINPORTEN_CERTIFICATE' };
/** Azure platform settings (read by the Functions host, the App Insights agent, DefaultAzureCredential). */
const PLATFORM_SETTINGS = [
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'AZURE_CLIENT_ID',
];
const PROFILE_SETTING = new RegExp(`^PROFILE__[a-z0-9]+(?:[_-][a-z0-9]+)*__(${PROFILE_SETTINGS.join('|')})$`);

const CLIENT_ID = '0c7f3d2a-1b2c-4d5e-8f90-123456789abc';
const IDENTITY_CLIENT_ID = '11111111-2222-4333-8444-555555555555';

/** Representative values for settings only Azure knows at deploy time, and the expression each must come from. */
const DEPLOY_TIME: Readonly<Record<string, { sample: string; from: string }>> = {
  KEY_VAULT_URL: { sample: 'https://kv-x.vault.azure.net/', from: 'keyVaultAccess.outputs.uri' },
  TOKEN_VAULT_URL: { sample: 'https://kvt-x.vault.azure.net/', from: 'tokenVaultAccess.outputs.uri' },
  AUTH_TENANT_ID: { sample: '72f988bf-86f1-41af-91ab-2d7cd011db47', from: 'tenant().tenantId' },
  AZURE_CLIENT_ID: { sample: IDENTITY_CLIENT_ID, from: 'identity.properties.clientId' },
  AzureWebJobsStorage__clientId: { sample: IDENTITY_CLIENT_ID, from: 'identity.properties.clientId' },
  AzureWebJobsStorage__accountName: { sample: 'stx', from: 'storage.outputs.name' },
  APPLICATIONINSIGHTS_CONNECTION_STRING: { sample: '<app insights connection string>', from: 'applicationInsights.properties.ConnectionString' },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    sample: `ClientId=${IDENTITY_CLIENT_ID};Authorization=AAD`,
    from: "'ClientId=${identity.properties.clientId};Authorization=AAD'",
  },
};

/** main.bicep parameters: only the required ones (the rest take their defaults) ... */
const REQUIRED_PARAMS: Record<string, Value> = {
  environmentName: 'dev',
  maskinportenClientId: CLIENT_ID,
  maskinportenScopes: 'altinn:serviceowner',
};
/** ... and every optional app-setting parameter set. */
const ALL_PARAMS: Record<string, Value> = {
  ...REQUIRED_PARAMS,
  maskinportenScopes: 'altinn:serviceowner altinn:instances.read',
  maskinportenKeySecretName: 'mp-key',
  maskinportenKid: 'kid-2024',
  maskinportenEnv: 'prod',
  tokenSecretName: 'mp-token',
  altinnExchange: false,
  refreshSchedule: '0 */10 * * * *',
  maskinportenResource: 'https://tt02.altinn.no/',
  maskinportenConsumerOrg: '987654321',
  altinnSystemUserOrg: '0192:912345678',
  altinnSystemUserExternalRef: 'ref-1',
  extraAppSettings: { PROFILE__billing__MASKINPORTEN_SCOPES: 'altinn:billing', PROFILE__billing__TOKEN_SECRET: 'billing-token', HTTP_TIMEOUT_MS: 5000 },
  authClientId: CLIENT_ID,
};

function isKnownSetting(name: string): boolean {
  return APP_SETTINGS.includes(name) || PLATFORM_SETTINGS.includes(name) || PROFILE_SETTING.test(name);
}

/** Everything wrong with a list of evaluated app settings, as readable lines (empty: the contract holds). */
function contractProblems(settings: readonly EvaluatedSetting[]): string[] {
  const problems: string[] = [];
  const names = settings.map((s) => s.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`${name}: written twice`);
  for (const name of names.filter((n) => !isKnownSetting(n))) problems.push(`${name}: not a setting the app or the platform reads (misspelt?)`);
  for (const name of REQUIRED.filter((n) => !names.includes(n))) problems.push(`${name}: required by the app but not written`);
  const keySettings = Object.values(KEY_SOURCE_SETTINGS).filter((n) => names.includes(n));
  if (keySettings.length !== 1) problems.push(`${Object.values(KEY_SOURCE_SETTINGS).join(' / ')}: exactly one is required, ${keySettings.length} written`);
  const env: Record<string, string> = {};
  for (const { name, value } of settings) {
    if (value instanceof Opaque) {
      const known = DEPLOY_TIME[name];
      if (!known) problems.push(`${name}: deploy-time value ${value.expr} with no representative sample`);
      else if (value.expr !== known.from) problems.push(`${name}: comes from ${value.expr}, expected ${known.from}`);
      else env[name] = known.sample;
    } else if (typeof value !== 'string') {
      problems.push(`${name}: value is ${value === null ? 'null' : typeof value}, app settings are strings`);
    } else {
      env[name] = value;
    }
  }
  try {
    parseConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.push(`${p.setting}: parseConfig says ${p.message}`);
  }
  return problems;
}

function envOf(settings: readonly EvaluatedSetting[]): Record<string, string> {
  return Object.fromEntries(settings.map(({ name, value }) => [name, value instanceof Opaque ? DEPLOY_TIME[name]!.sample : String(value)]));
}

describe('app settings written by infra/ satisfy the configuration contract', () => {
  let files: BicepFile[];
  const load = async () => (files ??= await loadBicepFiles('infra'));

  test('with only the required parameters: parseConfig accepts them and the app defaults apply', async () => {
    const settings = evaluateAppSettings(await load(), REQUIRED_PARAMS);
    expect(contractProblems(settings)).toEqual([]);
    const config = parseConfig(envOf(settings));
    expect(config).toMatchObject({ keyVaultUrl: 'https://kv-x.vault.azure.net', environment: 'test', refreshSchedule: '0 */5 * * * *' });
    expect(config.profiles).toHaveLength(1);
    expect(config.profiles[0]).toMatchObject({ clientId: CLIENT_ID, scopes: ['altinn:serviceowner'], keySecret: 'maskinporten-key', tokenSecret: 'altinn-token', altinnExchange: true });
    expect(config.profiles[0]!.kid).toBeUndefined();
  });

  test('with every optional parameter set: each reaches the app with the meaning it documents', async () => {
    const settings = evaluateAppSettings(await load(), ALL_PARAMS);
    expect(contractProblems(settings)).toEqual([]);
    const config = parseConfig(envOf(settings));
    expect(config).toMatchObject({ environment: 'prod', refreshSchedule: '0 */10 * * * *', httpTimeoutMs: 5000 });
    expect(config.profiles.map((p) => p.name)).toEqual(['default', 'billing']);
    expect(config.profiles[0]).toMatchObject({
      clientId: CLIENT_ID,
      scopes: ['altinn:serviceowner', 'altinn:instances.read'],
      keySecret: 'mp-key',
      kid: 'kid-2024',
      tokenSecret: 'mp-token',
      altinnExchange: false,
      resource: ['https://tt02.altinn.no/'],
      consumerOrg: '987654321',
      systemUser: { orgId: '0192:912345678', externalRef: 'ref-1' },
    });
    expect(config.profiles[1]).toMatchObject({ scopes: ['altinn:billing'], tokenSecret: 'billing-token', clientId: CLIENT_ID });
    // Caller authorization and the token vault (read by the app after the issue-8 merge).
    const byName = Object.fromEntries(settings.map((s) => [s.name, s.value]));
    expect(String(byName['AUTH_TENANT_ID'])).toBe('<tenant().tenantId>');
    expect(byName['AUTH_AUDIENCE']).toBe(`api://${CLIENT_ID} ${CLIENT_ID}`);
    expect(String(byName['TOKEN_VAULT_URL'])).toBe('<tokenVaultAccess.outputs.uri>');
  });

  test('caller authorization settings are written only with authClientId; the token vault always', async () => {
    const names = evaluateAppSettings(await load(), REQUIRED_PARAMS).map((s) => s.name);
    expect(names).toContain('TOKEN_VAULT_URL');
    expect(names.filter((n) => n.startsWith('AUTH_'))).toEqual([]);
    const custom = evaluateAppSettings(await load(), { ...REQUIRED_PARAMS, authClientId: CLIENT_ID, authAudience: 'api://broker.example.com' });
    expect(custom.find((s) => s.name === 'AUTH_AUDIENCE')?.value).toBe('api://broker.example.com');
  });

  test('the required settings are written unconditionally, whatever the parameters', async () => {
    const [site] = collectAppSettings(await load());
    for (const name of REQUIRED) {
      const refs = site!.settings.filter((s) => s.name === name);
      expect({ name, count: refs.length, conditional: refs.some((r) => r.conditional) }).toEqual({ name, count: 1, conditional: false });
    }
    // The key setting: one place each, chosen by keySource.
    for (const name of Object.values(KEY_SOURCE_SETTINGS)) expect({ name, count: site!.settings.filter((s) => s.name === name).length }).toEqual({ name, count: 1 });
  });

  test.each(Object.entries(KEY_SOURCE_SETTINGS))('keySource %s: only %s is written, parseConfig accepts it, and the key vault module gets the same source', async (source, setting) => {
    const all = await load();
    const settings = evaluateAppSettings(all, { ...REQUIRED_PARAMS, keySource: source });
    expect(contractProblems(settings)).toEqual([]);
    expect(settings.map((s) => s.name).filter((n) => /^MASKINPORTEN_(KEY_SECRET|VAULT_KEY|CERTIFICATE)/.test(n))).toEqual([setting]);
    const profile = parseConfig(envOf(settings)).profiles[0]!;
    if (source === 'secret') {
      expect(profile.keySecret).toBe('maskinporten-key');
      expect(profile.keySource).toBeUndefined();
    } else {
      expect(profile.keySecret).toBeUndefined();
      expect(profile.keySource).toMatchObject({ kind: source, name: source === 'vault-key' ? 'maskinporten-signing' : 'maskinporten-certificate', vaultUrl: 'https://kv-x.vault.azure.net' });
    }
    // The roles follow the same choice (the policy rule checks each source's roles inside the module).
    const main = entryFile(all);
    const call = declarations(main).modules.find((m) => m.symbol === 'keyVaultAccess')!;
    expect(evaluate(property(call.body, 'params.keySource')!, entryScope(all, main, { ...REQUIRED_PARAMS, keySource: source }))).toBe(source);
  });

  test('a Key Vault key and a certificate with its chain, by name: each reaches the app as the source it documents', async () => {
    const ca = makeTestCa('Contract Test CA');
    const chain = ca.cer.toString('base64');
    const key = evaluateAppSettings(await load(), { ...REQUIRED_PARAMS, keySource: 'vault-key', maskinportenVaultKeyName: 'mp-signing' });
    expect(contractProblems(key)).toEqual([]);
    expect(parseConfig(envOf(key)).profiles[0]!.keySource).toMatchObject({ kind: 'vault-key', name: 'mp-signing' });
    const cert = evaluateAppSettings(await load(), { ...REQUIRED_PARAMS, keySource: 'certificate', maskinportenCertificateName: 'biz-cert', maskinportenCertificateChain: chain });
    expect(contractProblems(cert)).toEqual([]);
    expect(parseConfig(envOf(cert)).profiles[0]!.keySource).toMatchObject({ kind: 'certificate', name: 'biz-cert', chain: [chain] });
  });

  test.each([
    ['a Key Vault key name with the secret source', { maskinportenVaultKeyName: 'k' }, 'MASKINPORTEN_VAULT_KEY (maskinportenVaultKeyName) is set but KEY_SOURCE (keySource) is secret'],
    ['a key secret name with the vault-key source', { keySource: 'vault-key', maskinportenKeySecretName: 'k' }, 'MASKINPORTEN_KEY_SECRET (maskinportenKeySecretName) is set but KEY_SOURCE (keySource) is vault-key'],
    ['a certificate name with the vault-key source', { keySource: 'vault-key', maskinportenCertificateName: 'c' }, 'MASKINPORTEN_CERTIFICATE (maskinportenCertificateName) is set but KEY_SOURCE (keySource) is vault-key'],
    ['a chain without the certificate source', { maskinportenCertificateChain: 'MIIB' }, 'MASKINPORTEN_CERTIFICATE_CHAIN (maskinportenCertificateChain) is set but KEY_SOURCE (keySource) is secret'],
    ['a profile that names a key of another source', { keySource: 'vault-key', extraAppSettings: { PROFILE__billing__MASKINPORTEN_KEY_SECRET: 'billing-key' } }, 'PROFILE__billing__MASKINPORTEN_KEY_SECRET (extraAppSettings) names a key of another source'],
  ])('refuses %s (the name would be ignored, or the broker would lack the roles)', async (_what, params, message) => {
    const all = await load();
    expect(() => evaluateAppSettings(all, { ...REQUIRED_PARAMS, ...params })).toThrow(BicepEvalError);
    expect(() => evaluateAppSettings(all, { ...REQUIRED_PARAMS, ...params })).toThrow(message);
  });

  test('a profile may name its own key of the chosen source', async () => {
    const settings = evaluateAppSettings(await load(), { ...REQUIRED_PARAMS, keySource: 'vault-key', extraAppSettings: { PROFILE__billing__MASKINPORTEN_SCOPES: 'altinn:billing', PROFILE__billing__MASKINPORTEN_VAULT_KEY: 'billing-signing' } });
    expect(contractProblems(settings)).toEqual([]);
    expect(parseConfig(envOf(settings)).profiles.map((p) => p.keySource?.name)).toEqual(['maskinporten-signing', 'billing-signing']);
  });

  test('every literal setting name anywhere in the templates is one the app or the platform reads', async () => {
    const names = collectAppSettings(await load()).flatMap((s) => s.settings.map((x) => x.name).filter((n): n is string => n !== undefined));
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !isKnownSetting(n))).toEqual([]);
  });

  test('the host, telemetry and SDK all use the one user-assigned identity', async () => {
    const all = await load();
    const site = all.flatMap((f) => resourcesOfType(f, 'Microsoft.Web/sites', { existing: false }).map((r) => ({ f, r })))[0]!;
    const scope = scopeFor(site.f, entryScope(all, entryFile(all), REQUIRED_PARAMS));
    const at = (p: string) => String(evaluate(property(site.r.body, p)!, scope));
    expect(at('identity.type')).toBe('UserAssigned');
    expect(at('properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId')).toBe('<identity.id>');
    expect(at('properties.keyVaultReferenceIdentity')).toBe('<identity.id>');
    const main = entryFile(all);
    // The app's one identity; the only other one is the alert rules' (it reads telemetry, the app never does).
    expect(resourcesOfType(main, 'Microsoft.ManagedIdentity/userAssignedIdentities').map((r) => r.symbol)).toEqual(['identity', 'alertIdentity']);
    const principal = (module: string, param: string) => {
      const call = declarations(main).modules.find((m) => m.symbol === module)!;
      return evaluate(property(call.body, `params.${param}`)!, entryScope(all, main, REQUIRED_PARAMS));
    };
    for (const [module, param] of [['keyVaultAccess', 'brokerPrincipalId'], ['tokenVaultAccess', 'brokerPrincipalId'], ['storage', 'identityPrincipalId'], ['monitoring', 'identityPrincipalId']] as const) {
      expect(String(principal(module, param))).toBe('<identity.properties.principalId>');
    }
    expect(String(principal('alerts', 'identityPrincipalId'))).toBe('<alertIdentity.properties.principalId>');
  });
});

describe('the cross-check fails when the contract is broken', () => {
  const SITE_ONLY = (settings: string) => `
@description('x')
param clientId string
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-x'
}
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func'
  properties: {
    siteConfig: {
      appSettings: [
${settings}
      ]
    }
  }
}
`;
  const GOOD = [
    "        { name: 'KEY_VAULT_URL', value: 'https://kv-x.vault.azure.net' }",
    "        { name: 'MASKINPORTEN_CLIENT_ID', value: clientId }",
    "        { name: 'MASKINPORTEN_SCOPES', value: 'altinn:serviceowner' }",
    "        { name: 'MASKINPORTEN_KEY_SECRET', value: 'maskinporten-key' }",
  ];
  const problemsOf = async (lines: string[]) => {
    const file = await parseBicep(SITE_ONLY(lines.join('\n')), 'infra/main.bicep');
    return contractProblems(evaluateAppSettings([file], { clientId: CLIENT_ID }));
  };

  test('a good minimal snippet passes', async () => {
    expect(await problemsOf(GOOD)).toEqual([]);
  });
  test('a forgotten required setting is reported (by name and by parseConfig)', async () => {
    const problems = await problemsOf(GOOD.filter((l) => !l.includes('MASKINPORTEN_SCOPES')));
    expect(problems).toEqual(expect.arrayContaining(['MASKINPORTEN_SCOPES: required by the app but not written', expect.stringMatching(/^MASKINPORTEN_SCOPES: parseConfig says is required/)]));
  });
  test('a misspelt setting name is reported', async () => {
    const problems = await problemsOf([...GOOD, "        { name: 'MASKINPORTEN_SCOPE', value: 'altinn:serviceowner' }"]);
    expect(problems).toEqual([
      'MASKINPORTEN_SCOPE: not a setting the app or the platform reads (misspelt?)',
      'MASKINPORTEN_SCOPE: parseConfig says is not a setting this app reads: did you mean `MASKINPORTEN_SCOPES`?',
    ]);
  });
  test('a misspelt profile setting is reported', async () => {
    expect(await problemsOf([...GOOD, "        { name: 'PROFILE__billing__SCOPES', value: 'x' }"])).toEqual([
      'PROFILE__billing__SCOPES: not a setting the app or the platform reads (misspelt?)',
      expect.stringContaining('PROFILE__billing__SCOPES: parseConfig says is not a profile setting'),
    ]);
  });
  test('a non-string value (a bare boolean) is reported', async () => {
    expect(await problemsOf([...GOOD, "        { name: 'ALTINN_EXCHANGE', value: false }"])).toEqual(['ALTINN_EXCHANGE: value is boolean, app settings are strings']);
  });
  test('a value the app rejects is reported with the parser\'s message', async () => {
    const problems = await problemsOf([...GOOD, "        { name: 'REFRESH_SCHEDULE', value: '*/5 * * * *' }"]);
    expect(problems).toEqual([expect.stringMatching(/^REFRESH_SCHEDULE: parseConfig says must be a 6-field NCRONTAB/)]);
  });
  test('a duplicated setting is reported', async () => {
    expect(await problemsOf([...GOOD, GOOD[2]!])).toEqual(['MASKINPORTEN_SCOPES: written twice']);
  });
  test('a deploy-time value with no representative sample is reported', async () => {
    const problems = await problemsOf([...GOOD, "        { name: 'MASKINPORTEN_KID', value: kv.properties.vaultUri }"].map((l) => l.replace("'https://kv-x.vault.azure.net'", 'kv.properties.vaultUri')));
    expect(problems).toEqual(
      expect.arrayContaining(['KEY_VAULT_URL: comes from kv.properties.vaultUri, expected keyVaultAccess.outputs.uri', 'MASKINPORTEN_KID: deploy-time value kv.properties.vaultUri with no representative sample']),
    );
  });
});

describe('the list of known settings tracks the app', () => {
  test('every app setting name listed here is a string literal in shared/config/', () => {
    const configDir = path.join(REPO_ROOT, 'shared/config');
    const literals = new Set<string>();
    const visit = (n: ts.Node): void => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) literals.add(n.text);
      ts.forEachChild(n, visit);
    };
    for (const name of readdirSync(configDir).filter((f) => f.endsWith('.ts') && f !== 'checks.ts')) {
      const file = path.join(configDir, name);
      visit(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true));
    }
    expect(APP_SETTINGS.filter((name) => !literals.has(name) && !(PROFILE_SETTINGS as readonly string[]).includes(name))).toEqual([]);
  });
  test('every output of main.bicep (azd puts them in the environment) is tolerated by parseConfig', async () => {
    const files = await loadBicepFiles('infra');
    const outputs = declarations(entryFile(files)).outputs.map((o) => o.name);
    expect(outputs).toEqual(expect.arrayContaining(['KEY_SOURCE', 'MASKINPORTEN_VAULT_KEY_NAME', 'MASKINPORTEN_CERTIFICATE_NAME']));
    const env = envOf(evaluateAppSettings(files, REQUIRED_PARAMS));
    const unknown = (extra: Record<string, string>) => {
      try {
        parseConfig({ ...env, ...extra });
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.filter((p) => p.code === 'SETTING_UNKNOWN').map((p) => p.setting);
      }
    };
    expect(unknown({ MASKINPORTEN_VAULT_KEY_NAMES: 'x' })).toEqual(['MASKINPORTEN_VAULT_KEY_NAMES']); // the check can fail
    expect(unknown(Object.fromEntries(outputs.map((name) => [name, 'x'])))).toEqual([]);
  });
  test('removing any required setting makes parseConfig fail naming it', async () => {
    const settings = evaluateAppSettings(await loadBicepFiles('infra'), REQUIRED_PARAMS);
    for (const name of [...REQUIRED, KEY_SOURCE_SETTINGS['secret']!]) {
      const env = envOf(settings.filter((s) => s.name !== name));
      expect(() => parseConfig(env)).toThrow(ConfigError);
      try {
        parseConfig(env);
      } catch (err) {
        expect((err as ConfigError).problems.map((p) => p.setting)).toContain(name);
      }
    }
  });
});
