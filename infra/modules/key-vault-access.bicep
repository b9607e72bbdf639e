// Data-plane access to the KEY vault (the vault that holds the Maskinporten private key; new or existing, in this
// or another resource group): deploy this module scoped to the vault's resource group. The broker may only read
// secrets here (Key Vault Secrets User); the operator who uploads the key may write. No consumer role is ever
// assigned on this vault: token readers get per-secret roles on the token vault (token-vault-access.bicep).

@description('Name of the key vault (it must exist and use RBAC authorisation).')
param vaultName string

@description('Principal (object) id of the broker\'s user-assigned identity: gets Key Vault Secrets User (read only) to read the private key.')
param brokerPrincipalId string

@description('Optional principal (object) id, e.g. the person deploying, that gets Key Vault Secrets Officer to upload the Maskinporten key. Empty: none.')
param adminPrincipalId string = ''

@description('Principal type of the admin principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param adminPrincipalType string = 'User'

// Key Vault Secrets User: read secret values (the broker reads the private key; it never writes here).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Secrets Officer: read, write and delete secrets (the operator uploads and rotates the key).
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource brokerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, brokerPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
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

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
