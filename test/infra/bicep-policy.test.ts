// Runs every policy rule (bicep-policy.ts) over infra/ and shows that each rule fails on a deliberately bad
// snippet: a good snippet passes, and a one-line change to it produces the expected violation.
import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  RULES,
  type Rule,
  actionGroupRule,
  alertRulesRule,
  appInsightsRule,
  appSettingsNoSecretsRule,
  easyAuthRule,
  flexNodeRule,
  hostStorageByIdentityRule,
  keyVaultReadOnlyRule,
  keyVaultRule,
  moduleNamesPerEnvironmentRule,
  outputsUpperSnakeRule,
  paramsDescribedRule,
  roleAssignmentNamesUniqueRule,
  roleAssignmentRule,
  siteRule,
  storageRule,
  tokenReadersPerSecretRule,
  tokenVaultRule,
} from './bicep-policy.js';
import { type BicepFile, loadBicepFiles, parseBicep, syntaxProblems } from './bicep-tree.js';

/** Parses snippets (asserting they are valid syntax, so a violation is never a parse artefact) and runs one rule. */
async function run(rule: Rule, ...sources: (string | [path: string, source: string])[]) {
  const files: BicepFile[] = [];
  for (const s of sources) {
    const [path, source] = typeof s === 'string' ? ['snippet.bicep', s] : s;
    const file = await parseBicep(source, path);
    expect(syntaxProblems(file)).toEqual([]);
    files.push(file);
  }
  const result = rule.check(files);
  return { ...result, messages: result.violations.map((v) => v.message) };
}

/** `good` with exactly one occurrence of `from` replaced by `to` (so each bad snippet differs by one change). */
function variant(good: string, from: string, to: string): string {
  expect(good.split(from).length - 1).toBe(1);
  return good.replace(from, to);
}

async function expectViolation(rule: Rule, source: string, message: string | RegExp) {
  const { messages } = await run(rule, source);
  expect(messages).toEqual(expect.arrayContaining([typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message)]));
}

describe('infra/ satisfies every policy rule', () => {
  let files: BicepFile[];
  beforeAll(async () => {
    files = await loadBicepFiles('infra');
  });

  test.each(RULES.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    const result = rule.check(files);
    expect(result.violations).toEqual([]);
    expect(result.checked).toBeGreaterThan(0); // the rule found something to check
  });
});

// ------------------------------------------------------------------ Key Vault

const VAULT = `
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-x'
  location: 'norwayeast'
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }
}
`;

describe(keyVaultRule.id, () => {
  test('passes a vault with RBAC, soft delete and purge protection', async () => {
    expect(await run(keyVaultRule, VAULT)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails with RBAC off (access policies)', () =>
    expectViolation(keyVaultRule, variant(VAULT, 'enableRbacAuthorization: true', 'enableRbacAuthorization: false'), 'enableRbacAuthorization is false'));
  test('fails without purge protection', () =>
    expectViolation(keyVaultRule, variant(VAULT, '    enablePurgeProtection: true\n', ''), 'enablePurgeProtection is not set'));
  test('fails with soft delete off', () =>
    expectViolation(keyVaultRule, variant(VAULT, 'enableSoftDelete: true', 'enableSoftDelete: false'), 'enableSoftDelete is false'));
  test('fails when a parameter could switch purge protection off', () =>
    expectViolation(
      keyVaultRule,
      `@description('x')\nparam purge bool = true\n${variant(VAULT, 'enablePurgeProtection: true', 'enablePurgeProtection: purge')}`,
      'enablePurgeProtection must be the literal true',
    ));
  test('fails with access policies', () =>
    expectViolation(keyVaultRule, variant(VAULT, 'enableSoftDelete: true', 'enableSoftDelete: true\n    accessPolicies: []'), 'access policies'));
  test('does not judge an existing vault (only vaults it creates)', async () => {
    expect(await run(keyVaultRule, "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {\n  name: 'kv'\n}\n")).toMatchObject({ violations: [], checked: 0 });
  });
});

// ------------------------------------------------------------------ storage

const STORAGE = `
resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stx'
  location: 'norwayeast'
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
  }
}
`;

describe(storageRule.id, () => {
  test('passes a storage account reached by identity only', async () => {
    expect(await run(storageRule, STORAGE)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails with shared key access on', () =>
    expectViolation(storageRule, variant(STORAGE, 'allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'), 'allowSharedKeyAccess is true'));
  test('fails without allowSharedKeyAccess (the default is on)', () =>
    expectViolation(storageRule, variant(STORAGE, '    allowSharedKeyAccess: false\n', ''), 'allowSharedKeyAccess is not set'));
  test('fails with TLS 1.0', () =>
    expectViolation(storageRule, variant(STORAGE, "'TLS1_2'", "'TLS1_0'"), 'minimumTlsVersion is "TLS1_0"'));
  test('fails with public blob access', () =>
    expectViolation(storageRule, variant(STORAGE, 'allowBlobPublicAccess: false', 'allowBlobPublicAccess: true'), 'allowBlobPublicAccess is true'));
});

// ------------------------------------------------------------------ site, plan, settings

const KV_URL_SETTING = "{ name: 'KEY_VAULT_URL', value: 'https://kv-x.vault.azure.net' }";
const SITE = `
var credential = 'managedidentity'
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan'
  location: 'norwayeast'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func'
  location: 'norwayeast'
  kind: 'functionapp,linux'
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: 'stx' }
        { name: 'AzureWebJobsStorage__credential', value: credential }
        { name: 'AzureWebJobsStorage__clientId', value: '00000000-0000-0000-0000-000000000001' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appi.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD' }
        ${KV_URL_SETTING}
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: { type: 'blobContainer', value: 'https://stx.blob.core.windows.net/pkg', authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: 'id' } }
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}
resource appi 'Microsoft.Insights/components@2020-02-02' existing = {
  name: 'appi'
}
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}
resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}
`;
const withSetting = (setting: string, prefix = ''): string => prefix + variant(SITE, KV_URL_SETTING, setting);

describe(siteRule.id, () => {
  test('passes an HTTPS-only, TLS 1.2 site with basic-auth publishing off and no ftpsState', async () => {
    expect(await run(siteRule, SITE)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails when HTTPS is not enforced', () => expectViolation(siteRule, variant(SITE, 'httpsOnly: true', 'httpsOnly: false'), 'httpsOnly is false'));
  test('fails without httpsOnly', () => expectViolation(siteRule, variant(SITE, '    httpsOnly: true\n', ''), 'httpsOnly is not set'));
  test('fails with TLS 1.0', () => expectViolation(siteRule, variant(SITE, "minTlsVersion: '1.2'", "minTlsVersion: '1.0'"), 'minTlsVersion is "1.0"'));
  test('fails with siteConfig.ftpsState set, even to Disabled (Flex Consumption rejects the property)', () =>
    expectViolation(siteRule, variant(SITE, "minTlsVersion: '1.2'", "minTlsVersion: '1.2'\n      ftpsState: 'Disabled'"), 'ftpsState is set; Flex Consumption rejects it'));
  test('fails with FTP basic-auth publishing allowed', () =>
    expectViolation(siteRule, variant(SITE, "name: 'ftp'\n  properties: { allow: false }", "name: 'ftp'\n  properties: { allow: true }"), "basic-auth publishing 'ftp' must have allow: false"));
  test('fails with SCM basic-auth publishing allowed', () =>
    expectViolation(siteRule, variant(SITE, "name: 'scm'\n  properties: { allow: false }", "name: 'scm'\n  properties: { allow: true }"), "basic-auth publishing 'scm' must have allow: false"));
  test('fails without an FTP publishing policy', () =>
    expectViolation(siteRule, variant(SITE, "name: 'ftp'", "name: 'other'"), "no basicPublishingCredentialsPolicies 'ftp'"));
});

describe(flexNodeRule.id, () => {
  test('passes Flex Consumption FC1 with node 22', async () => {
    expect(await run(flexNodeRule, SITE)).toMatchObject({ violations: [], checked: 2 });
  });
  test('fails on node 20', () => expectViolation(flexNodeRule, variant(SITE, "version: '22'", "version: '20'"), 'runtime.version is "20"'));
  test('fails on another runtime', () => expectViolation(flexNodeRule, variant(SITE, "name: 'node'", "name: 'python'"), 'runtime.name is "python"'));
  test('fails on the legacy Consumption plan', () =>
    expectViolation(flexNodeRule, variant(SITE, "{ tier: 'FlexConsumption', name: 'FC1' }", "{ tier: 'Dynamic', name: 'Y1' }"), 'sku.tier is "Dynamic"'));
  test('fails with a legacy setting Flex does not support', () =>
    expectViolation(flexNodeRule, withSetting("{ name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }"), 'FUNCTIONS_WORKER_RUNTIME is not supported'));
});

describe(appSettingsNoSecretsRule.id, () => {
  test('passes identity-based settings and the Entra-only App Insights connection string', async () => {
    expect(await run(appSettingsNoSecretsRule, SITE)).toMatchObject({ violations: [], checked: 6 });
  });
  test.each([
    ['a storage connection string', "{ name: 'STORAGE', value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc' }", 'secret-looking text'],
    ['a SAS', "{ name: 'BLOB_URL', value: 'https://x.blob.core.windows.net/c?sv=2022&SharedAccessSignature=x' }", 'secret-looking text'],
    ['an instrumentation key', "{ name: 'TELEMETRY', value: 'InstrumentationKey=0000' }", 'secret-looking text'],
    ['a password', "{ name: 'DB', value: 'Server=x;password=hunter2' }", 'secret-looking text'],
    ['listKeys() on a resource', "{ name: 'STORAGE_KEY_VALUE', value: st.listKeys().keys[0].value }", 'calls listKeys()'],
    ['the listKeys() function', "{ name: 'STORAGE_KEY_VALUE', value: listKeys(st.id, '2023-05-01').keys[0].value }", 'calls listKeys()'],
    ['a key property', "{ name: 'SEARCH', value: search.properties.primaryKey }", 'reads .primaryKey'],
    ['a connection-string name', "{ name: 'AzureWebJobsStorage', value: 'x' }", 'looks like a secret or connection string'],
    ['a password name', "{ name: 'DB_PASSWORD', value: 'x' }", 'looks like a secret or connection string'],
  ])('fails on %s', (_what, setting, message) => expectViolation(appSettingsNoSecretsRule, withSetting(setting), message));
  test('fails on a @secure() parameter', () =>
    expectViolation(appSettingsNoSecretsRule, withSetting("{ name: 'TOKEN', value: token }", "@secure()\n@description('x')\nparam token string\n"), '@secure() parameter token'));
  test('fails on the App Insights connection string without Entra ingestion', () =>
    expectViolation(appSettingsNoSecretsRule, variant(SITE, 'Authorization=AAD', 'Authorization=None'), 'instrumentation key would be a credential'));
  test('follows a module parameter back to the caller', async () => {
    const main: [string, string] = ['infra/main.bicep', "module app 'modules/app.bicep' = {\n  name: 'app'\n  params: {\n    storageKey: st.listKeys().keys[0].value\n  }\n}\n"];
    const app: [string, string] = ['infra/modules/app.bicep', withSetting("{ name: 'STORAGE_SETTING', value: storageKey }", "@description('x')\nparam storageKey string\n")];
    expect((await run(appSettingsNoSecretsRule, main, app)).messages).toEqual(expect.arrayContaining([expect.stringContaining('calls listKeys()')]));
  });
  test('fails when app settings come from somewhere it cannot follow', () =>
    expectViolation(
      appSettingsNoSecretsRule,
      `@description('x')\nparam externalSettings array\n${variant(SITE, 'appSettings: [', 'appSettings: externalSettings\n      unused: [')}`,
      'cannot be checked: parameter externalSettings is not passed by any module call',
    ));
});

describe(hostStorageByIdentityRule.id, () => {
  test('passes AzureWebJobsStorage__* with managedidentity and identity-based deployment storage', async () => {
    expect(await run(hostStorageByIdentityRule, SITE)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails without AzureWebJobsStorage__credential', () =>
    expectViolation(hostStorageByIdentityRule, variant(SITE, "        { name: 'AzureWebJobsStorage__credential', value: credential }\n", ''), 'AzureWebJobsStorage__credential is missing'));
  test('fails with another credential', () =>
    expectViolation(hostStorageByIdentityRule, variant(SITE, "var credential = 'managedidentity'", "var credential = 'connectionstring'"), "must be 'managedidentity'"));
  test('fails with connection-string deployment storage', () =>
    expectViolation(hostStorageByIdentityRule, variant(SITE, "authentication: { type: 'UserAssignedIdentity'", "authentication: { type: 'StorageAccountConnectionString'"), 'must authenticate with a managed identity'));
});

// ------------------------------------------------------------------ App Insights

const APPI = `
resource appi 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi'
  location: 'norwayeast'
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: log.id
    DisableLocalAuth: true
  }
}
`;

describe(appInsightsRule.id, () => {
  test('passes workspace-based App Insights with local auth disabled', async () => {
    expect(await run(appInsightsRule, APPI)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails with local (key) auth enabled', () =>
    expectViolation(appInsightsRule, variant(APPI, 'DisableLocalAuth: true', 'DisableLocalAuth: false'), 'DisableLocalAuth is false'));
  test('fails without DisableLocalAuth (the key then works)', () =>
    expectViolation(appInsightsRule, variant(APPI, '    DisableLocalAuth: true\n', ''), 'DisableLocalAuth is not set'));
  test('fails for classic (non-workspace) App Insights', () =>
    expectViolation(appInsightsRule, variant(APPI, '    WorkspaceResourceId: log.id\n', ''), 'WorkspaceResourceId is not set'));
});

// ------------------------------------------------------------------ role assignments

const ROLE = `
// Key Vault Secrets Officer: the broker writes the token secret.
var officerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-x'
}
resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stx'
}
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kv.id, 'p', officerRoleId)
  scope: kv
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', officerRoleId)
    principalId: 'p'
    principalType: 'ServicePrincipal'
  }
}
`;

describe(roleAssignmentRule.id, () => {
  test('passes Secrets Officer, from a commented variable, scoped to the vault', async () => {
    expect(await run(roleAssignmentRule, ROLE)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails when scoped to the resource group', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, 'scope: kv', 'scope: resourceGroup()'), 'scope resourceGroup() is too broad'));
  test('fails when scoped to the subscription', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, 'scope: kv', 'scope: subscription()'), 'scope subscription() is too broad'));
  test('fails without a scope (the deployment\'s resource group)', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, '  scope: kv\n', ''), 'no scope'));
  test('fails when a vault role is scoped to another kind of resource', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, 'scope: kv', 'scope: st'), 'Key Vault Secrets Officer is scoped to Microsoft.Storage/storageAccounts'));
  test('fails on an undocumented role (Owner)', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'), 'not one of the documented roles'));
  test('fails on an inline role id', () =>
    expectViolation(
      roleAssignmentRule,
      variant(ROLE, "'Microsoft.Authorization/roleDefinitions', officerRoleId)", "'Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')"),
      'is inline',
    ));
  test('fails on a role id variable without a comment', () =>
    expectViolation(roleAssignmentRule, variant(ROLE, '// Key Vault Secrets Officer: the broker writes the token secret.\n', ''), 'has no comment'));
  test('fails on a role id taken from a parameter', () =>
    expectViolation(
      roleAssignmentRule,
      `@description('x')\nparam roleId string\n${variant(ROLE, "'Microsoft.Authorization/roleDefinitions', officerRoleId)", "'Microsoft.Authorization/roleDefinitions', roleId)")}`,
      'comes from parameter roleId',
    ));
});

// ------------------------------------------------------------------ Easy Auth

const AUTH = `
resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: 'func'
}
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [ '/api/health' ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: { clientId: 'c' }
        validation: {
          allowedAudiences: [ 'api://c' ]
          defaultAuthorizationPolicy: {
            allowedApplications: [ 'a' ]
            allowedPrincipals: { identities: [ 'o' ] }
          }
        }
      }
    }
  }
}
`;

describe(easyAuthRule.id, () => {
  test('passes Entra ID auth that returns 401 and allows only listed callers', async () => {
    expect(await run(easyAuthRule, AUTH)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails when anonymous callers are let through', () =>
    expectViolation(easyAuthRule, variant(AUTH, "'Return401'", "'AllowAnonymous'"), 'unauthenticatedClientAction is "AllowAnonymous"'));
  test('fails when anonymous callers are redirected to a login page', () =>
    expectViolation(easyAuthRule, variant(AUTH, "'Return401'", "'RedirectToLoginPage'"), 'unauthenticatedClientAction is "RedirectToLoginPage"'));
  test('fails when authentication is not required', () =>
    expectViolation(easyAuthRule, variant(AUTH, 'requireAuthentication: true', 'requireAuthentication: false'), 'requireAuthentication is false'));
  test('passes one list alone (Easy Auth ANDs the lists it is given)', async () => {
    expect(await run(easyAuthRule, variant(AUTH, "            allowedApplications: [ 'a' ]\n", ''))).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails with neither list (any caller in the tenant would get in)', () =>
    expectViolation(
      easyAuthRule,
      variant(AUTH, "            allowedApplications: [ 'a' ]\n            allowedPrincipals: { identities: [ 'o' ] }\n", ''),
      'sets neither allowedApplications nor allowedPrincipals.identities',
    ));
  test('follows a policy built from variables, and fails when they hold no list', async () => {
    const built = `var apps = empty(ids) ? {} : {\n  allowedApplications: ids\n}\n@description('x')\nparam ids array\n${variant(AUTH, "{\n            allowedApplications: [ 'a' ]\n            allowedPrincipals: { identities: [ 'o' ] }\n          }", 'union(apps, {})')}`;
    expect(await run(easyAuthRule, built)).toMatchObject({ violations: [], checked: 1 });
    await expectViolation(easyAuthRule, variant(built, '  allowedApplications: ids\n', '  other: ids\n'), 'sets neither');
  });
  test('fails with an empty identities list', () =>
    expectViolation(easyAuthRule, variant(AUTH, "identities: [ 'o' ]", 'identities: []'), 'identities is an empty list'));
  test('fails when the token endpoint is excluded from auth', () =>
    expectViolation(easyAuthRule, variant(AUTH, "[ '/api/health' ]", "[ '/api/health', '/api/token' ]"), "excluded path '/api/token'"));
  test('also checks the nested form (resource auth \'config\' inside the site)', async () => {
    const nested = "resource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'func'\n  resource auth 'config' = {\n    name: 'authsettingsV2'\n    properties: {\n      globalValidation: {\n        unauthenticatedClientAction: 'AllowAnonymous'\n      }\n    }\n  }\n}\n";
    const { messages, checked } = await run(easyAuthRule, nested);
    expect(checked).toBe(1);
    expect(messages).toEqual(expect.arrayContaining([expect.stringContaining('unauthenticatedClientAction is "AllowAnonymous"')]));
  });
});


// ------------------------------------------------------------------ the key vault and the token vault

const VAULTS_MAIN = `
var resourceToken = 'abc'
module keyAccess 'modules/key.bicep' = {
  name: 'key-access-\${resourceToken}'
  params: {
    brokerPrincipalId: 'b'
    adminPrincipalId: 'a'
  }
}
module tokenAccess 'modules/token.bicep' = {
  name: 'token-access-\${resourceToken}'
  params: {
    brokerPrincipalId: 'b'
    readerGrants: []
  }
}
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func'
  properties: {
    siteConfig: {
      appSettings: [
        { name: 'KEY_VAULT_URL', value: keyAccess.outputs.uri }
        { name: 'TOKEN_VAULT_URL', value: tokenAccess.outputs.uri }
      ]
    }
  }
}
`;
const KEY_ACCESS = `
@description('x')
param brokerPrincipalId string
@description('x')
param adminPrincipalId string
// Key Vault Secrets User: the broker reads the key.
var userRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Secrets Officer: the operator uploads the key.
var officerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv'
}
resource broker 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kv.id, brokerPrincipalId, userRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', userRoleId), principalId: brokerPrincipalId }
}
resource admin 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kv.id, adminPrincipalId, officerRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', officerRoleId), principalId: adminPrincipalId }
}
output uri string = kv.properties.vaultUri
`;
const TOKEN_ACCESS = `
@description('x')
param brokerPrincipalId string
@description('x')
param readerGrants array
// Key Vault Secrets Officer: the broker writes tokens.
var officerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Key Vault Secrets User: a consumer reads one token secret.
var userRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var grants = union(readerGrants, [])
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kvt'
}
resource broker 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(kv.id, brokerPrincipalId, officerRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', officerRoleId), principalId: brokerPrincipalId }
}
resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [for grant in grants: {
  parent: kv
  name: grant.secret
}]
resource readers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (grant, i) in grants: {
  name: guid(kv.id, grant.secret, grant.principalId, userRoleId)
  scope: secrets[i]
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', userRoleId), principalId: grant.principalId }
}]
output uri string = kv.properties.vaultUri
`;
const vaultFiles = (main = VAULTS_MAIN, key = KEY_ACCESS, token = TOKEN_ACCESS): [string, string][] => [
  ['infra/main.bicep', main],
  ['infra/modules/key.bicep', key],
  ['infra/modules/token.bicep', token],
];
async function expectVaultViolation(rule: Rule, files: [string, string][], message: string) {
  const { messages } = await run(rule, ...files);
  expect(messages).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
}
const READER_ON_KEY_VAULT = `
@description('x')
param readerIds array
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for id in union(readerIds, []): {
  name: guid(kv.id, id, userRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', userRoleId), principalId: id }
}]
`;

describe('the good two-vault fixture passes every vault rule', () => {
  test.each([keyVaultReadOnlyRule, tokenReadersPerSecretRule, tokenVaultRule, roleAssignmentNamesUniqueRule, moduleNamesPerEnvironmentRule, roleAssignmentRule].map((r) => [r.id, r] as const))(
    '%s',
    async (_id, rule) => {
      const result = await run(rule, ...vaultFiles());
      expect(result.messages).toEqual([]);
      expect(result.checked).toBeGreaterThan(0);
    },
  );
});

describe(keyVaultReadOnlyRule.id, () => {
  test('fails when the broker may write the key vault (Secrets Officer)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS, "userRoleId), principalId: brokerPrincipalId", "officerRoleId), principalId: brokerPrincipalId")),
      'the broker gets Key Vault Secrets Officer on the key vault; it may only read',
    ));
  test('fails when a consumer gets a role on the key vault', () =>
    expectVaultViolation(keyVaultReadOnlyRule, vaultFiles(VAULTS_MAIN, KEY_ACCESS + READER_ON_KEY_VAULT), 'Key Vault Secrets User for a consumer on the key vault'));
  test('fails when the template writes a secret into the key vault', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, `${KEY_ACCESS}resource s 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {\n  parent: kv\n  name: 'x'\n  properties: { value: 'x' }\n}\n`),
      'writes a secret into the key vault',
    ));
  test('fails when KEY_VAULT_URL comes from the token vault module (where the broker writes)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(variant(VAULTS_MAIN, "value: keyAccess.outputs.uri", "value: tokenAccess.outputs.uri")),
      'the broker gets Key Vault Secrets Officer on the key vault',
    ));
  test('fails when KEY_VAULT_URL is not traceable to a module', () =>
    expectVaultViolation(keyVaultReadOnlyRule, vaultFiles(variant(VAULTS_MAIN, "value: keyAccess.outputs.uri", "value: 'https://kv.vault.azure.net'")), 'does not come from a module'));
});

/** A key vault module whose broker roles follow a keySource parameter (as infra/modules/key-vault-access.bicep). */
const KEY_ACCESS_BY_SOURCE = `
@description('x')
@allowed([
  'secret'
  'vault-key'
  'certificate'
])
param keySource string = 'secret'
@description('x')
param brokerPrincipalId string
// Key Vault Secrets User: the broker reads the key secret.
var userRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Crypto User: the broker signs with a key it cannot read.
var cryptoRoleId = '12338af0-0e69-4776-bea7-57ae8d297424'
// Key Vault Reader: the broker reads a certificate's public part.
var readerRoleId = '21090545-7ca7-4776-b22c-e363652d74d2'
// Key Vault Secrets Officer: read and write secrets.
var officerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var readsKeySecret = keySource == 'secret'
var signsInVault = keySource == 'vault-key' || keySource == 'certificate'
var readsCertificate = keySource == 'certificate'
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv'
}
resource brokerUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (readsKeySecret) {
  name: guid(kv.id, brokerPrincipalId, userRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', userRoleId), principalId: brokerPrincipalId }
}
resource brokerCrypto 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (signsInVault) {
  name: guid(kv.id, brokerPrincipalId, cryptoRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cryptoRoleId), principalId: brokerPrincipalId }
}
resource brokerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (readsCertificate) {
  name: guid(kv.id, brokerPrincipalId, readerRoleId)
  scope: kv
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId), principalId: brokerPrincipalId }
}
output uri string = kv.properties.vaultUri
`;

describe(`${keyVaultReadOnlyRule.id}: the broker's roles follow the key source`, () => {
  test('the good per-source module passes, and each allowed source counts as checked', async () => {
    for (const rule of [keyVaultReadOnlyRule, roleAssignmentRule, roleAssignmentNamesUniqueRule]) {
      expect((await run(rule, ...vaultFiles(VAULTS_MAIN, KEY_ACCESS_BY_SOURCE))).messages).toEqual([]);
    }
    // 3 role assignments + 3 key sources.
    expect((await run(keyVaultReadOnlyRule, ...vaultFiles(VAULTS_MAIN, KEY_ACCESS_BY_SOURCE))).checked).toBe(6);
  });
  test('fails when a Key Vault key source can still read secrets (Secrets User kept for vault-key)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "var readsKeySecret = keySource == 'secret'", "var readsKeySecret = keySource != 'certificate'")),
      "with keySource 'vault-key' the broker gets Key Vault Secrets User on the key vault; that source needs exactly Key Vault Crypto User",
    ));
  test('fails when the secrets role is given whatever the source (no condition)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "= if (readsKeySecret) {", '= {')),
      "with keySource 'certificate' the broker gets Key Vault Secrets User on the key vault; that source needs exactly Key Vault Crypto User + Key Vault Reader",
    ));
  test('fails when a certificate source lacks Key Vault Reader (the broker could not read the certificate)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "var readsCertificate = keySource == 'certificate'", "var readsCertificate = keySource == 'vault-key'")),
      "with keySource 'certificate' the broker gets no Key Vault Reader on the key vault",
    ));
  test('fails when a Key Vault key source lacks Crypto User (the broker could not sign)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "var signsInVault = keySource == 'vault-key' || keySource == 'certificate'", "var signsInVault = keySource == 'certificate'")),
      "with keySource 'vault-key' the broker gets no Key Vault Crypto User on the key vault",
    ));
  test('fails when the broker may write secrets for a source (Secrets Officer instead of Secrets User)', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "userRoleId), principalId: brokerPrincipalId", "officerRoleId), principalId: brokerPrincipalId")),
      "with keySource 'secret' the broker gets Key Vault Secrets Officer on the key vault; that source needs exactly Key Vault Secrets User",
    ));
  test('fails on Key Vault Certificate User for a certificate (it can read the certificate\'s secret, the private key)', async () => {
    const files = vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "var readerRoleId = '21090545-7ca7-4776-b22c-e363652d74d2'", "var readerRoleId = 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba'"));
    await expectVaultViolation(keyVaultReadOnlyRule, files, 'the broker gets db79e9a7-68ee-4b58-9aeb-b90e7c24fcba on the key vault; it may only read the key secret');
    await expectVaultViolation(keyVaultReadOnlyRule, files, "with keySource 'certificate' the broker gets no Key Vault Reader on the key vault");
    await expectVaultViolation(roleAssignmentRule, files, 'role id db79e9a7-68ee-4b58-9aeb-b90e7c24fcba is not one of the documented roles');
  });
  test('fails when a broker role depends on something other than the key source', () =>
    expectVaultViolation(
      keyVaultReadOnlyRule,
      vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "var readsCertificate = keySource == 'certificate'", "@description('x')\nparam alsoReader bool\nvar readsCertificate = keySource == 'certificate' || alsoReader")),
      'whether the broker gets this role on the key vault depends on more than keySource',
    ));
  test('fails when keySource allows a source whose roles the policy does not know', () =>
    expectVaultViolation(keyVaultReadOnlyRule, vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS_BY_SOURCE, "  'certificate'\n])", "  'certificate'\n  'hsm'\n])")), 'parameter keySource must be @allowed('));
});

describe(tokenReadersPerSecretRule.id, () => {
  test('fails when a consumer reads the whole token vault', () =>
    expectVaultViolation(tokenReadersPerSecretRule, vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, 'scope: secrets[i]', 'scope: kv')), "a consumer gets a role on the whole Microsoft.KeyVault/vaults 'kv'"));
  test('fails when a consumer reads the whole key vault', () =>
    expectVaultViolation(tokenReadersPerSecretRule, vaultFiles(VAULTS_MAIN, KEY_ACCESS + READER_ON_KEY_VAULT), 'a consumer gets a role on the whole Microsoft.KeyVault/vaults'));
  test('fails when a consumer may write its token secret', () =>
    expectVaultViolation(
      tokenReadersPerSecretRule,
      vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, 'userRoleId), principalId: grant.principalId', 'officerRoleId), principalId: grant.principalId')),
      'a consumer gets Key Vault Secrets Officer; consumers only read',
    ));
});

describe(tokenVaultRule.id, () => {
  test('fails when the broker cannot write the token vault', () =>
    expectVaultViolation(
      tokenVaultRule,
      vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, "officerRoleId), principalId: brokerPrincipalId", "userRoleId), principalId: brokerPrincipalId")),
      'the broker has no Key Vault Secrets Officer on the token vault',
    ));
  test('fails when both settings come from one access module', () =>
    expectVaultViolation(tokenVaultRule, vaultFiles(variant(VAULTS_MAIN, 'value: tokenAccess.outputs.uri', 'value: keyAccess.outputs.uri')), 'come from the same access module'));
});

describe(roleAssignmentNamesUniqueRule.id, () => {
  test('fails when a loop runs over a list that may hold duplicates', () =>
    expectVaultViolation(roleAssignmentNamesUniqueRule, vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, 'var grants = union(readerGrants, [])', 'var grants = readerGrants')), 'may hold duplicates'));
  test('fails when the name leaves out the principal', () =>
    expectVaultViolation(
      roleAssignmentNamesUniqueRule,
      vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, 'guid(kv.id, grant.secret, grant.principalId, userRoleId)', 'guid(kv.id, grant.secret, userRoleId)')),
      'does not include the principal',
    ));
  test('fails when the name is not a guid()', () =>
    expectVaultViolation(roleAssignmentNamesUniqueRule, vaultFiles(VAULTS_MAIN, variant(KEY_ACCESS, 'name: guid(kv.id, adminPrincipalId, officerRoleId)', "name: 'admin'")), 'name must be guid('));
});

describe(moduleNamesPerEnvironmentRule.id, () => {
  test('fails on a fixed nested deployment name', () =>
    expectVaultViolation(moduleNamesPerEnvironmentRule, vaultFiles(variant(VAULTS_MAIN, "name: 'token-access-\${resourceToken}'", "name: 'token-access'")), "module tokenAccess: deployment name 'token-access' does not include resourceToken"));
});

describe(`${roleAssignmentRule.id}: per-secret scopes`, () => {
  test('Secrets User may be scoped to one secret, Secrets Officer may not', async () => {
    expect((await run(roleAssignmentRule, ...vaultFiles())).messages).toEqual([]);
    await expectVaultViolation(
      roleAssignmentRule,
      vaultFiles(VAULTS_MAIN, KEY_ACCESS, variant(TOKEN_ACCESS, 'userRoleId), principalId: grant.principalId', 'officerRoleId), principalId: grant.principalId')),
      'Key Vault Secrets Officer is scoped to Microsoft.KeyVault/vaults/secrets',
    );
  });
});

// ------------------------------------------------------------------ declarations

describe(paramsDescribedRule.id, () => {
  test('passes a described parameter', async () => {
    expect(await run(paramsDescribedRule, "@description('Client id.')\nparam clientId string\n")).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails on a parameter without @description', () => expectViolation(paramsDescribedRule, 'param clientId string\n', 'clientId has no @description'));
  test('fails on an empty @description', () => expectViolation(paramsDescribedRule, "@description('')\nparam clientId string\n", 'clientId has no @description'));
});

describe(outputsUpperSnakeRule.id, () => {
  test('passes UPPER_SNAKE outputs in main.bicep', async () => {
    expect(await run(outputsUpperSnakeRule, ['infra/main.bicep', "output FUNCTION_APP_NAME string = 'x'\n"])).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails on a camelCase output', async () => {
    const { messages } = await run(outputsUpperSnakeRule, ['infra/main.bicep', "output functionAppName string = 'x'\n"]);
    expect(messages).toEqual([expect.stringContaining('functionAppName is not UPPER_SNAKE')]);
  });
  test('fails on an output that exposes keys', async () => {
    const { messages } = await run(outputsUpperSnakeRule, ['infra/main.bicep', 'output STORAGE_KEY string = st.listKeys().keys[0].value\n']);
    expect(messages).toEqual([expect.stringContaining('exposes a list*() result')]);
  });
});

// ------------------------------------------------------------------ alerts

const ALERTS = `
@description('x')
param identityId string
@description('x')
param identityPrincipalId string
@description('x')
@secure()
param webhookUrl string = ''
@description('x')
param emailAddresses array = []

// Log Analytics Reader
var workspaceReaderId = '73c42c96-874c-492b-b04d-ab87d138a893'
// Monitoring Reader
var componentReaderId = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
var emailReceivers = [for (address, i) in emailAddresses: {
  name: 'email-\${i}'
  emailAddress: address
  useCommonAlertSchema: true
}]
var query = '''
customMetrics
| where name == 'broker.refresh'
| extend profile = tostring(customDimensions['broker.profile'])
| summarize failures = count() by profile
'''

resource appi 'Microsoft.Insights/components@2020-02-02' existing = {
  name: 'appi'
}
resource log 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: 'log'
}
resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(log.id, identityPrincipalId, workspaceReaderId)
  scope: log
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', workspaceReaderId)
    principalId: identityPrincipalId
  }
}
resource componentReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appi.id, identityPrincipalId, componentReaderId)
  scope: appi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', componentReaderId)
    principalId: identityPrincipalId
  }
}
resource group 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag'
  location: 'global'
  properties: {
    groupShortName: 'tokenbroker'
    enabled: true
    emailReceivers: emailReceivers
    webhookReceivers: [
      {
        name: 'webhook'
        serviceUri: webhookUrl
        useCommonAlertSchema: true
      }
    ]
  }
}
resource rule 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'rule'
  location: 'norwayeast'
  kind: 'LogAlert'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '\${identityId}': {}
    }
  }
  properties: {
    enabled: true
    severity: 1
    scopes: [
      appi.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
        }
      ]
    }
    actions: {
      actionGroups: [
        group.id
      ]
    }
  }
}
`;

describe(alertRulesRule.id, () => {
  test('passes a rule with its own identity, both reader roles, the component as scope and a contract query', async () => {
    expect(await run(alertRulesRule, ALERTS)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails without a managed identity (the rule would run as whoever last edited it)', () =>
    expectViolation(alertRulesRule, variant(ALERTS, "type: 'UserAssigned'", "type: 'None'"), 'identity.type is "None"'));
  test('fails when the identity cannot read the workspace', () =>
    expectViolation(alertRulesRule, variant(ALERTS, 'scope: log\n', 'scope: appi\n'), 'no Log Analytics Reader role on the workspace'));
  test('fails when the identity cannot read the component', () =>
    expectViolation(alertRulesRule, variant(ALERTS, 'roleDefinitionId: subscriptionResourceId(\'Microsoft.Authorization/roleDefinitions\', componentReaderId)', 'roleDefinitionId: subscriptionResourceId(\'Microsoft.Authorization/roleDefinitions\', workspaceReaderId)'), 'no Monitoring Reader role on the component'));
  test('fails when scoped to the resource group', () =>
    expectViolation(alertRulesRule, variant(ALERTS, '      appi.id\n', '      resourceGroup().id\n'), 'is not an Application Insights component'));
  test('fails when disabled', () => expectViolation(alertRulesRule, variant(ALERTS, '    enabled: true\n    severity', '    enabled: false\n    severity'), 'properties.enabled is false'));
  test('fails without an action group', () =>
    expectViolation(alertRulesRule, variant(ALERTS, '    actions: {\n      actionGroups: [\n        group.id\n      ]\n    }\n', ''), 'actionGroups is not set'));
  test('fails on a misspelt metric name (the rule would never fire)', () =>
    expectViolation(alertRulesRule, variant(ALERTS, "name == 'broker.refresh'", "name == 'broker.refreshes'"), 'metric "broker.refreshes" is not one the broker emits'));
  test('fails on an attribute the metric does not carry', () =>
    expectViolation(alertRulesRule, variant(ALERTS, "customDimensions['broker.profile']", "customDimensions['profile']"), 'attribute "profile" is not one of the metrics it reads'));
  test('fails on a query that does not filter on a metric name', () =>
    expectViolation(alertRulesRule, variant(ALERTS, "| where name == 'broker.refresh'\n", ''), 'without filtering on a metric name'));
});

describe(actionGroupRule.id, () => {
  test('passes a global, enabled group with common-schema receivers and a secure webhook', async () => {
    expect(await run(actionGroupRule, ALERTS)).toMatchObject({ violations: [], checked: 1 });
  });
  test('fails on a webhook URL from a plain parameter', () =>
    expectViolation(actionGroupRule, variant(ALERTS, "@secure()\nparam webhookUrl", 'param webhookUrl'), 'must come from a @secure() parameter'));
  test('fails on a webhook URL written into the template', () =>
    expectViolation(actionGroupRule, variant(ALERTS, 'serviceUri: webhookUrl', "serviceUri: 'https://hooks.example/abc?token=1'"), 'must come from a @secure() parameter'));
  test('fails on an e-mail receiver without the common alert schema (through the variable it comes from)', () =>
    expectViolation(actionGroupRule, variant(ALERTS, '  emailAddress: address\n  useCommonAlertSchema: true\n', '  emailAddress: address\n  useCommonAlertSchema: false\n'), 'emailReceivers does not set useCommonAlertSchema: true'));
  test('fails on a short name over 12 characters', () =>
    expectViolation(actionGroupRule, variant(ALERTS, "groupShortName: 'tokenbroker'", "groupShortName: 'maskinporten-broker'"), 'groupShortName must be a literal of 1-12 characters'));
  test('fails on a regional location', () => expectViolation(actionGroupRule, variant(ALERTS, "location: 'global'", "location: 'norwayeast'"), 'location is "norwayeast"'));
});

describe(`${roleAssignmentRule.id}: the alert identity's reader roles`, () => {
  test('Log Analytics Reader belongs on the workspace, Monitoring Reader on the component', async () => {
    expect((await run(roleAssignmentRule, ALERTS)).violations).toEqual([]);
    await expectViolation(roleAssignmentRule, variant(ALERTS, 'scope: log\n', 'scope: appi\n'), 'Log Analytics Reader is scoped to Microsoft.Insights/components');
  });
});
