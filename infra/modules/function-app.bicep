// The broker's Function App on Flex Consumption (FC1, Linux, Node 22): HTTPS only, TLS 1.2+, FTP and basic
// publishing credentials off (FTP through basicPublishingCredentialsPolicies: Flex Consumption rejects
// siteConfig.ftpsState), one user-assigned identity for host storage, deployment, telemetry and Key Vault, and
// optionally Easy Auth in front (Entra ID, 401 without a valid token, 403 for a caller outside the allow-lists).

@description('Function App name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity (AZURE_CLIENT_ID and host storage).')
param identityClientId string

@description('Storage account used by the host (AzureWebJobsStorage__*) and for the deployment package.')
param storageAccountName string

@description('Blob endpoint of that storage account, e.g. https://st123.blob.core.windows.net/.')
param storageBlobEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights component that receives telemetry (Entra ID auth only).')
param applicationInsightsName string

@description('The app\'s own settings (KEY_VAULT_URL, MASKINPORTEN_*, ...) as [{ name, value }]; the platform settings are added here.')
param appSettings array

@description('Maximum number of instances Flex Consumption may scale out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Turn on Easy Auth in front of the app (main.bicep has checked authClientId and the allowed callers).')
param enableEasyAuth bool = false

@description('Client id of the Entra ID app registration that represents this API (the token audience).')
param authClientId string = ''

@description('Client (application) ids of the callers allowed through Easy Auth, e.g. a consumer\'s managed identity client id. ANDed with allowedCallerObjectIds when both are set.')
param allowedCallerApplicationIds array = []

@description('Object (principal) ids of the caller identities allowed through Easy Auth.')
param allowedCallerObjectIds array = []

var easyAuthEnabled = enableEasyAuth
// Easy Auth ANDs the lists it is given: only the non-empty ones are set, so one list alone is enough to get in.
var allowedApplicationsPolicy = empty(allowedCallerApplicationIds) ? {} : {
  allowedApplications: allowedCallerApplicationIds
}
var allowedPrincipalsPolicy = empty(allowedCallerObjectIds) ? {} : {
  allowedPrincipals: {
    identities: allowedCallerObjectIds
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Identity-based host storage and Entra ID telemetry; no connection string or key reaches an app setting.
var platformSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    // Not a secret: with DisableLocalAuth the instrumentation key alone cannot ingest telemetry.
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsights.properties.ConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(platformSettings, appSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No FTP or SCM basic-auth publishing: deployments authenticate with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// Easy Auth (optional defence in depth; the app checks tokens and app roles itself): only Entra ID tokens for the
// API's audience get through (401 otherwise), and only callers in the allow-lists (403 otherwise). /api/health
// stays open for probes.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (easyAuthEnabled) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/health'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
          defaultAuthorizationPolicy: union(allowedApplicationsPolicy, allowedPrincipalsPolicy)
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output easyAuthEnabled bool = easyAuthEnabled
