// Entry point for `azd up` / `az deployment group create`: the Maskinporten/Altinn token broker on Flex
// Consumption with one user-assigned identity, App Insights (Entra auth), and a new or existing Key Vault.
// Writes the app settings the app's configuration contract (shared/config.ts) reads; outputs for azd.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------- where and what

@description('Name of the azd environment (e.g. dev, prod): part of the resource names\' hash and the azd-env-name tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for all new resources; it must offer Flex Consumption.')
param location string = resourceGroup().location

// ---------------------------------------------------------------- the app's settings

@description('MASKINPORTEN_CLIENT_ID: the client id (integration id) from the Maskinporten self-service portal.')
@minLength(1)
param maskinportenClientId string

@description('MASKINPORTEN_SCOPES: the scopes registered on the client, separated by spaces, e.g. "altinn:serviceowner".')
@minLength(1)
param maskinportenScopes string

@description('MASKINPORTEN_KEY_SECRET: name of the Key Vault secret that holds the base64-encoded private key. Empty: maskinporten-key.')
param maskinportenKeySecretName string = ''

@description('MASKINPORTEN_KID: key id registered in Maskinporten for that key. Empty: the kid inside the stored JWK is used.')
param maskinportenKid string = ''

@description('MASKINPORTEN_ENV: test (test.maskinporten.no, Altinn tt02) or prod (maskinporten.no, Altinn production).')
@allowed([
  'test'
  'prod'
])
param maskinportenEnv string = 'test'

@description('TOKEN_SECRET: name of the Key Vault secret the broker writes the token to. Empty: altinn-token.')
param tokenSecretName string = ''

@description('ALTINN_EXCHANGE: true stores an Altinn token (exchanged from Maskinporten); false stores the Maskinporten token itself.')
param altinnExchange bool = true

@description('REFRESH_SCHEDULE: 6-field NCRONTAB schedule (UTC) of the refresh timer. Empty: 0 */5 * * * * (every 5 minutes).')
param refreshSchedule string = ''

@description('MASKINPORTEN_RESOURCE: audience(s) of the resource server, absolute URIs separated by spaces. Empty: not set.')
param maskinportenResource string = ''

@description('MASKINPORTEN_CONSUMER_ORG: 9-digit org number to act on behalf of (delegation). Empty: not set.')
param maskinportenConsumerOrg string = ''

@description('ALTINN_SYSTEMUSER_ORG: org number of the Altinn system user (0192: prefix optional). Empty: not set.')
param altinnSystemUserOrg string = ''

@description('ALTINN_SYSTEMUSER_EXTERNAL_REF: external reference of the system user; needs altinnSystemUserOrg. Empty: not set.')
param altinnSystemUserExternalRef string = ''

@description('More app settings as { NAME: value }, e.g. named profiles PROFILE__<name>__<SETTING> or HTTP_TIMEOUT_MS. Values are strings; never put a secret value here.')
param extraAppSettings object = {}

// ---------------------------------------------------------------- Key Vault

@description('Name of an existing Key Vault (RBAC authorisation) that holds the Maskinporten key. Empty: create a new vault.')
param existingKeyVaultName string = ''

@description('Resource group of that existing vault (same subscription). Empty: this resource group.')
param existingKeyVaultResourceGroupName string = ''

@description('Principal (object) ids, separated by commas or spaces, that get Key Vault Secrets User on the vault to read the token secret directly.')
param keyVaultReaderPrincipalIds string = ''

@description('Principal type of those readers.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param keyVaultReaderPrincipalType string = 'ServicePrincipal'

@description('Optional principal (object) id, e.g. yours, that gets Key Vault Secrets Officer so it can upload the Maskinporten key. Empty: none.')
param keyVaultAdminPrincipalId string = ''

@description('Principal type of that admin principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param keyVaultAdminPrincipalType string = 'User'

// ---------------------------------------------------------------- Easy Auth (Entra ID in front of the API)

@description('Client id of the Entra ID app registration that represents this API (callers request tokens for api://<id>). Empty: no Easy Auth.')
param authClientId string = ''

@description('Client (application) ids allowed to call, separated by commas or spaces, e.g. the client id of a consumer\'s managed identity.')
param allowedCallerApplicationIds string = ''

@description('Object (principal) ids allowed to call, separated by commas or spaces.')
param allowedCallerObjectIds string = ''

// ---------------------------------------------------------------- scale

@description('Maximum number of Flex Consumption instances (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// ---------------------------------------------------------------- names and defaults

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}
var useExistingVault = !empty(existingKeyVaultName)
var vaultName = useExistingVault ? existingKeyVaultName : 'kv-${resourceToken}'
var vaultResourceGroupName = useExistingVault && !empty(existingKeyVaultResourceGroupName) ? existingKeyVaultResourceGroupName : resourceGroup().name
var deploymentContainerName = 'deployment-package'

var keySecretName = empty(maskinportenKeySecretName) ? 'maskinporten-key' : maskinportenKeySecretName
var tokenSecret = empty(tokenSecretName) ? 'altinn-token' : tokenSecretName
var schedule = empty(refreshSchedule) ? '0 */5 * * * *' : refreshSchedule

var readerIds = filter(split(replace(keyVaultReaderPrincipalIds, ' ', ','), ','), id => !empty(id))
var callerApplicationIds = filter(split(replace(allowedCallerApplicationIds, ' ', ','), ','), id => !empty(id))
var callerObjectIds = filter(split(replace(allowedCallerObjectIds, ' ', ','), ','), id => !empty(id))

// ---------------------------------------------------------------- resources

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.properties.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    identityPrincipalId: identity.properties.principalId
  }
}

module newVault 'modules/key-vault.bicep' = if (!useExistingVault) {
  name: 'key-vault'
  params: {
    name: vaultName
    location: location
    tags: tags
  }
}

module vaultAccess 'modules/key-vault-access.bicep' = {
  name: 'key-vault-access'
  scope: resourceGroup(vaultResourceGroupName)
  params: {
    vaultName: vaultName
    brokerPrincipalId: identity.properties.principalId
    readerPrincipalIds: readerIds
    readerPrincipalType: keyVaultReaderPrincipalType
    adminPrincipalId: keyVaultAdminPrincipalId
    adminPrincipalType: keyVaultAdminPrincipalType
  }
  dependsOn: [
    newVault
  ]
}

// The settings shared/config.ts reads; optional ones only when given (the app applies its defaults).
var requiredAppSettings = [
  {
    name: 'KEY_VAULT_URL'
    value: vaultAccess.outputs.uri
  }
  {
    name: 'MASKINPORTEN_CLIENT_ID'
    value: maskinportenClientId
  }
  {
    name: 'MASKINPORTEN_SCOPES'
    value: maskinportenScopes
  }
  {
    name: 'MASKINPORTEN_KEY_SECRET'
    value: keySecretName
  }
  {
    name: 'MASKINPORTEN_ENV'
    value: maskinportenEnv
  }
  {
    name: 'TOKEN_SECRET'
    value: tokenSecret
  }
  {
    name: 'ALTINN_EXCHANGE'
    value: altinnExchange ? 'true' : 'false'
  }
  {
    // Always written, so the timer's schedule is visible (and changeable) among the app settings.
    name: 'REFRESH_SCHEDULE'
    value: schedule
  }
]
var extraSettings = [for setting in items(extraAppSettings): {
  name: setting.key
  value: string(setting.value)
}]
var kidSetting = empty(maskinportenKid) ? [] : [ { name: 'MASKINPORTEN_KID', value: maskinportenKid } ]
var resourceSetting = empty(maskinportenResource) ? [] : [ { name: 'MASKINPORTEN_RESOURCE', value: maskinportenResource } ]
var consumerOrgSetting = empty(maskinportenConsumerOrg) ? [] : [ { name: 'MASKINPORTEN_CONSUMER_ORG', value: maskinportenConsumerOrg } ]
var systemUserOrgSetting = empty(altinnSystemUserOrg) ? [] : [ { name: 'ALTINN_SYSTEMUSER_ORG', value: altinnSystemUserOrg } ]
var systemUserRefSetting = empty(altinnSystemUserExternalRef) ? [] : [ { name: 'ALTINN_SYSTEMUSER_EXTERNAL_REF', value: altinnSystemUserExternalRef } ]
var appSettings = concat(requiredAppSettings, kidSetting, resourceSetting, consumerOrgSetting, systemUserOrgSetting, systemUserRefSetting, extraSettings)

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: appSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authClientId: authClientId
    allowedCallerApplicationIds: callerApplicationIds
    allowedCallerObjectIds: callerObjectIds
  }
}

// ---------------------------------------------------------------- outputs (azd stores these in .azure/<env>/.env)

output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output TOKEN_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}/api/token'
output KEY_VAULT_NAME string = vaultAccess.outputs.name
output KEY_VAULT_URI string = vaultAccess.outputs.uri
output KEY_VAULT_RESOURCE_GROUP string = vaultResourceGroupName
output MASKINPORTEN_KEY_SECRET_NAME string = keySecretName
output TOKEN_SECRET_NAME string = tokenSecret
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output EASY_AUTH_ENABLED bool = functionApp.outputs.easyAuthEnabled
