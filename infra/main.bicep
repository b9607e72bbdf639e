// Entry point for `azd up` / `az deployment group create`: the Maskinporten/Altinn token broker on Flex
// Consumption with one user-assigned identity, App Insights (Entra auth), a key vault the broker never writes (the
// Maskinporten private key: a secret it reads, or a key or certificate it signs with, per keySource) and a token
// vault it writes (new or existing vaults for either).
// Writes the app settings the app's configuration contract (shared/config/config.ts) reads; outputs for azd.
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

@description('Where the private key lives, in the key vault: secret (MASKINPORTEN_KEY_SECRET, a base64-encoded key in a secret; the default), vault-key (MASKINPORTEN_VAULT_KEY, a non-exportable Key Vault key that signs for the broker) or certificate (MASKINPORTEN_CERTIFICATE, a Key Vault certificate). Writes that one setting and gives the broker exactly the key vault roles that source needs.')
@allowed([
  'secret'
  'vault-key'
  'certificate'
])
param keySource string = 'secret'

@description('MASKINPORTEN_KEY_SECRET (keySource secret): name of the Key Vault secret that holds the base64-encoded private key. Empty: maskinporten-key.')
param maskinportenKeySecretName string = ''

@description('MASKINPORTEN_VAULT_KEY (keySource vault-key): name of the RSA Key Vault key the broker signs with. Empty: maskinporten-signing.')
param maskinportenVaultKeyName string = ''

@description('MASKINPORTEN_CERTIFICATE (keySource certificate): name of the Key Vault certificate (e.g. an enterprise certificate) the broker signs with. Empty: maskinporten-certificate.')
param maskinportenCertificateName string = ''

@description('MASKINPORTEN_CERTIFICATE_CHAIN (keySource certificate): intermediate certificates sent after the leaf in x5c, base64 DER, issuer of the leaf first, separated by spaces or commas. Empty: not set.')
param maskinportenCertificateChain string = ''

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

// ---------------------------------------------------------------- Key Vaults (the key vault and the token vault)

@description('Name of an existing Key Vault (RBAC authorisation) that holds the Maskinporten key (the KEY vault: the broker never writes it). Empty: create kv-<token>.')
param existingKeyVaultName string = ''

@description('Resource group of that existing key vault (same subscription). Empty: this resource group.')
param existingKeyVaultResourceGroupName string = ''

@description('Name of an existing Key Vault (RBAC authorisation) the broker writes the token secrets to (the TOKEN vault). Empty: create kvt-<token>. The same name as existingKeyVaultName puts key and tokens in one vault.')
param existingTokenVaultName string = ''

@description('Resource group of that existing token vault (same subscription). Empty: this resource group.')
param existingTokenVaultResourceGroupName string = ''

@description('Principal (object) ids, separated by commas or spaces, that may read the default profile\'s token secret straight from the token vault (Key Vault Secrets User on that one secret, never on a vault).')
param keyVaultReaderPrincipalIds string = ''

@description('Principal type of those readers.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param keyVaultReaderPrincipalType string = 'ServicePrincipal'

@description('Readers of named profiles\' token secrets, as [{ profile, principalId, principalType? }] (principalType defaults to ServicePrincipal); each gets Key Vault Secrets User on that profile\'s token secret only.')
param tokenSecretReaders array = []

@description('Token secrets an earlier deployment already created in the token vault, separated by commas (azd feeds back the TOKEN_SECRETS_CREATED output): they get no placeholder, so a live token is never replaced.')
param existingTokenSecretNames string = ''

@description('Optional principal (object) id, e.g. yours, that gets Key Vault Secrets Officer on the key vault so it can upload the Maskinporten key. Empty: none.')
param keyVaultAdminPrincipalId string = ''

@description('Principal type of that admin principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param keyVaultAdminPrincipalType string = 'User'

// ---------------------------------------------------------------- callers (Entra ID app roles, checked in code; Easy Auth optional)

@description('Client id of the Entra ID app registration that represents this API. Set: caller authorization in code is on (AUTH_TENANT_ID = this tenant, AUTH_AUDIENCE). Empty: function keys only.')
param authClientId string = ''

@description('AUTH_AUDIENCE: the audience(s) caller tokens must carry, separated by spaces. Empty: api://<authClientId> and <authClientId>.')
param authAudience string = ''

@description('Turn on Easy Auth (App Service authentication) in front of the app as well; needs authClientId and at least one allowed caller.')
param enableEasyAuth bool = false

@description('Easy Auth: client (application) ids allowed to call, separated by commas or spaces, e.g. the client id of a consumer\'s managed identity.')
param allowedCallerApplicationIds string = ''

@description('Easy Auth: object (principal) ids allowed to call, separated by commas or spaces. With both lists set, a caller must be in both.')
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

// ---------------------------------------------------------------- alerts (infra/README.md, "Alerts and runbook")

@description('Deploy the alert rules (log search alerts over the broker\'s metrics in Application Insights) and their action group.')
param enableAlerts bool = true

@description('E-mail addresses the alerts notify, separated by commas or spaces. Empty: no e-mail (the alerts still show in Azure Monitor).')
param alertEmailAddresses string = ''

@description('Webhook the alerts call with the common alert schema (e.g. a Teams or incident tool endpoint). Empty: none. Secure: such URLs often carry a token.')
@secure()
param alertWebhookUrl string = ''

@description('Failed Maskinporten or Altinn calls (retries included) within 15 minutes above which the upstream-errors alert fires.')
@minValue(1)
param alertUpstreamErrorThreshold int = 5

@description('The key-aging alert fires when the signing key or certificate in use expires within this many days.')
@minValue(1)
param alertKeyExpiryDays int = 30

@description('The key-aging alert fires when the signing key or certificate in use is older than this many days.')
@minValue(1)
param alertKeyMaxAgeDays int = 365

@description('The timer-silent alert fires when no timer refresh was reported for this long (ISO 8601); keep it at least two REFRESH_SCHEDULE periods.')
@allowed([
  'PT15M'
  'PT30M'
  'PT45M'
  'PT1H'
  'PT2H'
  'PT3H'
  'PT6H'
])
param alertTimerSilenceWindow string = 'PT30M'

// ---------------------------------------------------------------- names and defaults

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}
var useExistingKeyVault = !empty(existingKeyVaultName)
var keyVaultName = useExistingKeyVault ? existingKeyVaultName : 'kv-${resourceToken}'
var keyVaultResourceGroupName = useExistingKeyVault && !empty(existingKeyVaultResourceGroupName) ? existingKeyVaultResourceGroupName : resourceGroup().name
var useExistingTokenVault = !empty(existingTokenVaultName)
var tokenVaultName = useExistingTokenVault ? existingTokenVaultName : 'kvt-${resourceToken}'
var tokenVaultResourceGroupName = useExistingTokenVault && !empty(existingTokenVaultResourceGroupName) ? existingTokenVaultResourceGroupName : resourceGroup().name
var deploymentContainerName = 'deployment-package'

var keySecretName = empty(maskinportenKeySecretName) ? 'maskinporten-key' : maskinportenKeySecretName
var vaultKeyName = empty(maskinportenVaultKeyName) ? 'maskinporten-signing' : maskinportenVaultKeyName
var certificateName = empty(maskinportenCertificateName) ? 'maskinporten-certificate' : maskinportenCertificateName
var tokenSecret = empty(tokenSecretName) ? 'altinn-token' : tokenSecretName
var schedule = empty(refreshSchedule) ? '0 */5 * * * *' : refreshSchedule

// Lists of ids: split on commas and spaces, drop empties, and union() with an empty list to drop duplicates
// (a principal listed twice would otherwise give two role assignments with one name: a template error).
var readerIds = union(filter(split(replace(keyVaultReaderPrincipalIds, ' ', ','), ','), id => !empty(id)), [])
var callerApplicationIds = union(filter(split(replace(allowedCallerApplicationIds, ' ', ','), ','), id => !empty(id)), [])
var callerObjectIds = union(filter(split(replace(allowedCallerObjectIds, ' ', ','), ','), id => !empty(id)), [])
var alertEmails = union(filter(split(replace(alertEmailAddresses, ' ', ','), ','), address => !empty(address)), [])
var knownTokenSecretNames = union(filter(split(replace(existingTokenSecretNames, ' ', ','), ','), name => !empty(name)), [])

// Profiles configured through extraAppSettings (PROFILE__<name>__<SETTING>), and each profile's token secret as the
// app names it: TOKEN_SECRET, else altinn-token (default) or altinn-token-<name with _ as ->.
var namedProfiles = union(map(filter(items(extraAppSettings), setting => startsWith(setting.key, 'PROFILE__')), setting => (split(setting.key, '__')[1])), [])
var defaultReaderGrants = map(readerIds, id => {
  secret: tokenSecret
  principalId: id
  principalType: keyVaultReaderPrincipalType
})
var namedReaderGrants = map(tokenSecretReaders, reader => {
  secret: reader.profile == 'default' ? tokenSecret : (!contains(namedProfiles, reader.profile) ? fail('tokenSecretReaders: profile "${reader.profile}" is not configured (no PROFILE__${reader.profile}__* setting in extraAppSettings).') : (contains(extraAppSettings, 'PROFILE__${reader.profile}__TOKEN_SECRET') ? string(extraAppSettings['PROFILE__${reader.profile}__TOKEN_SECRET']) : 'altinn-token-${replace(reader.profile, '_', '-')}'))
  principalId: reader.principalId
  principalType: contains(reader, 'principalType') ? reader.principalType : 'ServicePrincipal'
})
// Deduplicated again here and in the module: a principal named twice for one secret gets one role assignment.
var readerGrants = union(defaultReaderGrants, namedReaderGrants)

// Settings that contradict each other stop the deployment with a message instead of silently doing less.
var callersGiven = !empty(callerApplicationIds) || !empty(callerObjectIds)
var authProblemList = [
  !empty(authAudience) && empty(authClientId) ? 'AUTH_AUDIENCE (authAudience) is set but AUTH_CLIENT_ID (authClientId) is not: set the broker\'s app registration client id.' : ''
  enableEasyAuth && empty(authClientId) ? 'ENABLE_EASY_AUTH (enableEasyAuth) is true but AUTH_CLIENT_ID (authClientId) is empty: Easy Auth needs the broker\'s app registration.' : ''
  enableEasyAuth && !callersGiven ? 'ENABLE_EASY_AUTH (enableEasyAuth) is true but no allowed caller is set: set ALLOWED_CALLER_APPLICATION_IDS and/or ALLOWED_CALLER_OBJECT_IDS (with both, a caller must be in both lists).' : ''
  !enableEasyAuth && callersGiven ? 'ALLOWED_CALLER_APPLICATION_IDS / ALLOWED_CALLER_OBJECT_IDS are set but ENABLE_EASY_AUTH (enableEasyAuth) is not true, so they would have no effect: set ENABLE_EASY_AUTH=true, or grant app roles instead (see infra/README.md).' : ''
]
var authProblems = filter(authProblemList, problem => !empty(problem))
var easyAuthEnabled = empty(authProblems) ? enableEasyAuth : fail(join(authProblems, ' '))
var callerAuthorizationEnabled = !empty(authClientId)

// The key source: the one setting that names the key, and no name given for another source (it would be ignored).
// Profiles share the key vault and so the broker's roles there: a profile may not name a key of another source.
var keySourceSettings = {
  secret: 'MASKINPORTEN_KEY_SECRET'
  'vault-key': 'MASKINPORTEN_VAULT_KEY'
  certificate: 'MASKINPORTEN_CERTIFICATE'
}
var keySourceProblemList = [
  keySource != 'secret' && !empty(maskinportenKeySecretName) ? 'MASKINPORTEN_KEY_SECRET (maskinportenKeySecretName) is set but KEY_SOURCE (keySource) is ${keySource}: set KEY_SOURCE=secret, or unset it.' : ''
  keySource != 'vault-key' && !empty(maskinportenVaultKeyName) ? 'MASKINPORTEN_VAULT_KEY (maskinportenVaultKeyName) is set but KEY_SOURCE (keySource) is ${keySource}: set KEY_SOURCE=vault-key, or unset it.' : ''
  keySource != 'certificate' && !empty(maskinportenCertificateName) ? 'MASKINPORTEN_CERTIFICATE (maskinportenCertificateName) is set but KEY_SOURCE (keySource) is ${keySource}: set KEY_SOURCE=certificate, or unset it.' : ''
  keySource != 'certificate' && !empty(maskinportenCertificateChain) ? 'MASKINPORTEN_CERTIFICATE_CHAIN (maskinportenCertificateChain) is set but KEY_SOURCE (keySource) is ${keySource}: the chain belongs to a certificate.' : ''
]
var otherSourceProfileSettings = filter(items(extraAppSettings), setting => startsWith(setting.key, 'PROFILE__') && !endsWith(setting.key, '__${keySourceSettings[keySource]}') && (endsWith(setting.key, '__MASKINPORTEN_KEY_SECRET') || endsWith(setting.key, '__MASKINPORTEN_VAULT_KEY') || endsWith(setting.key, '__MASKINPORTEN_CERTIFICATE')))
var keySourceProblems = concat(filter(keySourceProblemList, problem => !empty(problem)), map(otherSourceProfileSettings, setting => '${setting.key} (extraAppSettings) names a key of another source than KEY_SOURCE (keySource) ${keySource}: the broker\'s roles on the key vault follow KEY_SOURCE, so every profile uses that source.'))
var chosenKeySource = empty(keySourceProblems) ? keySource : fail(join(keySourceProblems, ' '))

// ---------------------------------------------------------------- resources

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// Nested deployment names carry the resource token: two environments in one resource group do not collide.
module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring-${resourceToken}'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.properties.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage-${resourceToken}'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    identityPrincipalId: identity.properties.principalId
  }
}

module newKeyVault 'modules/key-vault.bicep' = if (!useExistingKeyVault) {
  name: 'key-vault-${resourceToken}'
  params: {
    name: keyVaultName
    location: location
    tags: tags
  }
}

module newTokenVault 'modules/key-vault.bicep' = if (!useExistingTokenVault) {
  name: 'token-vault-${resourceToken}'
  params: {
    name: tokenVaultName
    location: location
    tags: tags
  }
}

// The key vault: the broker gets exactly the roles of the key source (reads the key secret, or signs with a key or
// certificate it cannot read); the admin may write; no consumer role here.
module keyVaultAccess 'modules/key-vault-access.bicep' = {
  name: 'key-vault-access-${resourceToken}'
  scope: resourceGroup(keyVaultResourceGroupName)
  params: {
    vaultName: keyVaultName
    keySource: chosenKeySource
    brokerPrincipalId: identity.properties.principalId
    adminPrincipalId: keyVaultAdminPrincipalId
    adminPrincipalType: keyVaultAdminPrincipalType
  }
  dependsOn: [
    newKeyVault
  ]
}

// The token vault: the broker writes the tokens (Secrets Officer); readers get one token secret each.
module tokenVaultAccess 'modules/token-vault-access.bicep' = {
  name: 'token-vault-access-${resourceToken}'
  scope: resourceGroup(tokenVaultResourceGroupName)
  params: {
    vaultName: tokenVaultName
    brokerPrincipalId: identity.properties.principalId
    readerGrants: readerGrants
    existingSecretNames: knownTokenSecretNames
  }
  dependsOn: [
    newTokenVault
  ]
}

// The settings shared/config/config.ts reads; optional ones only when given (the app applies its defaults).
var requiredAppSettings = [
  {
    name: 'KEY_VAULT_URL'
    value: keyVaultAccess.outputs.uri
  }
  {
    name: 'TOKEN_VAULT_URL'
    value: tokenVaultAccess.outputs.uri
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
// The one setting of the key source (exactly one per profile; the app refuses two with SETTING_CONFLICT).
var keySetting = chosenKeySource == 'secret' ? [ { name: 'MASKINPORTEN_KEY_SECRET', value: keySecretName } ] : (chosenKeySource == 'vault-key' ? [ { name: 'MASKINPORTEN_VAULT_KEY', value: vaultKeyName } ] : [ { name: 'MASKINPORTEN_CERTIFICATE', value: certificateName } ])
var chainSetting = empty(maskinportenCertificateChain) ? [] : [ { name: 'MASKINPORTEN_CERTIFICATE_CHAIN', value: maskinportenCertificateChain } ]
var kidSetting = empty(maskinportenKid) ? [] : [ { name: 'MASKINPORTEN_KID', value: maskinportenKid } ]
var resourceSetting = empty(maskinportenResource) ? [] : [ { name: 'MASKINPORTEN_RESOURCE', value: maskinportenResource } ]
var consumerOrgSetting = empty(maskinportenConsumerOrg) ? [] : [ { name: 'MASKINPORTEN_CONSUMER_ORG', value: maskinportenConsumerOrg } ]
var systemUserOrgSetting = empty(altinnSystemUserOrg) ? [] : [ { name: 'ALTINN_SYSTEMUSER_ORG', value: altinnSystemUserOrg } ]
var systemUserRefSetting = empty(altinnSystemUserExternalRef) ? [] : [ { name: 'ALTINN_SYSTEMUSER_EXTERNAL_REF', value: altinnSystemUserExternalRef } ]
// Caller authorization in code: tokens from this tenant for the broker's app registration, roles checked per profile.
var authSettings = !callerAuthorizationEnabled ? [] : [
  {
    name: 'AUTH_TENANT_ID'
    value: tenant().tenantId
  }
  {
    name: 'AUTH_AUDIENCE'
    value: empty(authAudience) ? 'api://${authClientId} ${authClientId}' : authAudience
  }
]
var appSettings = concat(requiredAppSettings, keySetting, chainSetting, kidSetting, resourceSetting, consumerOrgSetting, systemUserOrgSetting, systemUserRefSetting, authSettings, extraSettings)

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app-${resourceToken}'
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
    enableEasyAuth: easyAuthEnabled
    authClientId: authClientId
    allowedCallerApplicationIds: callerApplicationIds
    allowedCallerObjectIds: callerObjectIds
  }
}

// Alert rules over the broker's metrics and an action group. The rules query as their own identity, which may only
// read the telemetry; the broker's identity never gets a reader role.
resource alertIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (enableAlerts) {
  name: 'id-alerts-${resourceToken}'
  location: location
  tags: tags
}

module alerts 'modules/alerts.bicep' = if (enableAlerts) {
  name: 'alerts-${resourceToken}'
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    identityId: alertIdentity.id
    identityPrincipalId: alertIdentity.properties.principalId
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    emailAddresses: alertEmails
    webhookUrl: alertWebhookUrl
    upstreamErrorThreshold: alertUpstreamErrorThreshold
    keyExpiryWarningDays: alertKeyExpiryDays
    keyMaxAgeDays: alertKeyMaxAgeDays
    timerSilenceWindow: alertTimerSilenceWindow
  }
}

// ---------------------------------------------------------------- outputs (azd stores these in .azure/<env>/.env)

output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output TOKEN_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}/api/token'
output KEY_VAULT_NAME string = keyVaultAccess.outputs.name
output KEY_VAULT_URI string = keyVaultAccess.outputs.uri
output KEY_VAULT_RESOURCE_GROUP string = keyVaultResourceGroupName
output TOKEN_VAULT_NAME string = tokenVaultAccess.outputs.name
output TOKEN_VAULT_URI string = tokenVaultAccess.outputs.uri
output TOKEN_VAULT_RESOURCE_GROUP string = tokenVaultResourceGroupName
output TOKEN_SECRETS_CREATED string = join(union(knownTokenSecretNames, tokenVaultAccess.outputs.readableSecretNames), ',')
output MASKINPORTEN_KEY_SECRET_NAME string = keySecretName
output KEY_SOURCE string = keySource
output MASKINPORTEN_VAULT_KEY_NAME string = vaultKeyName
output MASKINPORTEN_CERTIFICATE_NAME string = certificateName
output TOKEN_SECRET_NAME string = tokenSecret
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output CALLER_AUTHORIZATION_ENABLED bool = callerAuthorizationEnabled
output EASY_AUTH_ENABLED bool = functionApp.outputs.easyAuthEnabled
