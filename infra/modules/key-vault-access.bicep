// Data-plane access to the broker's Key Vault (new or existing, in this or another resource group): deploy
// this module scoped to the vault's resource group. Every role assignment is scoped to the vault itself.

@description('Name of the Key Vault (it must exist and use RBAC authorisation).')
param vaultName string

@description('Principal (object) id of the broker\'s user-assigned identity: gets Key Vault Secrets Officer (it writes the token secret).')
param brokerPrincipalId string

@description('Principal (object) ids that get Key Vault Secrets User so they can read the token secret directly.')
param readerPrincipalIds array = []

@description('Principal type of the readers.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param readerPrincipalType string = 'ServicePrincipal'

@description('Optional principal (object) id, e.g. the person deploying, that gets Key Vault Secrets Officer to upload the Maskinporten key. Empty: none.')
param adminPrincipalId string = ''

@description('Principal type of the admin principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param adminPrincipalType string = 'User'

// Key Vault Secrets Officer: read, write and delete secrets (the broker stores each new token as a secret version).
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Key Vault Secrets User: read secret values (consumers that read the token secret themselves).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource brokerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, brokerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: brokerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource adminSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: adminPrincipalId
    principalType: adminPrincipalType
  }
}

resource readerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for readerId in readerPrincipalIds: {
  name: guid(vault.id, readerId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: readerId
    principalType: readerPrincipalType
  }
}]

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
